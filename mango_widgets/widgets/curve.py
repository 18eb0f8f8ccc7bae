"""The explorer's curve: the run in flight, earlier runs overlaid, mean and spread, CSV/PNG download.

Before the first run the figure shows no axes (they would mean nothing yet), only what will be
drawn. Traces of the run in flight come first (per method: every query
as faint dots, the best so far as a step line) and are updated in place; changing what is
overlaid, the x axis or the display redraws the figure from the stored curves.
"""
from __future__ import annotations

import base64
import html
import threading
from typing import Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np
import plotly.colors
import plotly.graph_objects as go

from mango_widgets.records.curves import RunCurve, curves_csv, curves_png, mean_and_spread
from mango_widgets.widgets.download_controls import download_controls
from mango_widgets.widgets.figures import FIGURE_WIDTH, editing, new_figure
from mango_widgets.widgets.plotly_loader import FigureSlot, PlotlyLoader

COLORS = plotly.colors.qualitative.Plotly
#: traces the figure keeps (two per method of the run, the rest for earlier runs and means; unused ones hidden)
SLOTS = 40
#: every property a trace slot is given (so a slot reused for another line keeps nothing of the old one)
TRACE_KEYS = ("x", "y", "mode", "name", "legendgroup", "showlegend", "marker", "line", "hoverinfo", "fill", "opacity", "visible")
OVERLAY_COLORS = plotly.colors.qualitative.Dark24
PLACEHOLDER = ("The activation curve appears here when a search runs:<br>for each method, the best activation "
               "found so far against the queries spent, out of the budget.")


def step_points(values: np.ndarray, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The best-so-far step line through the record-breaking queries, extended to the last query."""
    if not len(values):
        return np.zeros(0), np.zeros(0)
    best = np.maximum.accumulate(values)
    breaks = np.flatnonzero(np.r_[True, best[1:] > best[:-1]])
    if breaks[-1] != len(values) - 1:
        breaks = np.append(breaks, len(values) - 1)
    return x[breaks], best[breaks]


class CurvePanel(widgets.VBox):
    """Figure + run history controls. The explorer calls ``begin``, ``update``, ``finish`` and ``clear``."""

    def __init__(self, plotly_loader: Optional[PlotlyLoader] = None, **kwargs):
        self.history: List[RunCurve] = []
        self.current: List[RunCurve] = []
        self._names: List[str] = []
        self._labels: Dict[str, str] = {}
        self._live: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self._frame = dict(title="", y_title="activation", y_range=(0.0, 1.0), budget=1)
        self._lock = threading.RLock()
        # made with the widget, so a page draws it from its first state; a fixed number of traces (unused ones
        # hidden), so every edit is a whole-figure update (see figures.py)
        self.figure = new_figure([go.Scatter(x=[], y=[], visible=False, showlegend=False) for _ in range(SLOTS)],
                                 self._empty_layout(), css_class="mango-curve", lock=self._lock,
                                 loader=plotly_loader)
        self.x_axis = widgets.ToggleButtons(options=[("queries", "queries"), ("seconds", "seconds")], value="queries",
                                            description="x axis", style={"button_width": "auto"},
                                            tooltips=["queries spent (the budget's unit)", "wall-clock seconds of each search"])
        self.x_axis.add_class("mango-x-axis")
        self.display = widgets.ToggleButtons(options=[("each run", "runs"), ("mean and spread", "mean")], value="runs",
                                             description="show", style={"button_width": "auto"},
                                             tooltips=["one line per run",
                                                       "per network, neuron and method: mean of the runs (line) and lowest "
                                                       "to highest (band)"])
        self.display.add_class("mango-curve-display")
        self.overlay = widgets.SelectMultiple(options=[], rows=4, description="overlay runs", style={"description_width": "initial"},
                                             layout=widgets.Layout(width="min(520px, 100%)"))
        self.overlay.add_class("mango-overlay")
        self.download_button, self.download_html = download_controls(
            "CSV + PNG", "the curves shown: every query as CSV, and the figure as PNG", "mango-curve-download", "mango-curve-links")
        self.controls = widgets.HBox([widgets.VBox([self.x_axis, self.display]), self.overlay,
                                      widgets.VBox([self.download_button, self.download_html])],
                                     layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        slot = FigureSlot(self.figure, plotly_loader, "the curve")
        super().__init__([slot, self.controls], layout=widgets.Layout(width="100%"), **kwargs)
        for control in (self.x_axis, self.display, self.overlay):
            control.observe(lambda _change: self.redraw(), "value")
        self.download_button.on_click(lambda _button: self.prepare_downloads())

    # ------------------------------------------------------------------ the explorer's calls
    def begin(self, names: Sequence[str], title: str, y_title: str, y_range, budget: int,
              labels: Optional[Dict[str, str]] = None) -> None:
        """A new run of ``names`` (one per method) starts: clear the previous run's lines. ``labels``: the
        legend's name of each method (default: the name itself)."""
        with self._lock:
            self._names = list(names)[: SLOTS // 2]
            self._labels = {name: (labels or {}).get(name, name) for name in self._names}
            self._live = {name: (np.zeros(0), np.zeros(0)) for name in self._names}
            self.current = []
            self._frame = dict(title=title, y_title=y_title, y_range=y_range, budget=max(int(budget), 1))
            self.download_html.value = ""
            self.redraw()

    def update(self, data: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> None:
        """New values of the run in flight: name -> (values, seconds of each query)."""
        with self._lock:
            self._live.update({name: value for name, value in data.items() if name in self._names})
            axis = self.x_axis.value
            with editing(self.figure):
                for name in data:
                    if name not in self._names:
                        continue
                    i = self._names.index(name)
                    raw, best = self._current_pair(name, i, axis)
                    self._fill(self.figure.data[2 * i], raw)
                    self._fill(self.figure.data[2 * i + 1], best)

    def clear(self) -> None:
        """No run shown: keep only the earlier runs picked for overlay (the figure shows no stale lines)."""
        with self._lock:
            self._names, self._live, self.current = [], {}, []
            self._frame = dict(self._frame, title="no run shown: press Run")
            self.download_html.value = ""
            self.redraw()

    def finish(self, curves: Sequence[RunCurve]) -> None:
        """The run ended: keep its curves (they become earlier runs for the next one)."""
        with self._lock:
            self.current = list(curves)
            self.history.extend(curves)
            self._refresh_overlay_options()
            self.download_button.disabled = False

    def visible_traces(self) -> list:
        """The traces drawn now (the figure keeps hidden spare traces)."""
        return [trace for trace in self.figure.data if trace.visible is not False]

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        with self._lock:
            axis = self.x_axis.value
            traces = [trace for i, name in enumerate(self._names) for trace in self._current_pair(name, i, axis)]
            shown = self.shown_curves()
            if self.display.value == "mean":
                traces += self._mean_traces(shown, axis)
            else:
                traces += self._overlay_traces([c for c in shown if c not in self.current], axis)
            traces = traces[:SLOTS]
            with editing(self.figure):
                for slot, trace in zip(self.figure.data, traces + [None] * (SLOTS - len(traces))):
                    self._fill(slot, trace)
                self.figure.update_layout(self._layout(axis) if traces else self._empty_layout())

    @staticmethod
    def _fill(slot, trace: Optional[dict]) -> None:
        """Give a trace slot exactly the properties of ``trace`` (None: hide it and drop its data)."""
        trace = trace or dict(visible=False, x=[], y=[], showlegend=False)
        for key in TRACE_KEYS:
            slot[key] = trace.get(key, True if key == "visible" else None)

    def shown_curves(self) -> List[RunCurve]:
        """The curves in the figure now: this run's (once finished) and the earlier runs picked."""
        picked = [self.history[i] for i in self.overlay.value if i < len(self.history)]
        return list(self.current) + [c for c in picked if c not in self.current]

    @staticmethod
    def _empty_layout() -> dict:
        """Before any run: no axes (they would mean nothing), a sentence saying what will be drawn."""
        hidden = dict(visible=False, range=[0, 1], autorange=False)
        return dict(width=FIGURE_WIDTH, height=160, margin=dict(l=10, r=10, t=10, b=10), template="plotly_white",
                    xaxis=hidden, yaxis=hidden, showlegend=False, title=dict(text=""),
                    annotations=[dict(text=PLACEHOLDER, visible=True, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                                      font=dict(size=13, color="#777"))])

    def _layout(self, axis: str) -> dict:
        frame = self._frame
        x_range = [0, frame["budget"]] if axis == "queries" else None
        short, _, _ = frame["y_title"].partition(":")
        return dict(
            width=FIGURE_WIDTH, height=380, margin=dict(l=60, r=16, t=64, b=90), template="plotly_white",
            title=dict(text=f"{html.escape(frame['title'])}<br><sup>y: {html.escape(frame['y_title'])}</sup>", font_size=13,
                       x=0.01, xanchor="left"),
            xaxis=dict(visible=True, title="queries (of the budget)" if axis == "queries" else "seconds since the search started",
                       range=x_range, autorange=x_range is None),
            yaxis=dict(visible=True, title=dict(text=short, font_size=12), range=list(frame["y_range"]) if frame["y_range"] else None,
                       autorange=frame["y_range"] is None),
            legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, xanchor="left", font_size=11),
            # hidden, not removed: update_layout merges lists item by item, so [] would keep the placeholder
            showlegend=True, annotations=[dict(text="", visible=False)],
        )

    def _current_pair(self, name: str, i: int, axis: str) -> Tuple[dict, dict]:
        """The two traces of a method of the run in flight: every query (faint dots), best so far (step line)."""
        color = COLORS[i % len(COLORS)]
        values, seconds = self._live.get(name, (np.zeros(0), np.zeros(0)))
        x = np.arange(1, len(values) + 1, dtype=float) if axis == "queries" else seconds
        step_x, step_y = step_points(values, x)
        label = self._labels.get(name, name)
        raw = dict(x=x, y=values, mode="markers", name=f"{label}: each query", legendgroup=name, showlegend=False,
                   marker=dict(size=3, color=color, opacity=0.35), hoverinfo="skip")
        best = dict(x=step_x, y=step_y, mode="lines+markers", name=f"{label}: best so far", legendgroup=name, showlegend=True,
                    line=dict(shape="hv", color=color, width=2), marker=dict(size=5, color=color))
        return raw, best

    def _overlay_traces(self, curves: Sequence[RunCurve], axis: str) -> list:
        traces = []
        for j, curve in enumerate(curves):
            step_x, step_y = step_points(curve.values, curve.x(axis))
            traces.append(dict(x=step_x, y=step_y, mode="lines", name=f"{curve.label} (best {curve.best:.3f})", showlegend=True,
                               line=dict(shape="hv", dash="dot", width=1.6, color=OVERLAY_COLORS[j % len(OVERLAY_COLORS)])))
        return traces

    def _mean_traces(self, curves: Sequence[RunCurve], axis: str) -> list:
        groups: Dict[tuple, List[RunCurve]] = {}
        for curve in curves:
            groups.setdefault((curve.network, curve.target, curve.method), []).append(curve)
        traces = []
        for j, ((network, target, method), members) in enumerate(groups.items()):
            members = [c for c in members if len(c.values)]
            if not members:
                continue
            color = OVERLAY_COLORS[j % len(OVERLAY_COLORS)]
            x, mean, low, high = mean_and_spread(members, axis)
            label = f"{target} · {method} · {network}: mean of {len(members)} run{'s' if len(members) > 1 else ''}"
            if len(members) > 1:
                traces.append(dict(x=x, y=high, mode="lines", line=dict(width=0, color=color), showlegend=False,
                                   hoverinfo="skip", name=f"{label} (highest)"))
                traces.append(dict(x=x, y=low, mode="lines", line=dict(width=0, color=color), fill="tonexty",
                                   opacity=0.25, showlegend=False, hoverinfo="skip", name=f"{label} (lowest)"))
            traces.append(dict(x=x, y=mean, mode="lines", name=label, showlegend=True, line=dict(width=2.2, color=color)))
        return traces

    def _refresh_overlay_options(self) -> None:
        picked = self.overlay.value
        self.overlay.options = [(f"{c.label} · {c.network} · best {c.best:.3f}", i) for i, c in enumerate(self.history)]
        self.overlay.value = tuple(i for i in picked if i < len(self.history))

    # ------------------------------------------------------------------ downloads
    def prepare_downloads(self) -> None:
        """Offer the shown curves as CSV and PNG download buttons (made off the UI thread)."""
        curves = self.shown_curves()
        if not curves:
            self.download_html.value = "<span style='color:#b00020'>no finished run to download yet</span>"
            return
        self.download_html.value = "<span class='mango-note-small'>preparing CSV and PNG…</span>"
        axis, frame = self.x_axis.value, dict(self._frame)
        threading.Thread(target=self._make_downloads, args=(curves, axis, frame), daemon=True,
                         name="mango-curve-download").start()

    def _make_downloads(self, curves: List[RunCurve], axis: str, frame: dict) -> None:
        try:
            text = curves_csv(curves)
            png = curves_png(curves, axis, frame["title"], frame["y_title"], frame["y_range"])
        except Exception as error:  # shown, never lost silently
            self.download_html.value = f"<span style='color:#b00020'>could not make the files: {html.escape(str(error))}</span>"
            return
        csv_uri = "data:text/csv;base64," + base64.b64encode(text.encode()).decode("ascii")
        png_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        self.download_html.value = (
            f'<a class="mango-link-button mango-download-csv" download="mango_curves.csv" href="{csv_uri}">⬇ curves.csv</a>'
            f'<a class="mango-link-button mango-download-png" download="mango_curves.png" href="{png_uri}">⬇ curves.png</a>'
        )
