"""Load weights safely: sha256 check, ``weights_only=True``, and clear key mismatch reports."""
from __future__ import annotations

import hashlib
import json
import re
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


def read_json_manifest(path, missing: str, corrupt_fix: str, beside=None) -> dict:
    """A JSON manifest of weights, or a WeightsError: ``missing`` says what the folder is not and how to
    make one; ``corrupt_fix`` how to replace a file that is not valid JSON; ``beside``: the weights file
    the manifest sits next to (named in the message instead of the folder)."""
    path = Path(path)
    if not path.is_file():
        where = f"next to {beside}" if beside is not None else f"in {path.parent}"
        raise WeightsError(f"no {path.name} {where}: {missing}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise WeightsError(f"{path} is corrupt ({error}); {corrupt_fix}") from error


def read_checkpoint(path, map_location="cpu"):
    """``torch.load`` of a file with tensors and plain values only (``weights_only=True``), or a
    :class:`WeightsError` that says what is wrong with it (empty, truncated, pickled code...)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; check the path (or retrain, see docs/training.md)")
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"weights file {path} is empty (0 bytes): it was never written completely; "
                           "use another checkpoint or save/download it again")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many kinds for bad files
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
        reason = text.splitlines()[0] if text else "no reason given"
        hint = "it holds pickled objects, which are refused for safety; save a state_dict of tensors"
        if "weights_only" not in str(error) and "Unsupported global" not in str(error):
            hint = f"it is truncated or not a torch checkpoint ({size:,} bytes); use another checkpoint or save it again"
        raise WeightsError(f"cannot read weights file {path}: {type(error).__name__}: {reason}; {hint}") from error


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
    state = read_checkpoint(path)
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
