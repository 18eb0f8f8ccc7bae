"""One ``mango train`` run: epochs, reproducible seeds, metrics files, resumable checkpoints.

The same for every kind of model; what differs (models, optimizers, an epoch, the saved model) is
the :class:`~mango_widgets.models.training.trainer.Trainer` that :func:`trainer_for` picks from the zoo.
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch

from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models import zoo
from mango_widgets.models.checkpoints import read_checkpoint
from mango_widgets.models.training.generator_trainers import GENERATOR_TRAINERS
from mango_widgets.models.training.network_trainer import ClassifierTrainer
from mango_widgets.models.training.trainer import Trainer
from mango_widgets.records.atomic import write_json, write_text, write_torch

#: version of the resumable checkpoint layout
CHECKPOINT_FORMAT = 1


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but torch sees no CUDA device; use --device auto or cpu")
    return torch.device(device)


def trainer_for(config, device: torch.device) -> Trainer:
    """The trainer of ``config.model``: a classifier for zoo networks, the entry's loop for zoo generators."""
    name = config.model
    if name in zoo.NETWORKS:
        return ClassifierTrainer(config, device)
    if name in zoo.GENERATORS:
        loop = zoo.GENERATORS[name].trainer
        if loop not in GENERATOR_TRAINERS:
            raise ConfigError(f"generator {name!r} names the training loop {loop!r}; known loops: {', '.join(GENERATOR_TRAINERS)}")
        return GENERATOR_TRAINERS[loop](config, device)
    raise ConfigError(f"unknown model {name!r}; networks: {', '.join(zoo.NETWORKS)}; "
                      f"generators: {', '.join(zoo.GENERATORS)}")


class Run:
    """One training run: builds its trainer, steps epochs, writes metrics, checkpoints and the model."""

    def __init__(self, config, progress: Callable[[str], None] = print):
        self.config, self.progress = config, progress
        self.device = resolve_device(config.device)
        self.out = Path(config.out)
        self.metrics: list = []
        self.start_epoch = 1

    # ------------------------------------------------------------- setup
    def setup(self) -> Run:
        torch.manual_seed(self.config.seed)
        self.trainer = trainer_for(self.config, self.device)
        self._check_shapes()
        if self.config.resume:
            self._resume(Path(self.config.resume))
        return self

    def _check_shapes(self) -> None:
        image, expected = self.trainer.train_data[0][0], self.trainer.image_shape()
        if tuple(image.shape) != tuple(expected):
            raise ConfigError(f"{self.trainer.dataset} images are {tuple(image.shape)} but {self.config.model} takes {tuple(expected)}; "
                              "pick a dataset of the right size or change the model's image size")

    # ------------------------------------------------------------- checkpoints
    def _checkpoint_path(self, epoch: int) -> Path:
        return self.out / "checkpoints" / f"epoch_{epoch:03d}.pt"

    def save_checkpoint(self, epoch: int) -> Path:
        """Models, optimizers and epoch (tensors and plain values only) + a JSON sidecar with config and metrics."""
        path = self._checkpoint_path(epoch)  # written atomically: a kill mid-save keeps the previous checkpoints whole
        write_torch(path, {"format": CHECKPOINT_FORMAT, "epoch": epoch,
                           "models": {k: m.state_dict() for k, m in self.trainer.models.items()},
                           "optimizers": {k: o.state_dict() for k, o in self.trainer.optimizers.items()}})
        write_json(path.with_suffix(".json"), {"config": asdict(self.config), "epoch": epoch, "metrics": self.metrics}, indent=1)
        return path

    def _resume(self, path: Path) -> None:
        if not path.is_file():
            raise WeightsError(f"checkpoint {path} does not exist; checkpoints are in <out>/checkpoints/epoch_NNN.pt")
        sidecar = path.with_suffix(".json")
        try:
            saved = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise WeightsError(f"{sidecar} is damaged ({error}); resume from an earlier checkpoint") from None
        if saved and saved["config"]["model"] != self.config.model:
            raise ConfigError(f"{path} is a checkpoint of {saved['config']['model']!r}, not {self.config.model!r}")
        state = read_checkpoint(path, map_location=self.device)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise WeightsError(f"{path} is not a `mango train` checkpoint (use zoo.load / weights= for plain weights)")
        for key, module in self.trainer.models.items():
            missing, unexpected = module.load_state_dict(state["models"][key], strict=False)
            if missing or unexpected:
                raise WeightsError(f"checkpoint {path} does not fit {self.config.model} ({key}): missing {missing[:5]}, "
                                   f"unexpected {unexpected[:5]}; were --model-arg values different?")
            self.trainer.optimizers[key].load_state_dict(state["optimizers"][key])
        self.start_epoch = int(state["epoch"]) + 1
        self.metrics = [m for m in saved.get("metrics", []) if m["epoch"] < self.start_epoch]
        self.progress(f"resumed from {path} (epoch {state['epoch']})")

    # ------------------------------------------------------------- epochs
    def run(self) -> list:
        """Train up to ``config.epochs``; returns every epoch's metrics (resumed ones included)."""
        c = self.config
        if c.epochs < self.start_epoch:
            raise ConfigError(f"--epochs {c.epochs} is not after the resumed epoch {self.start_epoch - 1}; raise --epochs")
        if c.checkpoint_every < 1:
            raise ConfigError(f"--checkpoint-every must be >= 1, got {c.checkpoint_every}")
        self.out.mkdir(parents=True, exist_ok=True)
        for epoch in range(self.start_epoch, c.epochs + 1):
            torch.manual_seed(c.seed * 1000 + epoch)
            t0 = time.perf_counter()
            row = {"epoch": epoch, **self.trainer.epoch(epoch)}
            row["seconds"] = round(time.perf_counter() - t0, 3)
            self.metrics.append(row)
            self._write_metrics()
            self.progress(f"{c.model} epoch {epoch}/{c.epochs}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "epoch"))
            if epoch % c.checkpoint_every == 0 or epoch == c.epochs:
                self.save_checkpoint(epoch)
        self.trainer.save(self.out)
        return self.metrics

    def _write_metrics(self) -> None:
        write_json(self.out / "metrics.json", self.metrics, indent=1)
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=list(dict.fromkeys(k for row in self.metrics for k in row)))
        writer.writeheader()
        writer.writerows(self.metrics)
        write_text(self.out / "metrics.csv", text.getvalue())
