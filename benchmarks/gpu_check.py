"""GPU check: spiking ResNet18 at T=50, plain torch vs SpikingJelly's accelerated LIF backend.

Prepared to run in a few minutes on one GPU; without CUDA it says so and exits 0.

* SpikingJelly 2.x picks the LIF kernels per process, so each backend runs in its own child
  process with ``SJ_LIF_CUDA_IMPLEMENTATION`` set (``torch``, then ``auto`` = CUDA/Triton).
* SpikingJelly 0.0.0.0.14 takes ``backend="torch"`` / ``"cupy"`` per model (CuPy needed).

Both backends run the same weights on the same images; the script reports images per second
(median of repeats, CUDA-synchronised, alternating A/B/A/B) and the largest difference in
output spike rates between backends. Results go to ``--out`` (JSON).

    .venv/bin/python benchmarks/gpu_check.py --out benchmarks/results/gpu_check.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T = 50


def measure(weights: str, backend: str, batches, repeats: int, device: str = "cuda", T: int = T) -> dict:
    """Time ``Network.run`` on the GPU for each batch size; also return the output rates of batch 0."""
    import torch

    from mango_widgets.models import zoo

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    network = zoo.make_network("spiking-resnet18", T=T, weights=weights, device=device, backend=backend)
    images = torch.rand((max(batches),) + network.input_shape, generator=torch.Generator().manual_seed(0)).to(device)
    result = {"backend": network.module.backend, "backend_info": str(network.module.backend_info), "per_batch": {}}
    for batch in batches:
        network.run(images[:batch])  # warm-up: kernel compilation, cuDNN autotune
        sync()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            network.run(images[:batch])
            sync()
            seconds.append(time.perf_counter() - start)
        result["per_batch"][str(batch)] = seconds
    result["output"] = network.run(images[:8])["output"].cpu().tolist()
    return result


def _child(weights: str, env_value: str, batches, repeats: int, device: str, steps: int) -> dict:
    env = {**os.environ, "SJ_LIF_CUDA_IMPLEMENTATION": env_value,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    backend = "torch" if env_value == "torch" else "auto"
    command = [sys.executable, __file__, "--child", weights, backend, str(repeats), device, str(steps), *map(str, batches)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    if done.returncode != 0:
        raise RuntimeError(f"child with SJ_LIF_CUDA_IMPLEMENTATION={env_value} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2, help="A/B alternations")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu_check.json"))
    p.add_argument("--dry-run-cpu", action="store_true", help="check the script on the CPU (T=2, tiny batches)")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        weights, backend, repeats, device, steps, *batches = args.child
        print(json.dumps(measure(weights, backend, [int(b) for b in batches], int(repeats), device, int(steps))))
        return 0
    import torch

    device, steps = ("cpu", 2) if args.dry_run_cpu else ("cuda", T)
    if args.dry_run_cpu:
        args.batch, args.repeats = [2], 1
    elif not torch.cuda.is_available():
        print("gpu_check: no CUDA device here, nothing to measure. Run this script on a GPU machine "
              "(it needs about 3 minutes); on the CPU use benchmarks/throughput.py.")
        return 0
    from mango_widgets.models import zoo
    from mango_widgets.runtime.gpu_backend import cupy_status, describe_backend, spikingjelly_line

    line = spikingjelly_line()
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)"
    print(f"device: {name}; {describe_backend(device)}", flush=True)
    runs = {"torch": [], "accelerated": []}
    with tempfile.TemporaryDirectory() as folder:
        weights = str(Path(folder) / "spiking_resnet18.pt")
        torch.manual_seed(0)
        torch.save(zoo.build_network_module("spiking-resnet18").state_dict(), weights)
        for round_index in range(args.rounds):
            for label in ("torch", "accelerated"):
                if line == "2.x":
                    outcome = _child(weights, "torch" if label == "torch" else "auto", args.batch, args.repeats,
                                     device, steps)
                elif label == "accelerated" and (device != "cuda" or cupy_status() != "ok"):
                    outcome = {"skipped": "needs a CUDA device" if device != "cuda" else cupy_status()}
                else:
                    outcome = measure(weights, "torch" if label == "torch" else "cupy", args.batch, args.repeats,
                                      device, steps)
                runs[label].append(outcome)
                print(f"round {round_index} {label}: {outcome.get('backend', outcome.get('skipped'))}", flush=True)
    summary = {"device": name, "spikingjelly_line": line, "T": steps, "results": {}}
    for label, outcomes in runs.items():
        done = [o for o in outcomes if "per_batch" in o]
        if not done:
            summary["results"][label] = {"skipped": outcomes[0].get("skipped")}
            continue
        summary["results"][label] = {
            "backend": done[0]["backend"], "backend_info": done[0]["backend_info"],
            "images_per_second": {b: round(int(b) / statistics.median(s for o in done for s in o["per_batch"][b]), 1)
                                  for b in done[0]["per_batch"]}}
    a, b = runs["torch"][0], runs["accelerated"][0]
    if "output" in a and "output" in b:
        diff = max(abs(x - y) for ra, rb in zip(a["output"], b["output"]) for x, y in zip(ra, rb))
        summary["max_output_difference"] = diff
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
