"""Visual complexity of an MEI as compressibility: JPEG and ZIP (deflate) size over raw size.

A flat image compresses to a few percent of its raw 8-bit size; a detailed one does not
(the paper's heuristic, after "measuring complexity with zippers").
"""
from __future__ import annotations

import io
import zlib

import numpy as np

from mango_widgets.errors import ConfigError

#: JPEG quality used for the ratio (fixed so that ratios compare across runs)
JPEG_QUALITY = 95


def _to_uint8(image) -> np.ndarray:
    """[C, H, W] or [H, W] in [0, 1] -> uint8 [H, W] or [H, W, 3]."""
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 3:
        if a.shape[0] not in (1, 3):
            raise ConfigError(f"an image must be [C, H, W] with C = 1 or 3, got shape {a.shape}")
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    elif a.ndim != 2:
        raise ConfigError(f"an image must be [C, H, W] or [H, W], got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ConfigError("the image has NaN or infinite pixels")
    return np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)


def compression_ratios(image) -> dict:
    """{"jpeg": bytes of the JPEG / raw bytes, "zip": bytes of deflate level 9 / raw bytes}."""
    from PIL import Image

    pixels = _to_uint8(image)
    raw = pixels.tobytes()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return {"jpeg": buffer.tell() / len(raw), "zip": len(zlib.compress(raw, 9)) / len(raw)}
