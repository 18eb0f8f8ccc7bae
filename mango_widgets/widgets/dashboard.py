"""The app: explorer and layer overview in tabs, wired together; the demo models as default.

Clicking a unit in the overview selects it in the explorer and shows the explorer; while
one of them runs, the other is frozen (they share the CPU cores).
"""
from __future__ import annotations

import html
import os
from typing import Dict, Optional, Tuple, Union

import ipywidgets as widgets

from mango_widgets.core.generator import Generator
from mango_widgets.errors import WeightsError
from mango_widgets.widgets.explorer import MEIExplorer
from mango_widgets.widgets.overview import LayerOverview
from mango_widgets.widgets.pickers import NetworkSource


class MangoApp(widgets.VBox):
    """Tabs "MEI explorer" and "Layer overview" on the same generator and networks.

    ``explorer`` and ``overview`` hold keyword arguments for :class:`MEIExplorer` and
    :class:`LayerOverview`; ``note`` is shown above the tabs (e.g. a warning).
    """

    def __init__(
        self,
        generator: Generator,
        networks: Union[NetworkSource, Dict[str, NetworkSource]],
        explorer: Optional[dict] = None,
        overview: Optional[dict] = None,
        title: str = "Most exciting images of spiking neurons",
        note: Optional[str] = None,
        **kwargs,
    ):
        self.explorer = MEIExplorer(generator, networks, **(explorer or {}))
        self.overview = LayerOverview(generator, networks, **(overview or {}))
        self.tabs = widgets.Tab(children=[self.explorer, self.overview], titles=("MEI explorer", "Layer overview"))
        header = f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>"
        if note:
            header += f"<div class='mango-note' style='background:#fff3cd;padding:4px 8px;border-radius:4px'>{html.escape(note)}</div>"
        self.header = widgets.HTML(header)
        super().__init__(children=[self.header, self.tabs], **kwargs)
        self.add_class("mango-app")
        self.overview.on_open(self._open_in_explorer)
        self.overview.observe(lambda change: setattr(self.explorer, "frozen", change.new), "running")
        self.explorer.observe(lambda change: setattr(self.overview, "frozen", change.new), "running")

    def _open_in_explorer(self, network: str, layer: str, unit: int) -> None:
        self.explorer.select(layer=layer, unit=unit, network=network)
        self.tabs.selected_index = 0


def fast_mode() -> bool:
    """True when $MANGO_FAST=1 (tests, CI): small default budgets."""
    return os.environ.get("MANGO_FAST") == "1"


def stand_in_models() -> Tuple[Generator, dict]:
    """Untrained demo architectures with fixed random weights (when the trained weights are absent)."""
    import torch

    from mango_widgets.core.network import Network
    from mango_widgets.core.space import LatentGrid
    from mango_widgets.models.architectures.dcgan import DCGANGenerator
    from mango_widgets.models.architectures.demo_snn import demo_snn

    with torch.random.fork_rng():
        torch.manual_seed(0)
        generator = Generator(DCGANGenerator().eval(), LatentGrid(), image_shape=(1, 28, 28), name="untrained-dcgan")
        network = Network(demo_snn(threshold=0.3), input_shape=(1, 28, 28), T=20, name="untrained-snn")
    return generator, {"untrained demo SNN (random weights)": network}


def demo_models() -> Tuple[Generator, dict, Optional[str]]:
    """The bundled demo generator and one lazily built demo SNN per saved training epoch
    (last epoch first), plus a note. Falls back to untrained stand-ins, with a note saying
    so, when the bundled weights are missing."""
    from mango_widgets.models.bundled import demo_epochs, demo_generator, demo_network

    try:
        generator = demo_generator()
        epochs = demo_epochs()
    except WeightsError as error:
        generator, networks = stand_in_models()
        return generator, networks, f"Demo weights not found ({error}); showing untrained stand-in models with random weights."
    networks = {f"demo SNN, epoch {e}": (lambda e=e: demo_network(epoch=e)) for e in reversed(epochs)}
    return generator, networks, None


def demo_app(fast: Optional[bool] = None) -> MangoApp:
    """The app on the demo models; ``fast`` (default: $MANGO_FAST=1) gives small budgets."""
    fast = fast_mode() if fast is None else fast
    generator, networks, note = demo_models()
    return MangoApp(
        generator,
        networks,
        explorer=dict(budget=200 if fast else 2000, methods=("tt-b",)),
        overview=dict(budget=100 if fast else 500, count=4 if fast else 8),
        note=note,
    )
