"""Training recipes by name: the network a run trains and the settings it trains it with.

A recipe builds the freshly initialised :class:`Network` (module + the preprocessing, T and
time mode the search will probe) from a settings dict, so a run folder's manifest names only
the recipe and its settings, and :mod:`mango_widgets.models.trained` rebuilds "this network at
epoch e" from them without pickled code or import strings. :func:`register_recipe` adds yours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict

from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError
from mango_widgets.models.registry import add_named, named

#: settings every recipe has (the loop in models/training/epochs.py reads them); the limits
#: (None: all) keep that many images spread over a split, for quick runs and tests
COMMON_DEFAULTS = dict(epochs=100, T=20, batch_size=64, lr=1e-3, warmup_steps=100, weight_decay=0.0,
                       max_shift=2, seed=0, dataset="mnist-subset", train_limit=None, heldout_limit=None)


@dataclass(frozen=True)
class Recipe:
    """How to build a trainable classifier network and the settings it is trained with."""

    name: str
    description: str
    network: Callable[..., Network]  # (settings, device="cpu") -> freshly initialised Network
    defaults: dict = field(default_factory=dict)  # COMMON_DEFAULTS overrides + the model's own settings

    def settings(self, overrides: dict) -> dict:
        """The full settings: common defaults, then the recipe's, then ``overrides`` (unknown keys refused)."""
        settings = {**COMMON_DEFAULTS, **self.defaults}
        unknown = sorted(set(overrides) - set(settings))
        if unknown:
            raise ConfigError(f"recipe {self.name!r} has no setting {', '.join(map(repr, unknown))}; "
                              f"its settings are: {', '.join(sorted(settings))}")
        return {**settings, **overrides}


RECIPES: Dict[str, Recipe] = {}


def register_recipe(recipe: Recipe, replace: bool = False) -> Recipe:
    """Add a recipe (``replace=True`` to overwrite one of the same name)."""
    return add_named(RECIPES, recipe, "recipe", replace)


def recipe(name: str) -> Recipe:
    """The recipe called ``name``."""
    return named(RECIPES, name, "recipe")


def _demo_snn(settings: dict, device: str = "cpu") -> Network:
    """The demo snnTorch SNN on raw [0, 1] images, its hidden weights scaled by ``init_gain``."""
    from mango_widgets.models.architectures.demo_snn import demo_snn
    from mango_widgets.models.mnist_subset import MNIST_CLASSES
    from mango_widgets.models.training.demo_snn import scale_init

    module = demo_snn(beta=settings["beta"], threshold=settings["threshold"])
    scale_init(module, settings["init_gain"])
    return Network(module, input_shape=(1, 28, 28), T=settings["T"], classes=list(MNIST_CLASSES), device=device,
                   name="demo-snn")


def _spiking_resnet_mnist(settings: dict, device: str = "cpu") -> Network:
    """The zoo's ``spiking-resnet18-mnist`` (MNIST normalisation inside the Network) at the recipe's width."""
    from mango_widgets.models import zoo

    return zoo.make_network("spiking-resnet18-mnist", T=settings["T"], width=settings["width"],
                            stem=settings["stem"], tau=settings["tau"], device=device)


def _builtin() -> None:
    from mango_widgets.models.architectures import spiking_resnet
    from mango_widgets.models.training.demo_snn import SNN_DEFAULTS

    register_recipe(Recipe(
        "demo-snn", "the bundled demo SNN's recipe (snnTorch conv SNN, LIF beta 0.9, T=20) run for longer",
        _demo_snn, {**SNN_DEFAULTS, "epochs": 100}))
    register_recipe(Recipe(
        "spiking-resnet18-mnist", "SpikingJelly spiking ResNet18 at reduced width on 28x28 digits (multi-step LIF)",
        _spiking_resnet_mnist,
        {"epochs": 30, "T": spiking_resnet.T_MNIST, "width": spiking_resnet.WIDTH_MNIST, "stem": "small",
         "tau": spiking_resnet.TAU}))


_builtin()
