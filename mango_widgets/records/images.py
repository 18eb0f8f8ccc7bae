"""The one image encoder: an array [C, H, W] (or [H, W]) in [0, 1] to a PIL image or PNG bytes.

Result folders, GIF frames, closed-loop stimuli, widget thumbnails and training sample grids all
go through here, so every picture the project writes has the same scaling, rounding and layout.
"""
from __future__ import annotations

import io

import numpy as np

from mango_widgets.errors import ConfigError


def to_pil(image: np.ndarray, scale: int = 1):
    """An image [C, H, W] (or [H, W]) in [0, 1] as a PIL image ('L' or 'RGB'), enlarged ``scale`` times (nearest)."""
    from PIL import Image

    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 3:
        array = array.transpose(1, 2, 0)
        if array.shape[2] == 1:
            array = array[:, :, 0]
    elif array.ndim != 2:
        raise ConfigError(f"an image must be [C, H, W] or [H, W], got shape {array.shape}")
    array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    picture = Image.fromarray(array)
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return picture


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """The PNG bytes of an image [C, H, W] (or [H, W]) in [0, 1], enlarged ``scale`` times (nearest)."""
    buffer = io.BytesIO()
    to_pil(image, scale).save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["png_bytes", "to_pil"]
