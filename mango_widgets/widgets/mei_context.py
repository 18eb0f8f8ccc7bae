"""After a run: what the network sees in each MEI, and the dataset images that excite the neuron most.

The explorer calls :meth:`MEIContext.describe` in a follow-up thread once a run has ended; the
computing lives in :mod:`mango_widgets.studies.neuron_context`, this only loads the dataset once
(on first use) and writes the results into the method panels and the dataset box.
"""
from __future__ import annotations

import html
from typing import Callable, Dict, Union

import ipywidgets as widgets

from mango_widgets.core.network import Network
from mango_widgets.core.search import Search
from mango_widgets.studies.neuron_context import DatasetActivations, class_guess
from mango_widgets.widgets.messages import error_text
from mango_widgets.widgets.panels import MethodPanel, dataset_html, guess_html

#: images ranked beside each MEI: the dataset, a factory that loads it when first needed, or none
DatasetSource = Union[DatasetActivations, Callable[[], DatasetActivations], None]


class MEIContext:
    """The class guesses in the method panels and the dataset box (``html``) of the explorer."""

    def __init__(self, dataset: DatasetSource = None, top: int = 8):
        self.source, self.top = dataset, int(top)
        self.dataset = dataset if isinstance(dataset, DatasetActivations) else None
        self.html = widgets.HTML("")
        self.html.add_class("mango-dataset-html")

    def clear(self) -> None:
        self.html.value = ""

    def describe(self, network: Network, target: str, searches: Dict[str, Search], panels: Dict[str, MethodPanel],
                 current: Callable[[], bool]) -> None:
        """Blocking (off the UI thread): the network's classes on each MEI, then the dataset's most exciting images;
        ``current()`` turns False once another run or neuron is shown, and nothing more is written then."""
        for name, search in searches.items():
            if search.mei is not None and search.mei.image is not None and current():
                try:
                    panels[name].guess.value = guess_html(class_guess(network, search.mei.image))
                except Exception as error:
                    reason = html.escape(error_text(error))
                    panels[name].guess.value = f"<span class='mango-note-small'>no class guess: {reason}</span>"
        if self.source is None or not current():
            return
        try:
            if self.dataset is None:
                self.html.value = dataset_html(None, target, "dataset", "loading the dataset…")
                self.dataset = self.source()
            self.html.value = dataset_html(None, target, self.dataset.name,
                                           f"running the {len(self.dataset):,} images through {network.name}…")
            top = self.dataset.top_images(network, target, count=self.top)
            if current():
                self.html.value = dataset_html(top, target, self.dataset.name)
        except Exception as error:
            self.html.value = dataset_html(None, target, "dataset", f"could not rank the dataset: {error_text(error)}")
