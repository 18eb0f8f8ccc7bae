"""The MEI explorer: pick a neuron and one or several methods, run, watch them race.

Thin by design: Run builds one :class:`~mango_widgets.core.search.Search` per method from the
choices and starts it in its own worker thread; a :class:`~.updates.LiveRun` writes their
progress (curve, best-so-far MEI, best distinct candidates, status line) in throttled
batches. The controls are frozen while a run is in flight.
"""
from __future__ import annotations

import base64
import html
import io
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import ipywidgets as widgets
import numpy as np
import plotly.colors
import plotly.graph_objects as go
from traitlets import Bool

from mango_widgets.core.generator import Generator
from mango_widgets.core.objective import Objective
from mango_widgets.core.optimizers import available
from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError, MangoError
from mango_widgets.records.export import export_searches, improvements
from mango_widgets.widgets.images import blank_png, candidates_html, png_bytes
from mango_widgets.widgets.pickers import NetworkChoices, NetworkSource, TargetPicker
from mango_widgets.widgets.updates import LiveControls, LiveRun

#: methods not offered in the picker (``nevergrad`` needs an ``optimizer=`` parameter)
HIDDEN_METHODS = ("nevergrad",)
COLORS = plotly.colors.qualitative.Plotly
MEI_SCALE = 5  # 28x28 -> 140x140 pixels, enlarged without smoothing


def error_text(error: BaseException) -> str:
    """The message shown for an error: exactly the API's message for the toolkit's own errors."""
    return str(error) if isinstance(error, MangoError) else f"{type(error).__name__}: {error}"


def format_status(name: str, search: Search, waiting: bool = False) -> str:
    """One status line: state, queries, queries per second, best activation, elapsed time."""
    if search.state == "ready":
        return f"<b>{html.escape(name)}</b> {'waiting' if waiting else 'not run'}"
    history = search.history
    elapsed = history.wall_seconds
    rate = search.queries / elapsed if elapsed > 0 else 0.0
    best = "—" if history.best_index is None else f"{history.best_value:.4f} (query {history.best_query:,})"
    return (
        f"<b>{html.escape(name)}</b> {search.state} · {search.queries:,}/{search.budget:,} queries · "
        f"{rate:,.0f} q/s · best {best} · {elapsed:.1f} s"
    )


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


class _Panel:
    """The image column of one method: title, best-so-far MEI, best distinct candidates."""

    def __init__(self, name: str, color: str):
        self.title = widgets.HTML(f'<b style="color:{color}">{html.escape(name)}</b>')
        size = 28 * MEI_SCALE
        self.image = widgets.Image(value=blank_png(size), format="png", width=size, height=size)
        self.image.add_class("mango-mei")
        self.caption = widgets.HTML("")
        self.candidates = widgets.HTML(candidates_html([], []))
        self.box = widgets.VBox(
            [self.title, widgets.HBox([widgets.VBox([self.image, self.caption]), self.candidates])],
            layout=widgets.Layout(margin="0 16px 8px 0", align_items="flex-start"),
        )
        self.shown_best: Optional[bytes] = None
        self.shown_candidates: tuple = ()


class MEIExplorer(LiveControls, widgets.VBox):
    """Find and watch the MEI of one neuron with one or several methods side by side.

    ``networks``: a Network, a factory returning one, or a dict label -> either (built on
    first use). Parameters after it set the initial choices and the update rate: each
    search reports every ``update_seconds`` / ``update_queries``; the UI is written at
    most once per ``min_interval`` seconds for all searches together. ``concurrent``: race
    the methods (each search in its own thread, one torch thread each) or run them one
    after another.

    Traits: ``running`` (a run is in flight), ``frozen`` (controls locked from outside,
    e.g. while another widget runs).
    """

    running = Bool(False, read_only=True)
    frozen = Bool(False)

    def __init__(
        self,
        generator: Generator,
        networks: Union[NetworkSource, Dict[str, NetworkSource]],
        methods: Sequence[str] = ("tt-b",),
        budget: int = 2000,
        seed: int = 0,
        concurrent: bool = True,
        update_seconds: float = 0.25,
        update_queries: Optional[int] = None,
        min_interval: float = 0.2,
        candidates: int = 8,
        threads: Optional[int] = -1,
        export_folder: str = "results/explorer",
        **kwargs,
    ):
        self.generator = generator
        self.networks = NetworkChoices(networks)
        self.update_seconds, self.update_queries, self.min_interval = update_seconds, update_queries, min_interval
        self.candidate_count = int(candidates)
        self.threads = threads
        self.searches: Dict[str, Search] = {}
        self.live: Optional[LiveRun] = None
        self.last_export: Dict[str, Path] = {}

        self.picker = TargetPicker(self.networks, with_unit=True)
        names = [name for name in available() if name not in HIDDEN_METHODS]
        unknown = [m for m in methods if m not in names]
        if unknown:
            raise ConfigError(f"unknown method(s) {', '.join(map(repr, unknown))}; valid methods are: {', '.join(names)}")
        descriptions = available()
        self.method_select = widgets.SelectMultiple(
            options=names, value=tuple(methods), rows=min(len(names), 6), description="methods",
            tooltip="; ".join(f"{n}: {descriptions[n]}" for n in names), layout=widgets.Layout(width="240px"),
        )
        self.method_select.add_class("mango-methods")
        self.budget_box = widgets.IntText(value=budget, description="budget", layout=widgets.Layout(width="170px"))
        self.budget_box.add_class("mango-budget")
        self.seed_box = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="150px"))
        self.seed_box.add_class("mango-seed")
        self.concurrent_box = widgets.Checkbox(value=concurrent, description="race side by side", indent=False)
        self.run_button = widgets.Button(description="Run", button_style="success", icon="play")
        self.run_button.add_class("mango-run")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.stop_button.add_class("mango-stop")
        self.status_html = widgets.HTML("Choose a neuron and methods, then Run.")
        self.status_html.add_class("mango-status")
        self.error_html = widgets.HTML("")
        self.error_html.add_class("mango-error")
        self.figure = go.FigureWidget(
            layout=go.Layout(
                height=320, margin=dict(l=55, r=10, t=40, b=45), template="plotly_white",
                xaxis_title="queries", yaxis_title="activation", title=dict(text="activation vs queries", font_size=14),
                legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
            )
        )
        self.figure.add_class("mango-curve")
        self.panels: Dict[str, _Panel] = {}
        self.panel_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.export_folder = widgets.Text(value=export_folder, description="folder", layout=widgets.Layout(width="320px"))
        self.export_button = widgets.Button(description="Export", icon="download", disabled=True)
        self.export_button.add_class("mango-export")
        self.export_html = widgets.HTML("")

        run_controls = widgets.VBox([
            widgets.HBox([self.budget_box, self.seed_box]),
            widgets.HBox([self.concurrent_box]),
            widgets.HBox([self.run_button, self.stop_button]),
        ])
        super().__init__(
            children=[
                self.picker,
                widgets.HBox([self.method_select, run_controls], layout=widgets.Layout(flex_flow="row wrap")),
                self.status_html,
                self.error_html,
                self.figure,
                self.panel_box,
                widgets.HBox([self.export_folder, self.export_button]),
                self.export_html,
            ],
            **kwargs,
        )
        self.add_class("mango-explorer")
        self.run_button.on_click(lambda _button: self.run())
        self.stop_button.on_click(lambda _button: self.stop())
        self.export_button.on_click(lambda _button: self._export_clicked())
        self.observe(lambda _change: self._sync_disabled(), ["running", "frozen"])

    # ------------------------------------------------------------- the API
    @property
    def mei_images(self) -> Dict[str, widgets.Image]:
        """The best-so-far MEI image widget of each method of the current run."""
        return {name: panel.image for name, panel in self.panels.items()}

    @property
    def candidate_grids(self) -> Dict[str, widgets.HTML]:
        return {name: panel.candidates for name, panel in self.panels.items()}

    def select(self, layer: Optional[str] = None, unit: Optional[int] = None, network: Optional[str] = None) -> None:
        """Choose the neuron (network label, dotted layer name, unit)."""
        self.picker.select(layer=layer, unit=unit, network=network)

    def run(self) -> bool:
        """Start a run with the current choices (the Run button). Returns False and shows the
        error in the widget if a choice is invalid, or if a run is already in flight."""
        if self.running or self.frozen:
            return False
        self.error_html.value = ""
        self.export_html.value = ""
        live = LiveRun(self._write, concurrent=self.concurrent_box.value, min_interval=self.min_interval, on_error=self._write_failed)
        try:
            searches = self._build_searches(live)
        except Exception as error:  # shown in the widget, with the API's own message
            self._show_error(error_text(error))
            return False
        self.searches, self.live = searches, live
        self._reset_outputs()
        self.set_trait("running", True)
        live.start(list(searches.values()))
        return True

    def export(self, folder: Union[str, Path, None] = None, gif: bool = True) -> Dict[str, Path]:
        """Write the last run's searches (``save_search`` files + GIF) into one sub-folder per method."""
        if self.running:
            raise ConfigError("a run is in flight; stop it or wait for it before exporting")
        if not self.searches:
            raise ConfigError("nothing to export yet: run a search first")
        if folder is None:
            target = next(iter(self.searches.values())).objective.target
            stamp = time.strftime("%Y%m%d-%H%M%S")
            folder = Path(self.export_folder.value) / f"{str(target).replace(':', '-')}-{stamp}"
        self.last_export = export_searches(self.searches, folder, gif=gif)
        return self.last_export

    # ------------------------------------------------------------ internals
    def _build_searches(self, live: LiveRun) -> Dict[str, Search]:
        methods = list(self.method_select.value)
        if not methods:
            raise ConfigError("choose at least one method")
        network = self.picker.network
        target = self.picker.target
        threads = 1 if self.concurrent_box.value and len(methods) > 1 else self.threads
        searches = {}
        for method in methods:
            searches[method] = Search(
                Objective(self.generator, network, target),
                method,
                budget=self.budget_box.value,
                seed=self.seed_box.value,
                callbacks=[live.notify],
                every_seconds=self.update_seconds,
                every_queries=self.update_queries,
                threads=threads,
            )
        return searches

    def _reset_outputs(self) -> None:
        search = next(iter(self.searches.values()))
        traces = []
        self.panels = {}
        for i, name in enumerate(self.searches):
            color = COLORS[i % len(COLORS)]
            traces.append(go.Scatter(
                y=[], x0=1, dx=1, mode="markers", name=f"{name} queries", legendgroup=name, showlegend=False,
                marker=dict(size=3, color=color, opacity=0.35), hoverinfo="skip",
            ))
            traces.append(go.Scatter(
                x=[], y=[], mode="lines+markers", name=name, legendgroup=name,
                line=dict(shape="hv", color=color, width=2), marker=dict(size=5, color=color),
            ))
            self.panels[name] = _Panel(name, color)
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.layout.title.text = f"{search.objective.target} of {html.escape(search.objective.network.name)}: activation vs queries"
        self.figure.add_traces(traces)
        self.panel_box.children = [panel.box for panel in self.panels.values()]
        self.status_html.value = "starting…"

    def _write(self, changed: List[Search], final: bool) -> None:
        """Write the progress of the changed searches (runs in the UI writer thread)."""
        try:
            self._write_progress(changed)
            if final:
                self._write_final()
            else:
                self.status_html.value = self._status()
        finally:
            if final:  # even if formatting failed, the run is over: unfreeze the controls
                self.set_trait("running", False)

    def _write_progress(self, changed: List[Search]) -> None:
        order = list(self.searches)
        names = {id(search): name for name, search in self.searches.items()}
        records = [(names[id(s)], s, s.history.values) for s in changed]
        with self.figure.batch_update():  # one plotly message for every trace that changed
            for name, search, values in records:
                i = order.index(name)
                raw, best = self.figure.data[2 * i], self.figure.data[2 * i + 1]
                raw.y = values
                steps = improvements(values)
                x, y = steps + 1, values[steps]
                if len(values) and steps[-1] != len(values) - 1:  # extend the step line to the last query
                    x, y = np.append(x, len(values)), np.append(y, y[-1])
                best.x, best.y = x, y
        for name, search, values in records:
            self._write_images(self.panels[name], search, values)

    def _write_images(self, panel: _Panel, search: Search, values: np.ndarray) -> None:
        if not len(values):
            return
        indices = search.history.indices[: len(values)]
        picks = best_distinct(values, indices, self.candidate_count)
        best = indices[picks[0]]
        panel.caption.value = f"best {values[picks[0]]:.4f}<br>at query {picks[0] + 1:,}"
        try:  # a generator that fails here fails the search too: its error is shown at the end
            if best.tobytes() != panel.shown_best:
                mei = search.mei
                if mei is not None and mei.image is not None and np.array_equal(mei.index, best):
                    image = mei.image
                else:
                    image = search.objective.images(best[None])[0].cpu().numpy()
                panel.image.value = png_bytes(image, MEI_SCALE)
                panel.shown_best = best.tobytes()
            if tuple(picks) != panel.shown_candidates:
                images = search.objective.images(indices[picks]).cpu().numpy()
                panel.candidates.value = candidates_html(images, [f"{values[p]:.3f} · q{p + 1}" for p in picks])
                panel.shown_candidates = tuple(picks)
        except Exception:
            if search.state == "running":
                return
            raise

    def _write_final(self) -> None:
        errors = [
            f"{html.escape(name)} failed: {html.escape(error_text(search.error))}"
            for name, search in self.searches.items() if search.error is not None
        ]
        if errors:
            self._show_error("<br>".join(errors), escape=False)
        self.status_html.value = self._status()

    def _status(self) -> str:
        waiting = self.live is not None and not self.live.stopped
        return "<br>".join(format_status(name, search, waiting) for name, search in self.searches.items())

    def _show_error(self, message: str, escape: bool = True) -> None:
        text = html.escape(message) if escape else message
        self.error_html.value = f'<div style="color:#b00020;white-space:pre-wrap">⚠ {text}</div>'

    def _write_failed(self, error: BaseException) -> None:
        self._show_error(f"could not update the display: {error_text(error)}")

    def _sync_disabled(self) -> None:
        locked = self.running or self.frozen
        self.picker.set_disabled(locked)
        for control in (self.method_select, self.budget_box, self.seed_box, self.concurrent_box, self.run_button, self.export_folder):
            control.disabled = locked
        self.stop_button.disabled = not self.running
        self.export_button.disabled = locked or not self.searches

    def _export_clicked(self) -> None:
        try:
            written = self.export()
        except Exception as error:
            self._show_error(error_text(error))
            return
        self.export_html.value = export_summary_html(written)


def export_summary_html(written: Dict[str, Path]) -> str:
    """Where an export went, plus a download link with every file zipped (for remote apps)."""
    buffer = io.BytesIO()
    root = Path(next(iter(written.values()))).parent
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in written.values():
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, path.relative_to(root).as_posix())
    link = base64.b64encode(buffer.getvalue()).decode("ascii")
    listing = ", ".join(html.escape(str(path)) for path in written.values())
    return (
        f"exported to {listing} "
        f'<a download="{html.escape(root.name)}.zip" href="data:application/zip;base64,{link}">download .zip</a>'
    )
