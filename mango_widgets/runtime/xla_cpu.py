"""XLA CPU settings that make PROTES' small sequential kernels several times faster.

PROTES samples, and differentiates its likelihood, with ``lax.scan`` loops of hundreds of tiny
steps (768 for TT-b on the 128 x 64 grid). On jaxlib >= 0.4.32 the CPU "thunk runtime" and
Eigen's thread pool add per-step overhead that dominates such loops:
``benchmarks/optimizer_overhead.py`` measures TT-b's ask/tell at about a third of its default
cost with both turned off, with the same asked indices. XLA reads ``XLA_FLAGS`` once, when
jax's CPU backend starts, so :func:`tune_xla_cpu` must run before the first jax computation;
it is called when a PROTES optimizer is built, never at import.

Numerics: without the thunk runtime XLA computes bit for bit the same numbers; single-threaded
Eigen sums in a different order, so the last bits differ and a seed's trajectory separates from
an untuned process's after some dozens of iterations (both are deterministic run to run, and the
single-threaded one does not depend on the machine's core count).
``MANGO_XLA_TUNING``: unset or ``1`` both flags; ``exact`` only the bit-identical one (to
reproduce runs made without tuning); ``0`` none. A flag the user already put in ``XLA_FLAGS``
is left as the user set it. Only jaxlib versions known to accept the flags are tuned (unknown
flags abort the process).

Start-up: :func:`enable_compilation_cache` points jax's persistent compilation cache at a user
cache folder (``MANGO_JAX_CACHE``), so only the first process on a machine pays PROTES' compile.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, Optional

from mango_widgets.errors import ConfigError

#: environment variable choosing the tuning: ``1`` (default), ``exact`` or ``0``
TUNING_ENV = "MANGO_XLA_TUNING"
#: environment variable naming jax's compilation cache folder (``0``: no cache)
CACHE_ENV = "MANGO_JAX_CACHE"
#: flags that leave XLA's numbers bit for bit unchanged
EXACT_FLAGS: Dict[str, str] = {"--xla_cpu_use_thunk_runtime": "false"}
#: flag -> value applied for CPU-bound PROTES kernels by default
CPU_FLAGS: Dict[str, str] = {**EXACT_FLAGS, "--xla_cpu_multi_thread_eigen": "false"}
#: jaxlib versions whose XLA accepts the flags: [first, last) (protes pins jax < 0.5)
TESTED_JAXLIB = ((0, 4, 32), (0, 5, 0))


def tune_xla_cpu() -> Dict[str, str]:
    """Add the flags ``MANGO_XLA_TUNING`` asks for to ``XLA_FLAGS`` if jax's backend has not started yet.

    Returns the flags this call added (empty when switched off, already set by the user or by
    an earlier call, when the backend already runs, or on an untested jaxlib)."""
    added: Dict[str, str] = {}
    wanted = _wanted_flags()
    if wanted and not _backend_started() and _jaxlib_tested():
        current = os.environ.get("XLA_FLAGS", "")
        present = {token.split("=", 1)[0] for token in current.split()}
        added = {flag: value for flag, value in wanted.items() if flag not in present}
        if added:
            extra = " ".join(f"{flag}={value}" for flag, value in added.items())
            os.environ["XLA_FLAGS"] = f"{current} {extra}".strip()
    return added


def _wanted_flags() -> Dict[str, str]:
    """The flags ``MANGO_XLA_TUNING`` asks for."""
    setting = os.environ.get(TUNING_ENV, "1").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return {}
    if setting == "exact":
        return dict(EXACT_FLAGS)
    if setting in ("", "1", "true", "yes", "on"):
        return dict(CPU_FLAGS)
    raise ConfigError(f"{TUNING_ENV}={setting!r} is not understood; use 1 (default), exact or 0")


def _jaxlib_tested() -> bool:
    try:
        from importlib.metadata import version

        parts = tuple(int(p) for p in version("jaxlib").split(".")[:3])
    except Exception:  # not installed or an unusual version string: leave XLA alone
        return False
    return TESTED_JAXLIB[0] <= parts < TESTED_JAXLIB[1]


def _backend_started() -> bool:
    """Whether jax already created a backend in this process (XLA_FLAGS would be ignored).

    The one use of jax's private API in the package: jax has no public way to ask this without
    starting a backend itself. ``tests/test_jax_runtime.py`` checks that it still answers both
    ways on the installed jax, so a jax release that moves it fails the tests loudly."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is None:
        return False
    return bool(getattr(bridge, "_backends", {}))


def compilation_cache_dir() -> Optional[Path]:
    """Where jax keeps compiled PROTES kernels between processes: ``$MANGO_JAX_CACHE``, else
    ``$XDG_CACHE_HOME/mango_widgets/jax`` (``~/.cache/...``); None when ``MANGO_JAX_CACHE=0``."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in ("0", "off", "false", "no"):
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "mango_widgets" / "jax"


def enable_compilation_cache() -> Optional[Path]:
    """Let jax store and reuse compiled kernels on disk, so a new process skips PROTES' compile
    (seconds) after the first; call it where jax is about to compile, never at import.

    Every kernel is cached (also the quick ones: jax's default skips those under 1 s). A cache the
    user configured for jax is left alone; the folder is safe to delete at any time. Returns the
    folder in use, or None when switched off or not writable."""
    import jax

    if jax.config.jax_compilation_cache_dir:  # set by the user (JAX_COMPILATION_CACHE_DIR) or earlier
        return Path(jax.config.jax_compilation_cache_dir)
    folder = compilation_cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: run without the cache rather than fail
        return None
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return folder
