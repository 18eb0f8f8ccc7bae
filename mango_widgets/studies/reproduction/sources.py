"""Model sources of a study: a network family at checkpoint e plus a generator, picklable for Dask.

:class:`TrainedModels` reads what ``mango train`` writes: ``<run>/checkpoints/epoch_NNN.pt``
(resumable training checkpoints; the network's weights are under ``models/model``) with their
JSON sidecars (model name, builder arguments, T, dataset), and a trained zoo generator
(``model.pt`` + ``model.json``). The bundled demo models are
:class:`~mango_widgets.engine.spec.DemoModels`. Both give held-out accuracy per epoch via
:func:`accuracy_by_epoch`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from mango_widgets.errors import ConfigError, WeightsError

_CHECKPOINT = re.compile(r"^epoch_(\d+)\.pt$")


@dataclass(frozen=True)
class TrainedModels:
    """Checkpoints of a ``mango train`` network run plus a trained zoo generator."""

    name: str
    network_run: str
    generator_file: str
    T: Optional[int] = None
    device: str = "cpu"

    def _checkpoints(self) -> Dict[int, Path]:
        folder = Path(self.network_run) / "checkpoints"
        found = {int(m.group(1)): p for p in folder.glob("epoch_*.pt") if (m := _CHECKPOINT.match(p.name))}
        if not found:
            raise WeightsError(f"no checkpoints in {folder}; train the network first (`mango train ... --out {self.network_run}`)")
        return dict(sorted(found.items()))

    def epochs(self) -> List[int]:
        """Epochs with a checkpoint, in order."""
        return list(self._checkpoints())

    def _settings(self, epoch: int) -> dict:
        sidecar = self._checkpoints()[epoch].with_suffix(".json")
        if not sidecar.is_file():
            raise WeightsError(f"{sidecar} is missing: it says which model the checkpoint holds (written by `mango train`)")
        return json.loads(sidecar.read_text())["config"]

    def default_T(self) -> int:
        """Exposure T: the one given, else the one the network was trained with."""
        from mango_widgets.models import zoo

        settings = self._settings(self.epochs()[-1])
        return int(self.T or settings.get("T") or zoo.network_entry(settings["model"]).T)

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts."""
        network = self.network(self.epochs()[-1], self.default_T())
        return {name: info.units for name, info in network.layers().items()}

    def spiking_layers(self) -> List[str]:
        """Spiking layers, shallow to deep."""
        network = self.network(self.epochs()[-1], self.default_T())
        return [name for name, info in network.layers().items() if info.spiking]

    def network(self, epoch: int, T: int):
        """The network at checkpoint ``epoch`` exposed for ``T`` steps."""
        import torch

        from mango_widgets.models import zoo

        checkpoints = self._checkpoints()
        if epoch not in checkpoints:
            raise ConfigError(f"no checkpoint for epoch {epoch} in {self.network_run}; saved epochs are {list(checkpoints)}")
        settings = self._settings(epoch)
        network = zoo.make_network(settings["model"], T=T, dataset=settings.get("dataset"), device=self.device,
                                   **settings.get("model_args", {}))
        state = torch.load(checkpoints[epoch], map_location="cpu", weights_only=True)
        try:
            network.module.load_state_dict(state["models"]["model"])
        except (KeyError, RuntimeError) as error:
            raise WeightsError(f"{checkpoints[epoch]} does not hold weights of {settings['model']}: {error}") from error
        network.name = f"{self.name}@epoch{epoch}"
        return network

    def generator(self, spacing: str):
        """The trained generator (its own grid; ``spacing`` does not apply)."""
        from mango_widgets.models import zoo

        return zoo.load(self.generator_file, device=self.device)

    def accuracy(self) -> Dict[int, float]:
        """Held-out accuracy per epoch from the run's ``metrics.json``."""
        path = Path(self.network_run) / "metrics.json"
        if not path.is_file():
            return {}
        return {int(row["epoch"]): float(row["test_accuracy"]) for row in json.loads(path.read_text()) if "test_accuracy" in row}


def accuracy_by_epoch(source) -> Dict[int, float]:
    """Held-out accuracy per checkpoint of a study's model source ({} when unknown)."""
    if hasattr(source, "accuracy"):
        return source.accuracy()
    from mango_widgets.engine.spec import DemoModels

    if isinstance(source, DemoModels):
        from mango_widgets.models.bundled import demo_accuracy

        return demo_accuracy(source.directory)
    return {}


def spiking_layers(source) -> List[str]:
    """The probe-able spiking layers of a source's network, shallow to deep."""
    if hasattr(source, "spiking_layers"):
        return source.spiking_layers()
    network = source.network(source.epochs()[-1], source.default_T())
    return [name for name, info in network.layers().items() if info.spiking]
