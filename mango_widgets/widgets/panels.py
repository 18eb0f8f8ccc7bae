"""The image column of each method (best MEI, what the network sees in it, best distinct candidates)
and the row of real dataset images that excite the neuron most.

Formatting only: the explorer hands over images and numbers computed elsewhere (the search's
generator, :mod:`mango_widgets.studies.neuron_context` run off the UI thread).
"""
from __future__ import annotations

import html
from typing import List, Optional, Sequence

import ipywidgets as widgets
import numpy as np

from mango_widgets.studies.neuron_context import ClassGuess, TopImages
from mango_widgets.widgets.images import candidates_html, zoomable

MEI_SIZE = 224  # pixels on screen (a 28x28 MEI enlarged 8x, without smoothing)
CANDIDATE_SIZE = 84
DATASET_SIZE = 84


def best_distinct(values: np.ndarray, indices: np.ndarray, count: int) -> List[int]:
    """Positions of the ``count`` best queries with distinct grid points, best first."""
    picks, seen = [], set()
    for position in np.argsort(-values, kind="stable"):
        key = indices[position].tobytes()
        if key not in seen:
            seen.add(key)
            picks.append(int(position))
            if len(picks) == count:
                break
    return picks


def guess_html(guess: Optional[ClassGuess], count: int = 3) -> str:
    """'the network says: 3 (93%) · 8 (4%) · 5 (1%)' with small bars."""
    if guess is None:
        return ""
    rows = "".join(
        f"<div style='display:flex;align-items:center;gap:4px'><span style='width:44px;text-align:right'>{html.escape(name)}"
        f"</span><span style='display:inline-block;height:9px;width:{max(1, round(90 * p))}px;background:#4c78a8'></span>"
        f"<span>{p:.0%}</span></div>"
        for name, p in guess.top(count)
    )
    return ("<div class='mango-guess mango-caption' title='softmax of the network output on this image (for a spiking "
            f"network: of its output spike counts over T)'><b>network's classes on the MEI</b>{rows}</div>")


class MethodPanel:
    """One method's column: title, best-so-far MEI (click to enlarge), caption, class guess, candidates."""

    def __init__(self, name: str, label: str, color: str):
        self.name = name
        self.title = widgets.HTML(f'<b style="color:{color}">{html.escape(label)}</b>')
        self.image = widgets.HTML(zoomable(None, MEI_SIZE, "no MEI yet", css_class="mango-mei"))
        self.caption = widgets.HTML("")
        self.guess = widgets.HTML("")
        self.candidates = widgets.HTML(candidates_html([], [], size=CANDIDATE_SIZE))
        column = widgets.VBox([self.image, self.caption, self.guess], layout=widgets.Layout(width=f"{MEI_SIZE + 8}px"))
        self.box = widgets.VBox(
            [self.title, widgets.HBox([column, self.candidates], layout=widgets.Layout(flex_flow="row wrap"))],
            layout=widgets.Layout(margin="0 16px 10px 0", align_items="flex-start"),
        )
        self.box.add_class("mango-method-panel")
        self.shown_best: Optional[bytes] = None
        self.shown_candidates: tuple = ()

    def show_mei(self, image: np.ndarray, activation: float, query: int, target: str) -> None:
        self.image.value = zoomable(image, MEI_SIZE, f"MEI of {target}: activation {activation:.4f} at query {query:,}",
                                    css_class="mango-mei")
        self.caption.value = (f"<div class='mango-caption'>best activation <b>{activation:.4f}</b>, first reached at "
                              f"query {query:,} <span style='color:#888'>(click the image to enlarge)</span></div>")

    def show_candidates(self, images: Sequence[np.ndarray], values: Sequence[float], queries: Sequence[int]) -> None:
        captions = [f"{v:.3f} · q{q:,}" for v, q in zip(values, queries)]
        titles = [f"activation {v:.4f} at query {q:,}" for v, q in zip(values, queries)]
        self.candidates.value = (
            "<div class='mango-caption' style='margin-left:8px'>best distinct candidates (activation · query)</div>"
            + candidates_html(images, captions, size=CANDIDATE_SIZE, titles=titles)
        )


def dataset_html(top: Optional[TopImages], target: str, dataset_name: str, note: str = "") -> str:
    """The dataset images that excite ``target`` most, with activation and label under each."""
    head = (f"<b>Dataset images that excite {html.escape(target)} most</b> "
            f"<span class='mango-note-small'>({html.escape(dataset_name)})</span>")
    if top is None:
        return f"<div class='mango-dataset'>{head}<div class='mango-note-small'>{html.escape(note)}</div></div>"
    captions = [f"{a:.3f}" + (f" · {label}" if label else "") for a, label in zip(top.activations, top.labels)]
    titles = [f"dataset image #{p}: activation {a:.4f}" + (f", label {label}" if label else "")
              for p, a, label in zip(top.positions, top.activations, top.labels)]
    return (f"<div class='mango-dataset'>{head}<div class='mango-note-small'>activation · true label; the best of "
            f"{top.dataset_size:,} images</div>"
            + candidates_html(top.images, captions, size=DATASET_SIZE, columns=len(top.images), titles=titles,
                              css_class="mango-dataset-images") + "</div>")
