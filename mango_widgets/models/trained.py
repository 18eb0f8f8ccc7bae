"""Trained runs: "this network at epoch e", from a run folder or from the copy bundled in the package.

``mango train-long`` writes a run folder: ``weights/epoch_NNN.pt`` (a state_dict per epoch),
``manifest.json`` (the recipe and its settings, each file's sha256, held-out metrics per epoch)
and ``resume.pt``. A bundled run (``mango_widgets/models/weights/<name>/``) has the same
manifest with only a few epochs' files, plus the sha256 of every epoch of the full run, so a
reproduced run can be checked against it. Every load checks the file's sha256 first.

    network = bundled_network("spiking-resnet18-mnist", epoch=5)
    network = run_network("~/.cache/mango_widgets/runs/demo-snn", epoch=100)
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional

from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models.checkpoints import load_state_dict, sha256_of
from mango_widgets.models.recipes import recipe

#: version of the run manifest layout
RUN_FORMAT = 1
#: what a run manifest says it is
RUN_KIND = "mango-trained-run"
MANIFEST = "manifest.json"


def bundled_root() -> Path:
    """The package folder that holds the bundled weights."""
    return Path(str(resources.files("mango_widgets.models") / "weights"))


def bundled_names() -> List[str]:
    """Names of the runs bundled in the package (folders of weights/ with a run manifest)."""
    return sorted(p.parent.name for p in bundled_root().glob(f"*/{MANIFEST}"))


def bundled_dir(name: str) -> Path:
    """The folder of bundled run ``name``."""
    folder = bundled_root() / name
    if not (folder / MANIFEST).is_file():
        known = ", ".join(bundled_names()) or "none"
        raise ConfigError(f"no bundled run called {name!r} (bundled: {known}); train it with "
                          f"`mango train-long --model {name}` and use run_network(folder) instead")
    return folder


def read_run(folder) -> dict:
    """The manifest of a run folder (validated: format, kind, recipe)."""
    path = Path(folder).expanduser() / MANIFEST
    if not path.is_file():
        raise WeightsError(f"no {MANIFEST} in {path.parent}: not a `mango train-long` run folder "
                           "(start one with `mango train-long --model NAME --out FOLDER`)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise WeightsError(f"{path} is corrupt ({error}); re-run `mango train-long` into a new folder") from error
    if manifest.get("kind") != RUN_KIND or manifest.get("format") != RUN_FORMAT:
        raise WeightsError(f"{path} is not a mango train-long manifest (format {RUN_FORMAT})")
    recipe(manifest["recipe"])  # a run of an unknown recipe cannot be rebuilt
    return manifest


def run_epochs(folder) -> List[int]:
    """Epochs of a run with a weights file, in order."""
    return sorted(int(e) for e in read_run(folder)["epochs"])


def run_metrics(folder) -> Dict[int, dict]:
    """Per-epoch training metrics of a run (every trained epoch, also those not bundled)."""
    return {int(row["epoch"]): row for row in read_run(folder)["metrics"]}


def run_accuracy(folder) -> Dict[int, float]:
    """Held-out accuracy per trained epoch."""
    return {epoch: float(row["heldout_accuracy"]) for epoch, row in run_metrics(folder).items()}


def verify_run(folder) -> List[int]:
    """Check every weights file of a run against its sha256; the verified epochs, or WeightsError."""
    folder = Path(folder).expanduser()
    manifest, problems = read_run(folder), []
    for epoch, entry in sorted(manifest["epochs"].items(), key=lambda item: int(item[0])):
        path = folder / entry["file"]
        if not path.is_file():
            problems.append(f"epoch {epoch}: {entry['file']} is missing")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"epoch {epoch}: {entry['file']} does not match its sha256")
    if problems:
        raise WeightsError(f"run {folder} failed verification: " + "; ".join(problems)
                           + ". Retrain those epochs (`mango train-long` with the same settings) or reinstall")
    return sorted(int(e) for e in manifest["epochs"])


def run_network(folder, epoch: Optional[int] = None, T: Optional[int] = None, device: str = "cpu") -> Network:
    """The network of a run at ``epoch`` (default: the last saved), exposed for ``T`` steps (default: as trained)."""
    folder = Path(folder).expanduser()
    manifest = read_run(folder)
    epochs = sorted(int(e) for e in manifest["epochs"])
    if not epochs:
        raise WeightsError(f"run {folder} has no finished epoch yet")
    epoch = epochs[-1] if epoch is None else int(epoch)
    if epoch not in epochs:
        raise ConfigError(f"no checkpoint for epoch {epoch} in {folder}; saved epochs: {_ranges(epochs)}")
    entry = manifest["epochs"][str(epoch)]
    settings = {**manifest["settings"], **({"T": int(T)} if T is not None else {})}
    network = recipe(manifest["recipe"]).network(settings, device=device)
    load_state_dict(network.module, folder / entry["file"], sha256=entry["sha256"])
    network.module.to(network.device).eval()
    network.name = f"{manifest['recipe']}@epoch{epoch}"
    return network


def bundled_network(name: str, epoch: Optional[int] = None, T: Optional[int] = None, device: str = "cpu") -> Network:
    """A bundled run's network at ``epoch`` (see :func:`bundled_epochs`), sha256-checked."""
    return run_network(bundled_dir(name), epoch=epoch, T=T, device=device)


def bundled_epochs(name: str) -> List[int]:
    """Epochs of bundled run ``name`` whose weights ship with the package."""
    return run_epochs(bundled_dir(name))


def bundled_accuracy(name: str) -> Dict[int, float]:
    """Held-out accuracy of bundled run ``name`` at every trained epoch (bundled or not)."""
    return run_accuracy(bundled_dir(name))


def _ranges(values: List[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts, start = [], None
    for i, v in enumerate(values):
        start = v if start is None else start
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(v) if v == start else f"{start}-{v}")
            start = None
    return ", ".join(parts)
