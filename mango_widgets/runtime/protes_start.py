"""What PROTES needs before its first kernel runs, in one call made where a PROTES optimizer is built.

:func:`prepare_protes_runtime` sets XLA's CPU flags (before jax's backend starts), points jax at
its persistent compilation cache (see :mod:`.xla_cpu`), and loads protes' kernel module.

That module is ``protes.protes``; importing it the ordinary way runs ``protes/__init__.py`` first,
which imports ``protes.animation`` and with it ``matplotlib.pyplot``: about a third of what
PROTES costs to import, paid by every ``mango search`` with a TT method, for an animation helper
the toolkit never calls. The kernels module needs only jax and optax, so it is loaded from its
file directly and registered under its own name: later ``from protes.protes import ...`` and
``importlib.import_module("protes.protes")`` find it in ``sys.modules`` (a later ``import protes``
also uses it). If protes was imported already, or its layout is not the known one, the ordinary
import is used.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from mango_widgets.runtime.xla_cpu import enable_compilation_cache, tune_xla_cpu

#: the module whose functions the PROTES driver reuses
KERNELS = "protes.protes"


def prepare_protes_runtime() -> ModuleType:
    """XLA flags, jax's compilation cache, and protes' kernel module (returned); call before PROTES' first kernel."""
    tune_xla_cpu()  # before jax's backend starts: XLA reads its flags only then
    enable_compilation_cache()
    return protes_kernels()


def protes_kernels() -> ModuleType:
    """The ``protes.protes`` module (``_sample``, ``_likelihood``, ``_interface_matrices``, ...), without matplotlib."""
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


__all__ = ["KERNELS", "prepare_protes_runtime", "protes_kernels"]
