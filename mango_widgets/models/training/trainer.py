"""What one kind of model brings to ``mango train``: its models, their optimizers, an epoch, its files.

A :class:`Trainer` builds the trainable modules and their Adam optimizers (by name, so a checkpoint
stores and restores them), loads the data, trains one epoch and writes the trained model. The run
around it (:class:`~mango_widgets.models.training.run.Run`: epochs, seeds, metrics, checkpoints,
resume) is the same for every kind; network and generator trainers differ only here.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Dict, Tuple

import torch

from mango_widgets.models.datasets import load_dataset


def data_loader(data, config, epoch: int, shuffle: bool = True, drop_last: bool = False) -> torch.utils.data.DataLoader:
    """Batches of ``data`` in the order epoch ``epoch`` of a run with ``config.seed`` shuffles them (reproducible)."""
    generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
    return torch.utils.data.DataLoader(data, batch_size=config.batch_size, shuffle=shuffle, generator=generator,
                                       drop_last=drop_last)


class Trainer(ABC):
    """Trains one kind of model: ``models`` and ``optimizers`` (same keys) on ``train_data``."""

    #: the kind of training, for messages
    kind = "model"
    #: Adam learning rate when --lr is not given
    default_lr = 1e-3

    def __init__(self, config, device: torch.device):
        self.config, self.device = config, device
        self.lr = config.lr or self.default_lr
        self.models: Dict[str, torch.nn.Module] = {}
        self.optimizers: Dict[str, torch.optim.Optimizer] = {}
        self.dataset = self._build()
        c = config
        self.train_data = load_dataset(self.dataset, "train", c.root, c.download, c.verify, c.image_size, limit=c.limit)

    @abstractmethod
    def _build(self) -> str:
        """Make ``models`` and ``optimizers`` (and any data besides the training set); return the dataset name."""

    @abstractmethod
    def image_shape(self) -> Tuple[int, int, int]:
        """The image shape the model takes (a network) or makes (a generator); the data must have it."""

    @abstractmethod
    def epoch(self, epoch: int) -> dict:
        """Train one epoch (1-based); its metrics as plain numbers."""

    @abstractmethod
    def save(self, out: Path) -> None:
        """Write the trained model to ``out/model.pt`` (+ whatever shows it)."""

    def batches(self, data, epoch: int, shuffle: bool = True, drop_last: bool = False):
        return data_loader(data, self.config, epoch, shuffle=shuffle, drop_last=drop_last)
