"""Exceptions that name the problem and the fix; every user-facing error derives from them."""
from __future__ import annotations

import functools
import math
import numbers
import sys
from typing import Callable, Optional


class MangoError(Exception):
    """Base class for the toolkit's errors (catch this to handle any of them)."""


class ConfigError(MangoError, ValueError):
    """A bad argument: unknown layer, unit out of range, unknown method, bad budget..."""


class ModelOutputError(MangoError, RuntimeError):
    """A model produced something unusable: wrong image shape, NaN or infinite values."""


class WeightsError(MangoError, RuntimeError):
    """Weights are missing, corrupt, or do not fit the architecture."""


def unknown_choice(kind: str, value, valid) -> ConfigError:
    """Error for a value that is not one of the valid choices, listing them."""
    valid = list(valid)
    shown = ", ".join(map(str, valid))
    return ConfigError(f"unknown {kind} {value!r}; valid {kind}s are: {shown}")


def whole_number(value, name: str, minimum: Optional[int] = None, fix: str = "") -> int:
    """``value`` as an int, or a ConfigError naming ``name``: booleans, strings and fractional numbers
    are refused rather than truncated (2.7 is not 2); whole floats such as 3.0 are accepted."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
    else:
        raise ConfigError(f"{name} must be a whole number, got {value!r}{'; ' + fix if fix else ''}")
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}{'; ' + fix if fix else ''}")
    return number


#: seeds must fit numpy's legacy RandomState (nevergrad uses it): 0 .. 2**32 - 1
MAX_SEED = 2**32 - 1


def seed_number(seed) -> int:
    """A random seed as an int in 0..2**32-1, or a ConfigError (no negative or fractional seeds)."""
    value = whole_number(seed, "seed", minimum=0, fix=f"seeds are whole numbers in 0..{MAX_SEED}")
    if value > MAX_SEED:
        raise ConfigError(f"seed must be at most {MAX_SEED} (2**32 - 1), got {seed!r}")
    return value


def reports_errors(main: Callable[..., int]) -> Callable[..., int]:
    """A command's entry point that prints a toolkit error as ``error: ...`` on stderr and returns the exit
    status 2, instead of a traceback (the message already names the fix)."""

    @functools.wraps(main)
    def run(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except MangoError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    return run
