"""``mango train`` on the command line: arguments -> :class:`TrainConfig` -> :func:`train`.

    mango train --model conv-snn-mnist --dataset mnist --epochs 5 --T 25 --out runs/snn

Bad values are refused before any data is read (exit status 2, with the fix); Ctrl-C or SIGTERM
stops after the checkpoints written so far, which ``--resume`` continues from.
"""
from __future__ import annotations

import argparse
import json
import sys

from mango_widgets.errors import ConfigError, MangoError
from mango_widgets.models import zoo
from mango_widgets.models.training.train import TrainConfig, train


def _key_values(pairs) -> dict:
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
                   help="data folder (default $MANGO_DATA or ~/.cache/mango_widgets/models/mnist_subset)")
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
    args = vars(p.parse_args(argv))
    args["model_args"], args["disc_args"] = _key_values(args["model_args"]), _key_values(args["disc_args"])
    return TrainConfig(**args)


def main(argv=None) -> int:
    """Entry point of ``mango train``; 0 on success, 2 on a usage or data error (printed), 130 when interrupted."""
    from mango_widgets.runtime.signals import interrupt_on_sigterm

    try:
        config = parse_args(argv)
        with interrupt_on_sigterm():
            train(config, progress=lambda msg: print(msg, flush=True))
    except MangoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every checkpoint written so far is whole
        print(f"interrupted: continue with --resume {config.out}/checkpoints/epoch_NNN.pt (the latest there)", file=sys.stderr)
        return 130
    print(f"done: {config.out}/model.pt (+ model.json), metrics.csv, metrics.json, checkpoints/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
