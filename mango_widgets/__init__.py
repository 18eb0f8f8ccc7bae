"""mango_widgets: most exciting images (MEIs) of SNN and CNN neurons by black-box search.

The core (grid, generator, network probe, objective, optimizers, search) is plain Python;
widgets in :mod:`mango_widgets.widgets` only observe it.
"""
from .errors import ConfigError, MangoError, ModelOutputError, WeightsError
from .generators import Generator
from .history import MEI, History
from .network import LayerInfo, Network
from .objective import Objective
from .optimizers import Optimizer, available, make_optimizer
from .search import Search, SearchEvent
from .space import LatentGrid, QuantizedGrid
from .targets import ClassTarget, UnitTarget, parse_target

__version__ = "0.1.0"

__all__ = [
    "ClassTarget", "ConfigError", "Generator", "History", "LatentGrid", "LayerInfo", "MEI",
    "MangoError", "ModelOutputError", "Network", "Objective", "Optimizer", "QuantizedGrid",
    "Search", "SearchEvent", "UnitTarget", "WeightsError", "available", "make_optimizer",
    "parse_target",
]
