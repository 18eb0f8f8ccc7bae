"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

Each writer puts the data in a temporary file in the same folder, flushes it to disk (fsync)
and renames it over the target (``os.replace`` is atomic within a file system); the folder is
fsynced too so the rename itself survives a power cut. Bytes, JSON, NPZ and PNG all go through
:func:`write_bytes`, the one place that does this.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Union

import numpy as np

PathLike = Union[str, Path]


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Persist a rename (where the platform lets a folder be opened; a no-op elsewhere)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_text(path: PathLike, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: PathLike, data, indent: int = 2, **options) -> Path:
    """Write ``data`` as JSON atomically (``options`` go to ``json.dumps``, e.g. ``default=str``)."""
    return write_text(path, json.dumps(data, indent=indent, **options) + "\n")


def npz_bytes(**arrays) -> bytes:
    """The bytes of a compressed ``.npz`` holding ``arrays`` (entries that are None are left out)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: value for name, value in arrays.items() if value is not None})
    return buffer.getvalue()


def write_npz(path: PathLike, **arrays) -> Path:
    """Write a compressed ``.npz`` atomically (entries that are None are left out)."""
    return write_bytes(path, npz_bytes(**arrays))


def write_torch(path: PathLike, obj) -> Path:
    """Write a torch object (a state_dict, a checkpoint dict) with ``torch.save`` atomically."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes(path, buffer.getvalue())


def write_png(path: PathLike, image: np.ndarray, scale: int = 1) -> Path:
    """Write an image [C, H, W] in [0, 1] as a PNG atomically."""
    from mango_widgets.records.images import png_bytes

    return write_bytes(path, png_bytes(image, scale))


__all__ = ["npz_bytes", "write_bytes", "write_json", "write_npz", "write_png", "write_text", "write_torch"]
