"""PROTES' kernels (the module ``protes.protes``) without the package's ``__init__``.

``import protes.protes`` runs ``protes/__init__.py`` first, which imports ``protes.animation`` and
with it ``matplotlib.pyplot``: about a third of what PROTES costs to import, paid by every
``mango search`` that uses a TT method, for an animation helper the toolkit never calls. The
kernels module itself needs only jax and optax, so it is loaded from its file directly (once;
a later ``import protes`` finds it in ``sys.modules`` and uses the same module). If protes was
imported already, or its layout changes, the ordinary import is used.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

#: the module whose functions the PROTES driver reuses
KERNELS = "protes.protes"


def protes_kernels() -> ModuleType:
    """The ``protes.protes`` module (``_sample``, ``_likelihood``, ``_interface_matrices``, ...)."""
    if KERNELS in sys.modules or "protes" in sys.modules:
        return importlib.import_module(KERNELS)
    package = importlib.util.find_spec("protes")
    locations = list(package.submodule_search_locations or []) if package is not None else []
    source = Path(locations[0]) / "protes.py" if locations else None
    if source is None or not source.is_file():  # an unexpected layout: the ordinary import
        return importlib.import_module(KERNELS)
    spec = importlib.util.spec_from_file_location(KERNELS, source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[KERNELS] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[KERNELS]
        raise
    return module


__all__ = ["KERNELS", "protes_kernels"]
