"""``mango train``: train a zoo network (SNN or ANN classifier) or generator (GAN, VQ-VAE).

    mango train --model conv-snn-mnist --dataset mnist --epochs 5 --T 25 --out runs/snn
    mango train --model sngan32 --dataset cifar10 --epochs 50 --checkpoint-every 5 --out runs/gan
    mango train --model sngan32 --epochs 60 --resume runs/gan/checkpoints/epoch_050.pt --out runs/gan

Every epoch appends a row to ``metrics.csv`` and ``metrics.json`` (loss, accuracy, seconds...);
every ``--checkpoint-every`` epochs (and at the end) a resumable checkpoint (models, optimizers,
epoch; tensors and plain values only, read back with ``weights_only=True``) goes to
``checkpoints/epoch_NNN.pt``. The trained model is written as ``model.pt`` + ``model.json``
(reload with ``mango_widgets.models.zoo.load``); generators also get a ``samples.png`` grid.
Runs are reproducible: epoch e reshuffles and seeds with ``seed * 1000 + e``, so a resumed
run repeats the uninterrupted one. Uses the GPU when there is one (``--device auto``).

This module is the command line and its settings; the run itself is ``training/run.py`` and what
each kind of model trains is a trainer (``network_trainer.py``, ``generator_trainers.py``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from mango_widgets.errors import ConfigError, reports_errors, seed_number, whole_number
from mango_widgets.models import zoo
from mango_widgets.models.training.run import Run
from mango_widgets.runtime.threads import torch_threads


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved with every checkpoint)."""

    model: str
    out: str = "runs/train"
    dataset: Optional[str] = None  # default: the model's own dataset
    root: Optional[str] = None
    download: bool = False
    verify: bool = True
    image_size: Optional[int] = None  # ImageNet crop side
    epochs: int = 10
    T: Optional[int] = None  # default: the network's paper value
    batch_size: int = 64
    lr: Optional[float] = None  # default: the trainer's default_lr (1e-3; GANs 2e-4)
    checkpoint_every: int = 1
    resume: Optional[str] = None
    device: str = "auto"
    limit: Optional[int] = None
    test_limit: Optional[int] = None
    seed: int = 0
    threads: Optional[int] = None
    model_args: Dict = field(default_factory=dict)
    disc_args: Dict = field(default_factory=dict)
    sample_rows: int = 8
    codebook_restart: int = 20  # VQ-VAE: every N steps move unused codebook entries onto encodings (0: never)

    def __post_init__(self):
        """Refuse values that would fail late or train silently wrong (a NaN rate trains nothing)."""
        for name, least in (("epochs", 1), ("batch_size", 1), ("checkpoint_every", 1), ("sample_rows", 1), ("T", 1),
                            ("limit", 1), ("test_limit", 1), ("threads", 1), ("image_size", 8)):
            if getattr(self, name) is not None:
                setattr(self, name, whole_number(getattr(self, name), f"--{name.replace('_', '-')}", minimum=least))
        self.seed = seed_number(self.seed)
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"--lr must be a finite learning rate > 0, got {self.lr!r} (e.g. 1e-3; GANs 2e-4)")


# --------------------------------------------------------------------------- command line
def key_values(pairs) -> dict:
    """``["width=16", "channels=[8,16]"]`` -> {"width": 16, "channels": [8, 16]} (values parsed as JSON)."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"cannot read {pair!r}; write KEY=VALUE, e.g. width=16")
        try:
            result[key] = json.loads(value)
        except json.JSONDecodeError:
            result[key] = value
    return result


def parse_args(argv=None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="mango train", description="Train a zoo network or generator.",
                                epilog="models: " + ", ".join(list(zoo.NETWORKS) + list(zoo.GENERATORS)))
    p.add_argument("--model", required=True, help="zoo name, e.g. conv-snn-mnist, spiking-resnet18, sngan32, vqvae32")
    p.add_argument("--dataset", default=None, help="mnist-subset (offline), mnist, fashion-mnist, cifar10, imagenet "
                                                   "(default: the model's own)")
    p.add_argument("--data-root", dest="root", default=None,
                   help="data folder (default $MANGO_DATA or ~/.cache/mango_widgets/data)")
    p.add_argument("--download", action="store_true", help="let torchvision download missing data (needs network)")
    p.add_argument("--no-verify", dest="verify", action="store_false", help="accept a prepared CIFAR-10 subset (skip md5)")
    p.add_argument("--image-size", type=int, default=None, help="ImageNet crop side (default 224)")
    p.add_argument("--epochs", type=int, default=10, help="train up to this epoch (counts resumed epochs)")
    p.add_argument("--T", type=int, default=None, help="time steps of exposure for SNNs (default: the paper's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-3; GANs 2e-4)")
    p.add_argument("--checkpoint-every", type=int, default=1, help="write a resumable checkpoint every N epochs")
    p.add_argument("--resume", default=None, help="continue from <out>/checkpoints/epoch_NNN.pt")
    p.add_argument("--out", default="runs/train", help="output folder")
    p.add_argument("--device", default="auto", help="auto (GPU when available), cpu, cuda, cuda:1...")
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--model-arg", dest="model_args", action="append", metavar="KEY=VALUE",
                   help="builder argument, e.g. width=64 (repeatable; values are JSON)")
    p.add_argument("--disc-arg", dest="disc_args", action="append", metavar="KEY=VALUE",
                   help="GAN discriminator argument, e.g. width=64")
    p.add_argument("--sample-rows", type=int, default=8, help="generator sample grid is rows x rows")
    p.add_argument("--codebook-restart", type=int, default=20,
                   help="VQ-VAE: every N steps move codebook entries no image used onto encodings (0: never)")
    args = vars(p.parse_args(argv))
    args["model_args"], args["disc_args"] = key_values(args["model_args"]), key_values(args["disc_args"])
    return TrainConfig(**args)


def train(config: TrainConfig, progress: Callable[[str], None] = print) -> list:
    """Run a whole training; returns the per-epoch metrics (torch threads restored afterwards)."""
    with torch_threads(config.threads or None):
        return Run(config, progress).setup().run()


@reports_errors
def main(argv=None) -> int:
    """Entry point of ``mango train``; 0 on success, 2 on a usage or data error (printed), 130 when interrupted."""
    from mango_widgets.runtime.signals import interrupt_on_sigterm

    config = parse_args(argv)
    try:
        with interrupt_on_sigterm():
            train(config, progress=lambda msg: print(msg, flush=True))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every checkpoint written so far is whole
        print(f"interrupted: continue with --resume {config.out}/checkpoints/epoch_NNN.pt (the latest there)", file=sys.stderr)
        return 130
    print(f"done: {config.out}/model.pt (+ model.json), metrics.csv, metrics.json, checkpoints/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
