"""What a reproduction study computes, in presets: ``ci`` (tiny), ``demo`` (this machine), ``long``
(the demo SNN's 100-epoch run), ``paper``.

One frozen :class:`StudyConfig` describes the whole study: the model family and its checkpoints,
the neurons (layers x evenly spaced units), the searches (methods, seeds, budget), the controls
(warm starts with an equal-budget cold control, the second generator, the random-image baseline)
and the statistics (bootstrap and permutation counts). Any field can be overridden by name
(``mango reproduce --set budget=500``); the config is saved with the results so a rerun resumes
the same study.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Dict, Optional, Tuple

from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.records.atomic import write_json

SCALES = ("ci", "demo", "long", "paper")
MODEL_KINDS = ("demo", "run", "trained")
#: the `long` preset's run: where `mango train-long --model demo-snn --epochs 100` writes by default
LONG_RUN = "~/.cache/mango_widgets/runs/demo-snn"
#: file in the study folder that records the config (``mango reproduce --resume`` reads it)
CONFIG_FILE = "study.json"


@dataclass(frozen=True)
class StudyConfig:
    """Everything the study's numbers depend on (see the module docstring)."""

    scale: str
    out: str
    # ---- the models: "demo" (bundled SNN + DCGAN checkpoints), "run" (a `mango train-long` run, below)
    # ---- or "trained" (networks and generators that the study trains with `mango train`, further below)
    models: str = "demo"
    run: Optional[str] = None  # models="run": a run folder (e.g. ~/.cache/mango_widgets/runs/demo-snn) or bundled run name
    run_generator: str = "demo"  # models="run": "demo", a bundled generator name or a zoo generator file
    T: Optional[int] = None  # exposure (default: as trained)
    # ---- the neurons
    layers: Optional[Tuple[str, ...]] = None  # None: `layer_count` spiking layers evenly spaced (all if None)
    layer_count: Optional[int] = None
    units: int = 8  # per layer, evenly spaced over its channels (all when the layer has fewer)
    epochs: Optional[Tuple[int, ...]] = None  # None: every checkpoint
    # ---- the primary measurement: cold searches
    methods: Tuple[str, ...] = ("tt", "tt-s", "tt-b")
    seeds: int = 3
    budget: int = 300
    # ---- warm starts (a speed-up, measured apart) and their equal-budget cold control
    warm_method: Optional[str] = "tt-b"
    warm_seeds: int = 1
    warm_epochs: Optional[Tuple[int, ...]] = None  # warm starts at these epochs (None: every epoch after the first)
    control_factor: int = 2  # the control is a cold search with control_factor x budget
    # ---- random images through the network at every epoch
    baseline_images: int = 1000
    # ---- the second generator (paper Appendix B: VQ-VAE vs SN-GAN)
    compare_generator: Optional[str] = "vqvae28"  # a zoo generator name, trained by the study unless a file is given
    compare_generator_file: Optional[str] = None
    compare_epochs: Tuple[str, ...] = ("last",)
    compare_train_epochs: int = 15
    # ---- training at paper scale (`models="trained"`)
    dataset: Optional[str] = None
    data_root: Optional[str] = None
    verify_data: bool = True
    network_model: str = "spiking-resnet18"
    network_args: Dict = field(default_factory=dict)
    generator_model: str = "sngan32"
    generator_args: Dict = field(default_factory=dict)
    train_epochs: int = 1000
    generator_epochs: int = 200
    train_limit: Optional[int] = None
    test_limit: Optional[int] = None
    batch_size: int = 64
    device: str = "auto"
    # ---- statistics
    bootstrap: int = 2000
    permutations: int = 2000
    stat_seed: int = 0

    def __post_init__(self):
        if self.scale not in SCALES:
            raise unknown_choice("scale", self.scale, SCALES)
        if self.models not in MODEL_KINDS:
            raise unknown_choice("models", self.models, MODEL_KINDS)
        if self.models == "run" and not self.run:
            raise ConfigError("models='run' needs run= (a `mango train-long` run folder or a bundled run name), e.g. "
                              "--set run='\"~/.cache/mango_widgets/runs/demo-snn\"' after `mango train-long --model demo-snn --epochs 100`")
        for name in ("units", "seeds", "budget", "baseline_images", "bootstrap", "permutations", "control_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
        if not self.methods:
            raise ConfigError("methods: the study needs at least one search method (the paper's stability criterion uses tt, tt-s, tt-b)")
        if self.warm_method is not None and self.warm_method not in self.methods:
            raise ConfigError(f"warm_method {self.warm_method!r} must be one of the study's methods {list(self.methods)}")
        if self.models == "trained" and not self.dataset:
            raise ConfigError("models='trained' needs dataset= (e.g. cifar10) and data_root= (the folder with its files)")

    @property
    def folder(self) -> Path:
        """The study folder."""
        return Path(self.out)

    def to_dict(self) -> dict:
        """The config as plain JSON values."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> StudyConfig:
        """A config from :meth:`to_dict` output; unknown settings are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown study settings {unknown}; settings are: {', '.join(sorted(known))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def save(self) -> Path:
        """Write the config to ``study.json`` in the study folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / CONFIG_FILE
        write_json(path, self.to_dict(), indent=1)
        return path


def load_config(folder) -> StudyConfig:
    """The config saved in a study folder (to resume it)."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{folder} holds no study ({CONFIG_FILE} is missing); "
                          f"start one with `mango reproduce --scale demo --out {folder}`")
    return StudyConfig.from_dict(json.loads(path.read_text()))


def preset(scale: str, out, **overrides) -> StudyConfig:
    """The preset ``scale`` writing to ``out``, with ``overrides`` (field name -> value)."""
    if scale not in SCALES:
        raise unknown_choice("scale", scale, SCALES)
    base = {
        # seconds on one core: the whole chain from searches to figures, for tests
        "ci": dict(layers=("lif2", "lif_out"), units=1, epochs=(1, 6, 12), seeds=2, budget=16, baseline_images=32,
                   compare_train_epochs=1, train_limit=64, bootstrap=200, permutations=200),
        # the committed study: every spiking layer of the demo SNN, all 12 epochs, 3 seeds (docs/reproduction.md)
        "demo": dict(units=8, seeds=3, budget=300, baseline_images=1000, compare_train_epochs=15, warm_epochs=(2, 3, 5, 8, 12)),
        # the demo SNN trained for 100 epochs (`mango train-long --model demo-snn --epochs 100`): the study on
        # log-spaced checkpoints, cold searches only (warm starts and the second generator are in `demo`)
        "long": dict(models="run", run=LONG_RUN, units=6, seeds=3, budget=300, baseline_images=1000,
                     epochs=(1, 3, 12, 30, 60, 100), warm_method=None, compare_generator=None),
        # the paper's setting: spiking ResNet18 (T = 50) and SN-GAN 32 on CIFAR-10, 9 layers x 64 units, every epoch
        "paper": dict(models="trained", dataset="cifar10", layer_count=9, units=64, seeds=3, budget=10_000,
                      baseline_images=1000, compare_generator="vqvae32", compare_train_epochs=100,
                      train_epochs=1000, generator_epochs=200, network_model="spiking-resnet18",
                      generator_model="sngan32"),
    }[scale]
    return StudyConfig(scale=scale, out=str(out), **{**base, **overrides})


def parse_overrides(pairs) -> dict:
    """``["budget=500", "layers=[\\"lif1\\"]"]`` -> {"budget": 500, "layers": ("lif1",)}; values are JSON
    (bare words are strings)."""
    known = {f.name: f for f in fields(StudyConfig)}
    result = {}
    for pair in pairs or ():
        name, sep, text = str(pair).partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in known:
            raise ConfigError(f"cannot read --set {pair!r}: write NAME=VALUE with NAME one of {', '.join(sorted(known))}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        result[name] = tuple(value) if isinstance(value, list) else value
    return result


def with_overrides(config: StudyConfig, **overrides) -> StudyConfig:
    """``config`` with some settings replaced (checked like a new config)."""
    return replace(config, **overrides)
