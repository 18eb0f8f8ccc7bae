"""What the paper-scale study (``mango reproduce --scale paper``) costs: measured per-query time on this device.

One query of the study is one SN-GAN 32 image (128-d latent) shown to the spiking ResNet18 for
T = 50 steps, read out at the probed layer. This script measures, on the device at hand:

* images per second of generator + network (``Objective`` batches as the optimizers ask them:
  TT-s 5, TT 10, TT-b 25, and larger batches for a GPU worker that serves several searches),
  CUDA-synchronised, median of ``--repeats`` after a warm-up;
* the FLOPs per image (convolutions and matmuls, ``torch.utils.flop_counter``);
* the optimizer's own time per query (TT-b on the CPU, which is where it runs);

and turns them into the cost of the whole study from the paper preset (layers x units x epochs x
methods x seeds x budget), in GPU-hours and CPU core-hours, written to ``--out`` (JSON).

    .venv/bin/python benchmarks/gpu_reproduce.py                      # on a GPU machine
    .venv/bin/python benchmarks/gpu_reproduce.py --dry-run            # checks the script on the CPU in seconds
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def flops_per_image(network, generator, T: int) -> dict:
    """Convolution and matmul FLOPs of one image through the generator and the network at exposure T."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    index = generator.grid.random(1, np.random.default_rng(0))
    with FlopCounterMode(display=False) as counter:
        image = generator(index)
    generator_flops = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        network.run(image)
    return {"generator": int(generator_flops), "network": int(counter.get_total_flops()), "T": T}


def images_per_second(objective, batches, repeats: int, device: str) -> dict:
    """Median images/s of ``objective.evaluate`` (generator + network, no cache) for each batch size."""
    import numpy as np

    rng = np.random.default_rng(0)
    result = {}
    for batch in batches:
        indices = objective.grid.random(batch, rng)
        objective.evaluate(indices)  # warm-up: kernels, cuDNN autotuning
        _sync(device)
        seconds = []
        for _ in range(repeats):
            indices = objective.grid.random(batch, rng)
            start = time.perf_counter()
            objective.evaluate(indices)
            _sync(device)
            seconds.append(time.perf_counter() - start)
        result[str(batch)] = {"median_seconds": statistics.median(seconds), "images_per_second": batch / statistics.median(seconds),
                              "seconds": seconds}
    return result


def optimizer_seconds_per_query(grid, queries: int, method: str = "tt-b") -> float:
    """CPU seconds per query of the optimizer alone (ask + tell on a cheap synthetic objective)."""
    import numpy as np

    from mango_widgets.core.optimizers import make_optimizer

    optimizer = make_optimizer(method, grid, seed=0, budget=queries)
    weights = np.random.default_rng(1).normal(size=grid.d)
    told, first = 0, None
    start = time.perf_counter()
    while told < queries:
        indices = optimizer.ask()
        optimizer.tell(indices, grid.to_latent(indices) @ weights)
        told += len(indices)
        if first is None:  # the first step includes the JIT compilation: time the steady state
            first, start, told = told, time.perf_counter(), 0
    return (time.perf_counter() - start) / max(told, 1)


def study_cost(per_query_gpu_seconds: float, optimizer_seconds: float, plan: dict) -> dict:
    """GPU-hours and CPU core-hours of the planned study (and per seed) from per-query times."""
    searches = plan["layers"] * plan["units"] * plan["epochs"] * plan["methods"] * plan["seeds"]
    queries = searches * plan["budget"]
    gpu_hours = queries * per_query_gpu_seconds / 3600
    return {"searches": searches, "queries": queries, "gpu_hours": gpu_hours, "gpu_hours_per_seed": gpu_hours / plan["seeds"],
            "optimizer_core_hours": queries * optimizer_seconds / 3600}


def main(argv=None) -> int:
    """Measure and write the cost JSON; 0 on success."""
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto (cuda when present), cuda, cpu")
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--batches", type=int, nargs="+", default=[5, 10, 25, 100, 250])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--width", type=int, default=256, help="SN-GAN generator width (the paper's 256)")
    p.add_argument("--optimizer-queries", type=int, default=2000)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu_reproduce.json"))
    p.add_argument("--dry-run", action="store_true", help="check the script on the CPU: T=2, width 8, batches 2 and 4")
    args = p.parse_args(argv)
    if args.dry_run:
        args.device, args.T, args.batches, args.repeats, args.width, args.optimizer_queries = "cpu", 2, [2, 4], 1, 8, 50
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device

    from mango_widgets.core.objective import Objective
    from mango_widgets.models import zoo
    from mango_widgets.studies.reproduction.config import preset

    network = zoo.make_network("spiking-resnet18", T=args.T, device=device)
    generator = zoo.make_generator("sngan32", width=args.width, device=device)
    probed = [name for name, info in network.layers().items() if info.spiking][-1]
    objective = Objective(generator, network, f"{probed}:0")
    speed = images_per_second(objective, args.batches, args.repeats, device)
    flops = flops_per_image(network, generator, args.T)
    best = max(speed.values(), key=lambda r: r["images_per_second"])
    tt_b = speed.get("25", best)  # one TT-b search alone asks 25 images at a time
    config = preset("paper", "unused")
    plan = {"layers": config.layer_count, "units": config.units, "epochs": config.train_epochs, "methods": len(config.methods),
            "seeds": config.seeds, "budget": config.budget}
    optimizer = optimizer_seconds_per_query(generator.grid, args.optimizer_queries)
    result = {
        "device": device, "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "host": platform.node(), "torch": torch.__version__, "T": args.T, "generator_width": args.width, "dry_run": args.dry_run,
        "probed_layer": probed, "images_per_second": speed, "flops_per_image": flops,
        "optimizer_seconds_per_query": optimizer,
        "paper_plan": plan,
        "cost_one_search_per_gpu_batch_25": study_cost(1 / tt_b["images_per_second"], optimizer, plan),
        "cost_best_batch": {**study_cost(1 / best["images_per_second"], optimizer, plan),
                            "note": "several searches share a GPU worker so its batches are this large"},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("device", "gpu", "flops_per_image", "cost_one_search_per_gpu_batch_25", "cost_best_batch")},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
