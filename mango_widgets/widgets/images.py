"""Arrays -> PNG bytes and HTML for widgets: zoomable images (click to enlarge), captioned grids.

Formatting only: the images come from the search's generator; nothing here computes. Images
are encoded at their own resolution and enlarged by the browser without smoothing; clicking one
(it takes focus) shows it large in the middle of the window until the next click elsewhere.
"""
from __future__ import annotations

import base64
import html
from typing import Optional, Sequence

import numpy as np

from mango_widgets.records.images import png_bytes

#: CSS that keeps small images crisp when the browser enlarges them
PIXELATED = "image-rendering: pixelated; image-rendering: crisp-edges;"

#: the style sheet of every composite widget (click-to-enlarge, reflowing rows, readable captions)
STYLE = """<style>
.mango-zoom { display:inline-block; position:relative; }
.mango-zoom img { image-rendering: pixelated; image-rendering: crisp-edges; cursor: zoom-in; border: 1px solid #ccc;
                  background: #222; display:block; }
.mango-zoom img:focus { position: fixed; z-index: 10000; left: 50%; top: 50%; transform: translate(-50%, -50%);
                        width: min(78vh, 78vw) !important; height: min(78vh, 78vw) !important; cursor: zoom-out;
                        box-shadow: 0 0 0 100vmax rgba(0,0,0,.55); outline: none; }
.mango-caption { font-size: 11px; line-height: 1.25; color: #333; max-width: 100%; }
.mango-note-small { font-size: 11px; color: #666; }
.mango-app .widget-tab-contents, .mango-app .lm-TabPanel-stackedPanel { overflow: visible; }
.mango-link-button { display:inline-block; padding: 4px 12px; margin: 2px 4px; border-radius: 2px; background:#2196f3;
                     color:#fff !important; text-decoration:none; font-size:13px; }
.mango-link-button:hover { background:#1976d2; }
</style>"""


def blank_png(size: int = 28) -> bytes:
    """A neutral grey placeholder before the first image arrives."""
    return png_bytes(np.full((1, size, size), 0.15))


def data_uri(image: np.ndarray, scale: int = 1) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale)).decode("ascii")


def zoomable(image: Optional[np.ndarray], size: int, title: str = "", css_class: str = "") -> str:
    """One image as HTML, ``size`` pixels wide (height kept in proportion), enlarged on click."""
    if image is None:
        image = np.full((1, 28, 28), 0.15)
    height, width = np.asarray(image).shape[-2:]
    shown = (size, max(1, round(size * height / width)))
    classes = f' class="{html.escape(css_class)}"' if css_class else ""
    return (f'<span class="mango-zoom"><img{classes} tabindex="0" src="{data_uri(image)}" width="{shown[0]}" '
            f'height="{shown[1]}" title="{html.escape(title)}" alt="{html.escape(title)}"/></span>')


def candidates_html(
    images: Sequence[np.ndarray], captions: Sequence[str], size: int = 84, columns: int = 4,
    css_class: str = "mango-candidates", titles: Optional[Sequence[str]] = None, empty: str = "no candidates yet",
) -> str:
    """A grid of zoomable images (``columns`` wide at most) with a caption under each (newlines break it), as one HTML string."""
    if not len(images):
        return f'<div class="{css_class}" style="color:#888;font-size:12px">{html.escape(empty)}</div>'
    titles = titles if titles is not None else captions
    cells = "".join(
        f'<figure style="margin:0;text-align:center;width:{size + 6}px">{zoomable(image, size, title)}'
        f'<figcaption class="mango-caption">{caption}</figcaption></figure>'
        for image, caption, title in zip(images, (html.escape(c).replace("\n", "<br>") for c in captions), titles)
    )
    return (
        f'<div class="{css_class}" style="display:grid;grid-template-columns:repeat({columns}, {size + 8}px);'
        f'gap:6px;margin:0 0 0 8px">{cells}</div>'
    )


def image_table(rows: Sequence[tuple], column_labels: Sequence[str], size: int = 64, css_class: str = "mango-image-table") -> str:
    """A table of zoomable images: ``rows`` are (row label, [(image, caption, title), ...]) under ``column_labels``."""
    head = "".join(f"<th style='font-weight:normal;font-size:11px'>{html.escape(c)}</th>" for c in column_labels)
    body = "".join(
        f"<tr><th style='text-align:right;font-size:11px;padding-right:4px'>{html.escape(label)}</th>"
        + "".join(f"<td style='text-align:center;vertical-align:top;padding:1px'>{zoomable(image, size, title)}"
                  f"<div class='mango-caption' style='font-size:10px'>{html.escape(caption).replace(chr(10), '<br>')}</div></td>"
                  for image, caption, title in cells)
        + "</tr>"
        for label, cells in rows
    )
    return f"<table class='{css_class}' style='border-collapse:collapse'><tr><th></th>{head}</tr>{body}</table>"
