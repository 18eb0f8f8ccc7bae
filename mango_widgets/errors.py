"""Exceptions that name the problem and the fix; every user-facing error derives from them."""
from __future__ import annotations


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
