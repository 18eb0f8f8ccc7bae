"""The MEI explorer: pick a neuron and one or several methods, run, watch them race.

Thin by design. Run takes a snapshot of what the screen shows (network, layer, unit, methods in
the order ticked, budget, seed), answers at once ("starting…", or "waiting for the optimizers"),
and a starter thread builds one :class:`~mango_widgets.core.search.Search` per method and starts
them; a :class:`~.updates.LiveRun` writes their progress in throttled batches. When the run
ends, what the network sees in each MEI and the dataset images that excite the neuron most are
computed off the UI thread (:mod:`~.mei_context`). :meth:`MEIExplorer.from_source` builds it on a
model source (one network per checkpoint).
"""
from __future__ import annotations

import html
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import ipywidgets as widgets
import numpy as np
from traitlets import Bool

from mango_widgets.core.generator import Generator
from mango_widgets.core.objective import Objective
from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError
from mango_widgets.models.source import ModelSource
from mango_widgets.records.curves import activation_axis, curve_of, query_seconds, write_curves
from mango_widgets.records.export import export_searches
from mango_widgets.widgets.curve import COLORS, CurvePanel
from mango_widgets.widgets.export_panel import ExportPanel, export_summary_html
from mango_widgets.widgets.images import STYLE
from mango_widgets.widgets.mei_context import DatasetSource, MEIContext
from mango_widgets.widgets.messages import error_box, error_text
from mango_widgets.widgets.methods import DEFAULT_METHODS, MethodPicker, run_method_name
from mango_widgets.widgets.panels import MethodPanel, best_distinct
from mango_widgets.widgets.pickers import NetworkSource, TargetPicker, as_choices, source_models
from mango_widgets.widgets.plotly_loader import PlotlyLoader
from mango_widgets.widgets.progress import RunProgress
from mango_widgets.widgets.updates import LiveRun
from mango_widgets.widgets.warmup import Warmup


class MEIExplorer(widgets.VBox):
    """Find and watch the MEI of one neuron with one or several methods side by side.

    ``networks``: a Network, a factory returning one, or a dict label -> either (built on first
    use). ``methods``: ticked at start, in race order. Each search reports every
    ``update_seconds`` / ``update_queries``; the UI is written at most once per ``min_interval``
    seconds for all searches together. ``concurrent``: race the methods (one thread and one torch
    thread each) or run them one after another. ``dataset``: images (or a factory) whose most
    exciting ones are shown beside the MEI; ``warmup``: a :class:`Warmup` the first Run waits for;
    ``plotly_loader``: in the app, the page's :class:`~.plotly_loader.PlotlyLoader` (the curve opens once it has loaded).

    Traits: ``running`` (a run is starting or in flight), ``frozen`` (controls locked from outside).
    """

    running = Bool(False, read_only=True)
    frozen = Bool(False)

    def __init__(self, generator: Generator, networks: Union[NetworkSource, Dict[str, NetworkSource]],
                 methods: Sequence[str] = DEFAULT_METHODS, budget: int = 2000, seed: int = 0, concurrent: bool = True,
                 update_seconds: float = 0.25, update_queries: Optional[int] = None, min_interval: float = 0.2,
                 candidates: int = 8, threads: Optional[int] = -1, export_folder: Union[str, Path, None] = None,
                 dataset: DatasetSource = None, warmup: Optional[Warmup] = None,
                 plotly_loader: Optional[PlotlyLoader] = None, **kwargs):
        self.generator, self.networks = generator, as_choices(networks)
        self.update_seconds, self.update_queries, self.min_interval = update_seconds, update_queries, min_interval
        self.candidate_count, self.threads = int(candidates), threads
        self.context, self.warmup = MEIContext(dataset), warmup
        self.searches: Dict[str, Search] = {}
        self.live: Optional[LiveRun] = None
        self.run_label, self.run_target, self.run_origin = "", "", "explorer"
        self.last_export: Dict[str, Path] = {}
        self._runs = 0
        self._generation = 0
        self._cancel = False
        self._control = threading.Lock()
        self._threads: List[threading.Thread] = []
        self.panels: Dict[str, MethodPanel] = {}

        self.picker = TargetPicker(self.networks, with_unit=True)
        self.methods = MethodPicker(methods)
        self.budget_box = widgets.IntText(value=budget, description="budget", tooltip="queries per method",
                                          layout=widgets.Layout(width="170px"))
        self.budget_box.add_class("mango-budget")
        self.seed_box = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="150px"))
        self.seed_box.add_class("mango-seed")
        self.concurrent_box = widgets.Checkbox(value=concurrent, description="race side by side", indent=False)
        self.run_button = widgets.Button(description="Run", button_style="success", icon="play")
        self.run_button.add_class("mango-run")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.stop_button.add_class("mango-stop")
        self.progress = RunProgress()
        self.error_html = widgets.HTML("")
        self.error_html.add_class("mango-error")
        self.curve = CurvePanel(plotly_loader)
        self.panel_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.dataset_html = self.context.html
        self.export_panel = ExportPanel(export_folder)
        run_controls = widgets.VBox([widgets.HBox([self.budget_box, self.seed_box], layout=widgets.Layout(flex_flow="row wrap")),
                                     self.concurrent_box, widgets.HBox([self.run_button, self.stop_button])]
                                    + ([warmup.indicator] if warmup is not None else []))
        super().__init__(children=[
            widgets.HTML(STYLE), self.picker,
            widgets.HBox([self.methods, run_controls], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")),
            self.progress, self.error_html, self.curve, self.panel_box, self.dataset_html, self.export_panel,
        ], **kwargs)
        self.add_class("mango-explorer")
        self.run_button.on_click(lambda _button: self.run())
        self.stop_button.on_click(lambda _button: self.stop())
        self.export_panel.button.on_click(lambda _button: self._export_clicked())
        self.observe(lambda _change: self._sync_disabled(), ["running", "frozen"])

    @classmethod
    def from_source(cls, source: Union[str, ModelSource], epoch: Union[None, int, Sequence[int]] = None,
                    T: Optional[int] = None, spacing: str = "uniform", label: Optional[Callable[[int], str]] = None,
                    **options) -> MEIExplorer:
        """The explorer on a model source (or its name, e.g. ``"demo"``): one network per checkpoint (``epoch``: one
        or some), exposed for ``T`` steps (default: the source's), named ``label(epoch)``; the source's generator on
        a ``spacing`` grid. ``options`` go to the constructor."""
        generator, networks = source_models(source, epoch, T, spacing, label)
        return cls(generator, networks, **options)

    # ------------------------------------------------------------- the API
    @property
    def figure(self):
        """The plotly curve (no traces before the first run)."""
        return self.curve.figure

    @property
    def status_html(self) -> widgets.HTML:
        """One status line per method of the run."""
        return self.progress.status_html

    @property
    def mei_images(self) -> Dict[str, widgets.HTML]:
        return {name: panel.image for name, panel in self.panels.items()}

    @property
    def candidate_grids(self) -> Dict[str, widgets.HTML]:
        return {name: panel.candidates for name, panel in self.panels.items()}

    def select(self, layer: Optional[str] = None, unit: Optional[int] = None, network: Optional[str] = None) -> None:
        """Choose the neuron (network label, dotted layer name, unit)."""
        self.picker.select(layer=layer, unit=unit, network=network)

    def run(self) -> bool:
        """Start a run with what the screen shows (the Run button). False, with the reason shown, when a
        choice is invalid or a run is in flight; errors found while building the searches show when found."""
        if self.running or self.frozen:
            return False
        self.error_html.value = ""
        self.export_panel.result.value = ""
        try:
            if not self.methods.value:
                raise ConfigError("choose at least one method")
            choice = dict(label=self.picker.network_dropdown.value, target=self.picker.target, methods=self.methods.value,
                          budget=self.budget_box.value, seed=self.seed_box.value, concurrent=self.concurrent_box.value)
        except ConfigError as error:
            self.error_html.value = error_box(error_text(error))
            return False
        with self._control:
            self._cancel = False
            self._generation += 1
        self.set_trait("running", True)
        waiting = self.warmup is not None and not self.warmup.done("optimizers")
        self.progress.say(f"starting {html.escape(choice['target'])} of {html.escape(choice['label'])}"
                          + (": waiting for the optimizers to finish loading…" if waiting else "…"))
        self._spawn(self._start, choice, name="mango-run-starter")
        return True

    def stop(self) -> None:
        """Stop the run: each search ends after its current batch, keeping what it found."""
        with self._control:
            self._cancel = True
            live = self.live
        if live is not None:
            live.stop()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the run (and what follows it: class guesses, dataset images) has ended; True if so."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> Optional[float]:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        while True:
            with self._control:
                threads = [t for t in self._threads if t.is_alive()]
                live = self.live
            if live is not None and not live.wait(left()):
                return False
            for thread in threads:
                thread.join(left())
            if not self.running and not any(t.is_alive() for t in self._threads):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if not threads:  # the writer is about to hand over to a follow-up thread
                time.sleep(0.01)

    def show_search(self, search: Search, network_label: str, origin: str) -> None:
        """Show a finished search made elsewhere (e.g. the layer overview's) as the explorer's current result."""
        if self.running:
            raise ConfigError("a run is in flight; stop it before opening another result")
        target = str(search.objective.target)
        layer, _, unit = target.rpartition(":")
        self.picker.select(network=network_label, layer="output" if layer == "class" else layer, unit=int(unit))
        with self._control:
            self._generation += 1
        self.searches, self.live = {search.optimizer.name: search}, None
        self.run_label, self.run_target, self.run_origin = network_label, target, origin
        self._reset_outputs(search.budget)
        self._write(list(self.searches.values()), final=True)

    def clear_results(self, note: str, escape: bool = True) -> None:
        """Drop the shown run (its curve stays among the earlier runs) and show ``note`` instead, so a
        result of another neuron is never left beside a new choice."""
        if self.running:
            raise ConfigError("a run is in flight; stop it before opening another neuron")
        with self._control:
            self._generation += 1
        self.searches, self.live = {}, None
        self.panels = {}
        self.panel_box.children = []
        self.context.clear()
        self.export_panel.result.value = ""
        self.export_panel.button.disabled = True
        self.curve.clear()
        self.progress.clear(note if not escape else html.escape(note))

    def export(self, folder: Union[str, Path, None] = None, gif: bool = True) -> Dict[str, Path]:
        """Write the shown searches (``save_search`` files + GIF, one sub-folder per method) and the curves."""
        if self.running:
            raise ConfigError("a run is in flight; stop it or wait for it before exporting")
        if not self.searches:
            raise ConfigError("nothing to export yet: run a search first")
        if folder is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            folder = self.export_panel.path / f"{self.run_target.replace(':', '-')}-{stamp}"
        written = export_searches(self.searches, folder, gif=gif)
        title, y_range = self._axis_title()
        write_curves(self.curve.current, folder, self.curve.x_axis.value, self._title(), title, y_range)
        self.last_export = written
        return written

    # ------------------------------------------------------------ internals
    def _spawn(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._control:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _start(self, choice: dict) -> None:
        """The starter thread: wait for the warm-up, build the searches, start them."""
        try:
            if self.warmup is not None:
                self.warmup.wait("optimizers")
            network = self.networks.get(choice["label"])
            live = LiveRun(self._write, concurrent=choice["concurrent"], min_interval=self.min_interval,
                           on_error=lambda error: self._show_error(f"could not update the display: {error_text(error)}"))
            threads = 1 if choice["concurrent"] and len(choice["methods"]) > 1 else self.threads
            searches = {method: Search(Objective(self.generator, network, choice["target"]), method, budget=choice["budget"],
                                       seed=choice["seed"], callbacks=[live.notify], every_seconds=self.update_seconds,
                                       every_queries=self.update_queries, threads=threads)
                        for method in choice["methods"]}
        except Exception as error:  # shown in the widget, with the API's own message
            self._show_error(error_text(error))
            self.progress.say("not started")
            self.set_trait("running", False)
            return
        with self._control:
            if not self._cancel:
                self.searches, self.live = searches, live
                self.run_label, self.run_target, self.run_origin = choice["label"], choice["target"], "explorer"
        if not self._cancel:
            self._reset_outputs(choice["budget"])
        with self._control:  # Stop may have come while the outputs were reset
            if not self._cancel:
                live.start(list(searches.values()))
                return
        self.progress.say("stopped before it started")
        self.set_trait("running", False)

    def _title(self) -> str:
        origin = "" if self.run_origin == "explorer" else f" (from the {self.run_origin})"
        return f"{self.run_target} of {self.run_label}{origin}: best activation vs queries"

    def _axis_title(self):
        return activation_axis(self.networks.get(self.run_label), self.run_target)

    def _reset_outputs(self, budget: int) -> None:
        self._runs += 1
        self.panels = {}
        labels = {name: run_method_name(name, search.optimizer) for name, search in self.searches.items()}
        for i, name in enumerate(self.searches):
            label = labels[name] + ("" if self.run_origin == "explorer" else f" · {self.run_origin}")
            self.panels[name] = MethodPanel(name, label, COLORS[i % len(COLORS)])
        self.panel_box.children = [panel.box for panel in self.panels.values()]
        self.context.clear()
        y_title, y_range = self._axis_title()
        self.curve.begin(list(self.searches), self._title(), y_title, y_range, budget, labels=labels)
        self.progress.begin(self.searches, self.run_target, self.run_label)

    def _write(self, changed: List[Search], final: bool) -> None:
        """Write the progress of the changed searches (in the UI writer thread)."""
        try:
            names = {id(search): name for name, search in self.searches.items()}
            data = {}
            for search in changed:
                values = search.history.values
                timeline = self.live.timeline(search) if self.live is not None else []
                data[names[id(search)]] = (values, query_seconds(len(values), timeline + [(len(values), search.history.wall_seconds)]))
            self.curve.update(data)
            for search in changed:
                self._write_images(self.panels[names[id(search)]], search)
            self.progress.update(self.searches, self.live, final)
            if final:
                self._write_final()
        finally:
            if final:  # even if formatting failed, the run is over: unfreeze the controls
                self.set_trait("running", False)

    def _write_images(self, panel: MethodPanel, search: Search) -> None:
        values = search.history.values
        if not len(values):
            return
        indices = search.history.indices[: len(values)]
        picks = best_distinct(values, indices, self.candidate_count)
        best = indices[picks[0]]
        try:  # a generator that fails here fails the search too: its error is shown at the end
            if best.tobytes() != panel.shown_best:
                mei = search.mei
                image = (mei.image if mei is not None and mei.image is not None and np.array_equal(mei.index, best)
                         else search.objective.images(best[None])[0].cpu().numpy())
                panel.show_mei(image, float(values[picks[0]]), picks[0] + 1, self.run_target)
                panel.shown_best = best.tobytes()
            if tuple(picks) != panel.shown_candidates:
                images = search.objective.images(indices[picks]).cpu().numpy()
                panel.show_candidates(images, [values[p] for p in picks], [p + 1 for p in picks])
                panel.shown_candidates = tuple(picks)
        except Exception:
            if search.state == "running":
                return
            raise

    def _write_final(self) -> None:
        errors = [f"{html.escape(name)} failed: {html.escape(error_text(search.error))}"
                  for name, search in self.searches.items() if search.error is not None]
        if errors:
            self._show_error("<br>".join(errors), escape=False)
        self.curve.finish([curve_of(search, self._runs, self.run_label,
                                    self.live.timeline(search) if self.live is not None else [], self.run_origin)
                           for search in self.searches.values() if search.state != "ready"])
        self._spawn(self._describe, self._generation, dict(self.searches), name="mango-describe-mei")

    def _describe(self, generation: int, searches: Dict[str, Search]) -> None:
        """Off the UI thread: the network's classes on each MEI, then the dataset images that excite the neuron most."""
        self.context.describe(self.networks.get(self.run_label), self.run_target, searches, self.panels,
                              current=lambda: generation == self._generation)

    def _show_error(self, message: str, escape: bool = True) -> None:
        self.error_html.value = error_box(message, escape)

    def _sync_disabled(self) -> None:
        locked = self.running or self.frozen
        self.picker.set_disabled(locked)
        self.methods.disabled = locked
        for control in (self.budget_box, self.seed_box, self.concurrent_box, self.run_button, self.export_panel.folder):
            control.disabled = locked
        self.stop_button.disabled = not self.running
        self.export_panel.button.disabled = locked or not self.searches

    def _export_clicked(self) -> None:
        self.export_panel.result.value = "<span class='mango-note-small'>exporting…</span>"
        self._spawn(self._export_in_background, name="mango-export")

    def _export_in_background(self) -> None:
        try:
            written = self.export()
        except Exception as error:
            self.export_panel.result.value = ""
            self._show_error(error_text(error))
            return
        self.export_panel.result.value = export_summary_html(written, Path(next(iter(written.values()))).parent)
