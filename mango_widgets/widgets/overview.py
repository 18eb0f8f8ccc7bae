"""Layer overview: the MEIs of N units of a layer at once, each with its activation.

One search per unit, run one after another off the UI thread (the cores are better spent on
one search at a time); the grid fills in as they progress and can be sorted by activation.
Each cell's "open" button calls the ``on_open`` callbacks, which the app uses to show that
unit, with the MEI found here, in the explorer.
"""
from __future__ import annotations

import html
from typing import Callable, Dict, List, Optional, Sequence, Union

import ipywidgets as widgets
import numpy as np
from traitlets import Bool

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import OUTPUT
from mango_widgets.core.objective import Objective
from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError
from mango_widgets.models.source import ModelSource
from mango_widgets.widgets.images import STYLE, zoomable
from mango_widgets.widgets.messages import error_box, error_text
from mango_widgets.widgets.methods import DEFAULT_OVERVIEW_METHOD, check_methods, method_options
from mango_widgets.widgets.pickers import NetworkSource, TargetPicker, as_choices, source_models, target_string
from mango_widgets.widgets.updates import LiveControls, LiveRun
from mango_widgets.widgets.warmup import Warmup

CELL_SIZE = 140  # pixels on screen (28x28 enlarged 5x); click to enlarge further
SORTS = (("unit", "unit"), ("activation, highest first", "activation"))


class _Cell:
    def __init__(self, unit: int, kind: str, open_unit: Callable[[int], None]):
        self.unit = unit
        self.image = widgets.HTML(zoomable(None, CELL_SIZE, f"{kind} {unit}: no MEI yet", css_class="mango-overview-mei"))
        self.caption = widgets.HTML(f"<div class='mango-caption'><b>{kind} {unit}</b> · waiting</div>")
        self.button = widgets.Button(description=f"open {kind} {unit}", tooltip=f"show {kind} {unit} and this MEI in the explorer",
                                     icon="search", layout=widgets.Layout(width=f"{CELL_SIZE + 4}px"))
        self.button.add_class("mango-open-unit")
        self.button.on_click(lambda _button: open_unit(unit))
        self.box = widgets.VBox([self.image, self.caption, self.button],
                                layout=widgets.Layout(align_items="center", margin="4px", width=f"{CELL_SIZE + 12}px"))
        self.box.add_class("mango-overview-cell")
        self.shown_best: Optional[bytes] = None


class LayerOverview(LiveControls, widgets.VBox):
    """MEIs of units ``first .. first+count-1`` of a layer, found with one method each.

    Traits: ``running``, ``frozen`` (as in the explorer). Register ``on_open(fn)`` to get
    ``fn(network_label, layer, unit)`` when a unit's open button is clicked.
    """

    running = Bool(False, read_only=True)
    frozen = Bool(False)

    def __init__(self, generator: Generator, networks: Union[NetworkSource, Dict[str, NetworkSource]],
                 method: str = DEFAULT_OVERVIEW_METHOD, budget: int = 500, count: int = 8, seed: int = 0,
                 update_seconds: float = 0.5, min_interval: float = 0.3, threads: Optional[int] = -1,
                 warmup: Optional[Warmup] = None, **kwargs):
        self.generator = generator
        self.networks = as_choices(networks)
        self.update_seconds, self.min_interval, self.threads = update_seconds, min_interval, threads
        self.warmup = warmup
        self.searches: Dict[int, Search] = {}
        self.cells: Dict[int, _Cell] = {}
        self.live: Optional[LiveRun] = None
        self._open_callbacks: List[Callable[[str, str, int], None]] = []
        self._run_choice = ("", "")

        check_methods([method])
        self.picker = TargetPicker(self.networks, with_unit=False)
        self.first_box = widgets.BoundedIntText(value=0, min=0, max=10**6, description="first unit", layout=widgets.Layout(width="170px"))
        self.count_box = widgets.BoundedIntText(value=count, min=1, max=256, description="units", layout=widgets.Layout(width="150px"))
        self.method_dropdown = widgets.Dropdown(options=method_options(), value=method, description="method",
                                                layout=widgets.Layout(width="300px"))
        self.budget_box = widgets.IntText(value=budget, description="budget/unit", layout=widgets.Layout(width="190px"))
        self.seed_box = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="150px"))
        self.run_button = widgets.Button(description="Run layer", button_style="success", icon="play")
        self.run_button.add_class("mango-overview-run")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.sort = widgets.ToggleButtons(options=SORTS, value="unit", description="sort by", style={"button_width": "auto"})
        self.sort.add_class("mango-overview-sort")
        self.status_html = widgets.HTML("Choose a layer and how many units, then Run layer.")
        self.status_html.add_class("mango-overview-status")
        self.error_html = widgets.HTML("")
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_template_columns=f"repeat(auto-fill, {CELL_SIZE + 20}px)", width="100%"))
        self.grid.add_class("mango-overview-grid")
        row = widgets.Layout(flex_flow="row wrap")
        super().__init__(children=[
            widgets.HTML(STYLE), self.picker,
            widgets.HBox([self.first_box, self.count_box, self.method_dropdown], layout=row),
            widgets.HBox([self.budget_box, self.seed_box, self.run_button, self.stop_button], layout=row),
            self.status_html, self.error_html, self.sort, self.grid,
        ], **kwargs)
        self.add_class("mango-overview")
        self.run_button.on_click(lambda _button: self.run())
        self.stop_button.on_click(lambda _button: self.stop())
        self.sort.observe(lambda _change: self._arrange(), "value")
        self.observe(lambda _change: self._sync_disabled(), ["running", "frozen"])

    @classmethod
    def from_source(cls, source: Union[str, ModelSource], epoch: Union[None, int, Sequence[int]] = None,
                    T: Optional[int] = None, spacing: str = "uniform", label: Optional[Callable[[int], str]] = None,
                    **options) -> LayerOverview:
        """The overview on a model source, as :meth:`MEIExplorer.from_source <.explorer.MEIExplorer.from_source>`;
        ``options`` go to the constructor."""
        generator, networks = source_models(source, epoch, T, spacing, label)
        return cls(generator, networks, **options)

    # ------------------------------------------------------------- the API
    def on_open(self, callback: Callable[[str, str, int], None]) -> None:
        """Call ``callback(network_label, layer, unit)`` when a unit of the grid is opened."""
        self._open_callbacks.append(callback)

    def open_unit(self, unit: int) -> None:
        """What the open button does (the network and layer of the run that made the grid)."""
        network_label, layer = self._run_choice
        for callback in self._open_callbacks:
            callback(network_label, layer, int(unit))

    @property
    def run_choice(self) -> tuple:
        """(network label, layer) of the run that made the grid."""
        return self._run_choice

    def units(self) -> List[int]:
        """The units the current choices cover (clipped to the layer's size)."""
        first, total = int(self.first_box.value), self.picker.units
        if first >= total:
            raise ConfigError(f"first unit {first} is out of range for layer {self.picker.layer!r}: valid units are 0..{total - 1}")
        return list(range(first, min(first + int(self.count_box.value), total)))

    def run(self) -> bool:
        """Start one search per unit (the Run button); False with the error shown if a choice is invalid."""
        if self.running or self.frozen:
            return False
        self.error_html.value = ""
        if self.warmup is not None and not self.warmup.done("optimizers"):
            self.status_html.value = "waiting for the optimizers to finish loading…"  # reaches the page before the wait
            self.warmup.wait("optimizers")
        live = LiveRun(self._write, concurrent=False, min_interval=self.min_interval,
                       on_error=lambda error: self._show_error(f"could not update the display: {error_text(error)}"))
        try:
            network, layer = self.picker.network, self.picker.layer
            searches = {
                unit: Search(
                    Objective(self.generator, network, target_string(layer, unit)),
                    self.method_dropdown.value, budget=self.budget_box.value, seed=self.seed_box.value,
                    callbacks=[live.notify], every_seconds=self.update_seconds, threads=self.threads,
                )
                for unit in self.units()
            }
        except Exception as error:
            self._show_error(error_text(error))
            return False
        self.searches, self.live = searches, live
        self._run_choice = (self.picker.network_label, layer)
        kind = "class" if layer == OUTPUT else "unit"
        self.cells = {unit: _Cell(unit, kind, self.open_unit) for unit in searches}
        self._arrange()
        self.status_html.value = f"{len(searches)} {kind}s of {html.escape(layer)}: starting…"
        self.set_trait("running", True)
        live.start(list(searches.values()))
        return True

    def activations(self) -> Dict[int, float]:
        """Best activation found for each unit of the last run (NaN where none yet)."""
        return {u: (s.history.best_value if len(s.history) else float("nan")) for u, s in self.searches.items()}

    # ------------------------------------------------------------ internals
    def _arrange(self) -> None:
        """Order the cells by unit, or by best activation (highest first; units without one last)."""
        units = list(self.cells)
        if self.sort.value == "activation":
            found = self.activations()
            units.sort(key=lambda u: (np.isnan(found.get(u, np.nan)), -np.nan_to_num(found.get(u, np.nan), nan=0.0), u))
        self.grid.children = [self.cells[u].box for u in units]

    def _write(self, changed: List[Search], final: bool) -> None:
        """Write the changed units' MEIs and the status (in the UI writer thread)."""
        try:
            self._write_progress(changed, final)
        finally:
            if final:  # even if formatting failed, the run is over: unfreeze the controls
                self.set_trait("running", False)

    def _write_progress(self, changed: List[Search], final: bool) -> None:
        units = {id(search): unit for unit, search in self.searches.items()}
        layer = self._run_choice[1]
        kind = "class" if layer == OUTPUT else "unit"
        for search in changed:
            cell = self.cells[units[id(search)]]
            best = search.history.best_index
            if best is None:
                continue
            if best.tobytes() != cell.shown_best:
                try:  # a generator that fails here fails the search too: its error is shown at the end
                    image = search.objective.images(best[None])[0].cpu().numpy()
                    cell.image.value = zoomable(image, CELL_SIZE, f"{kind} {cell.unit}: best activation "
                                                f"{search.history.best_value:.4f}", css_class="mango-overview-mei")
                    cell.shown_best = best.tobytes()
                except Exception:
                    pass
            mark = "" if search.state in ("running", "finished") else f" <span style='color:#b26a00'>({search.state})</span>"
            cell.caption.value = (f"<div class='mango-caption'><b>{kind} {cell.unit}</b> · best "
                                  f"{search.history.best_value:.3f}{mark}</div>")
        if self.sort.value == "activation":
            self._arrange()
        done = [s for s in self.searches.values() if s.state not in ("ready", "running")]
        queries = sum(s.queries for s in self.searches.values())
        elapsed = sum(s.history.wall_seconds for s in self.searches.values())
        head = f"{len(done)}/{len(self.searches)} {kind}s of {html.escape(layer)} done"
        self.status_html.value = f"{head} · {queries:,} queries · {elapsed:.1f} s" + (" · stopped" if self.live.stopped and final else "")
        if final:
            failed = [f"unit {u}: {html.escape(error_text(s.error))}" for u, s in self.searches.items() if s.error is not None]
            if failed:
                self._show_error("<br>".join(failed), escape=False)

    def _show_error(self, message: str, escape: bool = True) -> None:
        self.error_html.value = error_box(message, escape)

    def _sync_disabled(self) -> None:
        locked = self.running or self.frozen
        self.picker.set_disabled(locked)
        for control in (self.first_box, self.count_box, self.method_dropdown, self.budget_box, self.seed_box, self.run_button):
            control.disabled = locked
        self.stop_button.disabled = not self.running
