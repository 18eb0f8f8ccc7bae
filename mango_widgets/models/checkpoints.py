"""Load weights safely: sha256 check, ``weights_only=True``, and clear key mismatch reports."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from mango_widgets.errors import WeightsError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(module: nn.Module, path, sha256: Optional[str] = None) -> nn.Module:
    """Load a state_dict file into ``module`` (tensors only, never pickled code).

    Raises :class:`WeightsError` naming missing, unexpected and mis-shaped keys, a hash
    mismatch, or an unreadable file, with what to do about it.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; reinstall the package or retrain (see docs/training.md)")
    if sha256 is not None and sha256_of(path) != sha256:
        raise WeightsError(
            f"weights file {path} is corrupt: its sha256 does not match the manifest; "
            "reinstall the package (or retrain with `mango train-demo`)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for bad files
        raise WeightsError(f"cannot read weights file {path}: {error}") from error
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state_dict (got {type(state).__name__})")
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    misshaped = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or misshaped:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)):
            if keys:
                shown = ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
                parts.append(f"{label} keys: {shown}")
        raise WeightsError(
            f"checkpoint {path} does not fit {type(module).__name__}: " + "; ".join(parts)
            + ". Is it a checkpoint of a different architecture?"
        )
    module.load_state_dict(state)
    return module
