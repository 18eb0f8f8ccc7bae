"""Optimizers behind one ask/tell interface, made by name: ``make_optimizer("tt-b", grid)``."""
from mango_widgets.core.optimizers.base import Optimizer, available, make_optimizer, register

__all__ = ["Optimizer", "available", "make_optimizer", "register"]
