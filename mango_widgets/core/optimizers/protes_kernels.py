"""The one place that touches the ``protes`` package's private kernels.

``protes.protes()`` owns its loop; its pure kernels (``_generate_initial``, ``_interface_matrices``,
``_sample``, ``_likelihood``) are what our steppable driver reuses. They are private API: a
protes release may rename or change them, so they are imported here only, checked for the
signatures we rely on (``tests/test_protes_kernels.py`` guards their behaviour too), and a
clear error says which protes release is known to work.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from mango_widgets.errors import ConfigError

#: the protes release these kernels were checked against
KNOWN_GOOD = "0.3.12"
#: kernel name -> the parameter names our driver calls it with
SIGNATURES = {
    "_generate_initial": ("d", "n", "r", "key"),
    "_interface_matrices": ("Ym", "Yr"),
    "_sample": ("Yl", "Ym", "Yr", "Zm", "key"),
    "_likelihood": ("Yl", "Ym", "Yr", "Zm", "i"),
}


@dataclass(frozen=True)
class Kernels:
    """The four protes kernels: initial TT cores, interface matrices, one sample, one log-likelihood."""

    generate_initial: Callable
    interface_matrices: Callable
    sample: Callable
    likelihood: Callable


@lru_cache(maxsize=1)
def kernels() -> Kernels:
    """The kernels of the installed protes, after checking their signatures."""
    module = importlib.import_module("protes.protes")
    found = {}
    for name, expected in SIGNATURES.items():
        function = getattr(module, name, None)
        params = tuple(inspect.signature(function).parameters) if callable(function) else None
        if params != expected:
            raise ConfigError(
                f"protes.protes.{name} is {'missing' if function is None else f'{name}{params}'}, expected "
                f"{name}({', '.join(expected)}); this protes release changed its private kernels: "
                f"install protes=={KNOWN_GOOD}"
            )
        found[name] = function
    return Kernels(found["_generate_initial"], found["_interface_matrices"], found["_sample"], found["_likelihood"])
