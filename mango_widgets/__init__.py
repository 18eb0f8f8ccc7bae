"""mango_widgets: most exciting images (MEIs) of SNN and CNN neurons by black-box search.

The core (grid, generator, network probe, objective, optimizers, search) is plain Python;
widgets in :mod:`mango_widgets.widgets` only observe it.
"""
from mango_widgets.core.generator import Generator
from mango_widgets.core.history import MEI, History
from mango_widgets.core.network import LayerInfo, Network
from mango_widgets.core.objective import Objective
from mango_widgets.core.optimizers import Optimizer, available, make_optimizer
from mango_widgets.core.search import Search, SearchEvent
from mango_widgets.core.space import LatentGrid, QuantizedGrid
from mango_widgets.core.targets import ClassTarget, UnitTarget, parse_target
from mango_widgets.errors import ConfigError, MangoError, ModelOutputError, WeightsError

__version__ = "0.1.0"

#: names served lazily from the model floor (importing the package builds no model)
_LAZY = {"demo_network": "mango_widgets.models.bundled", "demo_generator": "mango_widgets.models.bundled"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mango_widgets' has no attribute {name!r}")

__all__ = [
    "ClassTarget", "ConfigError", "Generator", "History", "LatentGrid", "LayerInfo", "MEI",
    "MangoError", "ModelOutputError", "Network", "Objective", "Optimizer", "QuantizedGrid",
    "Search", "SearchEvent", "UnitTarget", "WeightsError", "available", "make_optimizer",
    "parse_target", "demo_generator", "demo_network",
]
