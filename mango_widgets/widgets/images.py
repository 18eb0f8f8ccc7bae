"""Arrays -> bytes and HTML for widgets: PNG bytes for ``ipywidgets.Image``, a captioned grid.

Formatting only: the images come from the search's generator; nothing here computes.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Sequence

import numpy as np

from mango_widgets.records.export import to_pil


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """An image [C, H, W] in [0, 1] as PNG bytes (the browser enlarges it without smoothing)."""
    buffer = io.BytesIO()
    to_pil(image, scale).save(buffer, format="PNG")
    return buffer.getvalue()


def blank_png(size: int = 28) -> bytes:
    """A neutral grey placeholder before the first image arrives."""
    return png_bytes(np.full((1, size, size), 0.15))


def data_uri(image: np.ndarray, scale: int = 1) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale)).decode("ascii")


#: CSS that keeps small images crisp when the browser enlarges them
PIXELATED = "image-rendering: pixelated; image-rendering: crisp-edges;"


def candidates_html(
    images: Sequence[np.ndarray], captions: Sequence[str], size: int = 56, columns: int = 4, css_class: str = "mango-candidates"
) -> str:
    """A grid of small images (``columns`` wide) with a caption under each, as one HTML string."""
    if not len(images):
        return f'<div class="{css_class}" style="color:#888;font-size:12px">no candidates yet</div>'
    cells = "".join(
        f'<figure style="margin:0;text-align:center">'
        f'<img src="{data_uri(image)}" width="{size}" height="{size}" style="{PIXELATED}border:1px solid #ccc"/>'
        f'<figcaption style="font-size:10px;line-height:1.1">{html.escape(caption)}</figcaption></figure>'
        for image, caption in zip(images, captions)
    )
    return (
        f'<div class="{css_class}" style="display:grid;grid-template-columns:repeat({columns}, {size + 14}px);'
        f'gap:4px;margin-left:8px">{cells}</div>'
    )
