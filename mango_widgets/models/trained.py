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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional

from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models.checkpoints import load_state_dict, read_json_manifest, sha256_of
from mango_widgets.models.recipes import recipe

#: version of the run manifest layout
RUN_FORMAT = 1
#: what a run manifest says it is
RUN_KIND = "mango-trained-run"
#: what a bundled generator's manifest says it is
GENERATOR_KIND = "mango-trained-generator"
MANIFEST = "manifest.json"


def bundled_root() -> Path:
    """The package folder that holds the bundled weights."""
    return Path(str(resources.files("mango_widgets.models") / "weights"))


def bundled_names(kind: str = RUN_KIND) -> List[str]:
    """Names of the runs (or, with ``kind=GENERATOR_KIND``, generators) bundled in the package."""
    names = []
    for path in sorted(bundled_root().glob(f"*/{MANIFEST}")):
        try:
            if json.loads(path.read_text()).get("kind") == kind:
                names.append(path.parent.name)
        except json.JSONDecodeError:
            names.append(path.parent.name)  # listed, so that loading it reports the corruption
    return names


def bundled_dir(name: str, kind: str = RUN_KIND) -> Path:
    """The folder of bundled run (or generator) ``name``."""
    folder = bundled_root() / name
    if not (folder / MANIFEST).is_file() or name not in bundled_names(kind):
        known = ", ".join(bundled_names(kind)) or "none"
        how = f"`mango train-long --model {name}` and use run_network(folder)" if kind == RUN_KIND else \
            f"`mango train --model {name}` and use zoo.load(folder / 'model.pt')"
        raise ConfigError(f"no bundled {'run' if kind == RUN_KIND else 'generator'} called {name!r} "
                          f"(bundled: {known}); train it with {how} instead")
    return folder


def read_run(folder) -> dict:
    """The manifest of a run folder (validated: format, kind, recipe)."""
    path = Path(folder).expanduser() / MANIFEST
    manifest = read_json_manifest(path, "not a `mango train-long` run folder (start one with `mango train-long --model NAME --out FOLDER`)",
                                  "re-run `mango train-long` into a new folder")
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


def same_weights_as_bundle(folder, name: str) -> Dict[int, bool]:
    """For every epoch a local run and bundled run ``name`` both trained: are the weights bit-identical?

    The bundle records the sha256 of every epoch of the run it came from, so a run reproduced with
    ``mango train-long`` can be checked epoch by epoch (bit-identical on the same CPU kind and
    thread count; spike thresholds can turn another CPU's float rounding into different weights).
    """
    local, bundled = read_run(folder), read_run(bundled_dir(name))
    if local["recipe"] != bundled["recipe"]:
        raise ConfigError(f"{folder} is a run of {local['recipe']!r}, the bundle {name!r} of {bundled['recipe']!r}")
    reference = bundled.get("full_run_sha256", {e: v["sha256"] for e, v in bundled["epochs"].items()})
    return {int(e): entry["sha256"] == reference[e] for e, entry in local["epochs"].items() if e in reference}


def _ranges(values: List[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts, start = [], None
    for i, v in enumerate(values):
        start = v if start is None else start
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(v) if v == start else f"{start}-{v}")
            start = None
    return ", ".join(parts)


def read_generator_manifest(folder) -> dict:
    """The manifest of a bundled generator folder (zoo entry, builder arguments, sha256, quality numbers)."""
    path = Path(folder).expanduser() / MANIFEST
    manifest = read_json_manifest(path, "not a bundled generator folder "
                                  "(python -m mango_widgets.models.training.generator_bundle writes one)",
                                  "reinstall mango_widgets or bundle it again")
    if manifest.get("kind") != GENERATOR_KIND or manifest.get("format") != RUN_FORMAT:
        raise WeightsError(f"{path} is not a bundled generator manifest (format {RUN_FORMAT})")
    return manifest


def load_generator(folder, device: str = "cpu"):
    """The generator bundled in ``folder`` on its search grid, its file checked against the sha256 first."""
    from mango_widgets.core.space import LatentGrid
    from mango_widgets.models import zoo

    folder = Path(folder).expanduser()
    manifest = read_generator_manifest(folder)
    path = folder / manifest["file"]
    if not path.is_file() or sha256_of(path) != manifest["sha256"]:
        raise WeightsError(f"generator file {path} is missing or corrupt: its sha256 does not match the manifest; "
                           "reinstall mango_widgets or bundle it again (docs/training.md)")
    grid = LatentGrid(**manifest["grid"]) if manifest.get("grid") else None
    generator = zoo.make_generator(manifest["zoo"], weights=path, grid=grid, device=device, **manifest["kwargs"])
    generator.name = f"{folder.name} (trained)"
    return generator


def bundled_generator(name: str, device: str = "cpu"):
    """Bundled generator ``name`` (e.g. the trained ``vqvae28``) on its search grid, sha256-checked."""
    return load_generator(bundled_dir(name, GENERATOR_KIND), device=device)


def _run_folder(run: str) -> Path:
    """A bundled run's folder when ``run`` names one, else ``run`` as a path."""
    return bundled_dir(run) if run in bundled_names() else Path(run).expanduser()


@dataclass(frozen=True)
class TrainedRunSource:
    """A model source (see :mod:`mango_widgets.models.source`): a trained run's epochs plus a generator.

    ``run``: a bundled run name (``"spiking-resnet18-mnist"``) or a run folder; ``generator``:
    ``"demo"`` (the demo DCGAN), a bundled generator name (``"vqvae28"``) or the path of a zoo
    generator file (``mango train``'s ``model.pt`` with its JSON sidecar). Small to pickle: every
    model is built on the worker.
    """

    run: str
    generator_name: str = "demo"
    name: str = ""

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", Path(self.run).name)

    def epochs(self) -> List[int]:
        """Epochs with weights, in order."""
        return run_epochs(_run_folder(self.run))

    def default_T(self) -> int:
        """The T the run was trained at."""
        return int(read_run(_run_folder(self.run))["settings"]["T"])

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts (same at every checkpoint)."""
        network = self.network(self.epochs()[-1], self.default_T())
        return {name: info.units for name, info in network.layers().items()}

    def network(self, epoch: int, T: int) -> Network:
        """The network at ``epoch``, exposed for ``T`` steps (sha256-checked)."""
        return run_network(_run_folder(self.run), epoch=epoch, T=T)

    def generator(self, spacing: str = "uniform"):
        """The generator (``spacing`` applies to continuous grids; codebook grids have none)."""
        if self.generator_name == "demo":
            from mango_widgets.models.bundled import demo_generator

            return demo_generator(spacing=spacing)
        if self.generator_name in bundled_names(GENERATOR_KIND):
            return bundled_generator(self.generator_name)
        from mango_widgets.models import zoo

        path = Path(self.generator_name).expanduser()
        if not path.with_suffix(".pt").is_file():
            raise ConfigError(f"generator {self.generator_name!r} is neither 'demo', a bundled generator "
                              f"({', '.join(bundled_names(GENERATOR_KIND)) or 'none'}) nor a zoo file; "
                              "train one with `mango train --model NAME` and pass its model.pt")
        return zoo.load(path)

    def accuracy(self) -> Dict[int, float]:
        """Held-out accuracy per trained epoch (from the run's manifest)."""
        return run_accuracy(_run_folder(self.run))
