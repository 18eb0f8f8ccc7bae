"""The epoch explorer: how neurons' specializations form and drift over training.

It shows computed results (an epoch-tracking run, a sweep store, or a tracking still running):
one plotly figure with a layer x epoch heatmap of the fraction of neurons meeting a criterion,
a unit x epoch heatmap of the chosen layer, and the accuracy over epochs with the current epoch
marked; the MEIs of chosen units at the current epoch (slider and player over epochs); and one
neuron's MEIs over training (methods x epochs). Clicking a heatmap cell selects that layer (or
neuron) and epoch; "open in the explorer" hands the neuron to the callbacks. It never runs a
search: the generator only renders MEI images again from their grid indices, in one batch.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mango_widgets.analysis.selectivity import SelectivityCriteria, selectivity_table
from mango_widgets.core.generator import Generator
from mango_widgets.errors import ConfigError
from mango_widgets.widgets.figures import FIGURE_WIDTH, editing, new_figure
from mango_widgets.widgets.images import STYLE, candidates_html, image_table
from mango_widgets.widgets.plotly_loader import FigureSlot, PlotlyLoader

REQUIRED = ("layer", "unit", "epoch", "method", "best", "top_class", "top_probability", "mei_index")
CRITERIA = ("selective", "active", "confident", "stable")
LEGEND = ("<span class='mango-note-small'>Under each MEI: <b>class</b> = the network's most probable class for the MEI, "
          "<b>p</b> = that probability, <b>act.</b> = the MEI's activation of the neuron (spike rate, 0 to 1). "
          "Click an image to enlarge it.</span>")


def caption(row) -> str:
    """'class 3', 'p 0.93', 'act. 0.81' on three short lines for a record; 'silent' when the unit never fired."""
    if row is None:
        return "not computed"
    if row["mei_index"] is None or (isinstance(row["best"], float) and np.isnan(row["best"])):
        return "silent"
    return f"class {int(row['top_class'])}\np {row['top_probability']:.2f}\nact. {row['best']:.2f}"


def explanation(row, where: str) -> str:
    """The sentence behind a caption (the image's tooltip)."""
    text = caption(row)
    if "\n" not in text:
        return f"{where}: {text}"
    return (f"{where}: the network's most probable class for this MEI is {int(row['top_class'])} "
            f"(probability {row['top_probability']:.2f}); the MEI's activation of the neuron is {row['best']:.2f}")


@dataclass
class EpochData:
    """A results table with what the explorer derives from it (the selectivity verdicts take seconds)."""

    results: object
    layers: List[str]
    epochs: List[int]
    methods: List[str]
    verdicts: object
    rows: Dict[Tuple, dict]


def prepare(results, criteria: SelectivityCriteria = SelectivityCriteria(), layers: Optional[Sequence[str]] = None) -> EpochData:
    """Check a results table and compute what the explorer shows (call it off the UI thread for big studies)."""
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise ConfigError(f"the results table lacks the columns {missing}; load it with "
                          "mango_widgets.studies.epoch_tracking.records_table or the sweep store")
    if results.empty:
        raise ConfigError("the results table is empty: run an epoch tracking (or a sweep) first")
    found = list(dict.fromkeys(results["layer"]))
    ordered = [layer for layer in (layers or found) if layer in set(found)] or found
    methods = [m for m in criteria.methods if m in set(results["method"])] or sorted(set(results["method"]))
    rows = {(r.layer, int(r.unit), int(r.epoch), r.method): r._asdict() for r in results[list(REQUIRED)].itertuples(index=False)}
    return EpochData(results, ordered, sorted(int(e) for e in set(results["epoch"])), methods,
                     selectivity_table(results, criteria), rows)


class EpochExplorer(widgets.VBox):
    """Browse an epoch-tracking results table (one row per epoch, layer, unit, method), or its
    :func:`prepare`-d form."""

    def __init__(self, results, generator: Generator, accuracy: Optional[Dict[int, float]] = None,
                 criteria: SelectivityCriteria = SelectivityCriteria(), layers: Optional[Sequence[str]] = None,
                 image_size: int = 64, plotly_loader: Optional[PlotlyLoader] = None, **kwargs):
        self.generator, self.criteria, self.image_size = generator, criteria, image_size
        self.accuracy = dict(accuracy or {})
        self._layer_order = list(layers) if layers else None
        self._images: Dict[Tuple, np.ndarray] = {}
        self._open_callbacks: List[Callable[[str, int, int, Optional[dict]], None]] = []
        self.neuron: Optional[Tuple[str, int]] = None
        self._load(results)

        self.criterion = widgets.Dropdown(options=CRITERIA, value="selective", description="criterion",
                                          layout=widgets.Layout(width="220px"))
        self.layer = widgets.Dropdown(options=self.layers, value=self.layers[-1], description="layer",
                                      layout=widgets.Layout(width="200px"))
        self.layer.add_class("mango-epoch-layer")
        self.units = widgets.SelectMultiple(description="units", rows=6, layout=widgets.Layout(width="180px"))
        self.epoch = widgets.SelectionSlider(options=self.epochs, value=self.epochs[-1], description="epoch",
                                             continuous_update=False, layout=widgets.Layout(width="420px"))
        self.epoch.add_class("mango-epoch-slider")
        self.player = widgets.Play(min=0, max=len(self.epochs) - 1, value=len(self.epochs) - 1, interval=900,
                                   description="play over epochs")
        self.player.observe(lambda change: setattr(self.epoch, "value", self.epochs[min(change["new"], len(self.epochs) - 1)]), "value")
        self.figure = new_figure(*self._figure_parts(), css_class="mango-epoch-maps", loader=plotly_loader)
        self.current, self.track, self.status = widgets.HTML(), widgets.HTML(), widgets.HTML()
        for name in ("current", "track", "status"):
            getattr(self, name).add_class(f"mango-epoch-{name}")
        self.open_button = widgets.Button(description="open in the explorer", icon="external-link", disabled=True,
                                          layout=widgets.Layout(width="auto"))
        self.open_button.add_class("mango-epoch-open")
        self.open_button.on_click(lambda _button: self.open_neuron())

        self.figure.data[0].on_click(self._layer_map_clicked)
        self.figure.data[1].on_click(self._unit_map_clicked)
        self.criterion.observe(lambda _c: self._draw_maps(), "value")
        self.layer.observe(lambda _c: self._layer_changed(), "value")
        self.units.observe(lambda _c: self._draw_current(), "value")
        self.epoch.observe(lambda _c: self._epoch_changed(), "value")

        row = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        controls = widgets.HBox([self.layer, self.criterion,
                                 widgets.VBox([self.epoch, self.player], layout=widgets.Layout(width="440px"))], layout=row)
        picks = widgets.HBox([self.units, self.current], layout=row)
        super().__init__([widgets.HTML(STYLE), controls, FigureSlot(self.figure, plotly_loader, "the maps"), self.status, picks,
                          widgets.HBox([self.open_button], layout=row), self.track, widgets.HTML(LEGEND)], **kwargs)
        self.add_class("mango-epoch-explorer")
        self._layer_changed()
        self._epoch_changed()

    # -------------------------------------------------------------- data
    def _load(self, results) -> None:
        data = results if isinstance(results, EpochData) else prepare(results, self.criteria, self._layer_order)
        self.results, self.layers, self.epochs = data.results, data.layers, data.epochs
        self.methods, self.verdicts, self._rows = data.methods, data.verdicts, data.rows

    def set_results(self, results) -> None:
        """Show a new or grown results table (e.g. while a tracking runs); keeps the choices that still exist."""
        self._load(results)
        layer = self.layer.value if self.layer.value in self.layers else self.layers[-1]
        epoch = self.epoch.value if self.epoch.value in self.epochs else self.epochs[-1]
        with self.hold_trait_notifications():
            self.layer.options = self.layers
            self.epoch.options = self.epochs
            self.player.max = len(self.epochs) - 1
        self.layer.value, self.epoch.value = layer, epoch
        self._draw_maps()
        self._layer_changed()
        self._epoch_changed()

    def _fraction(self):
        verdicts = self.verdicts
        pivot = verdicts.pivot_table(index="layer", columns="epoch", values=self.criterion_value, aggfunc="mean")
        return pivot.reindex(index=self.layers, columns=self.epochs).astype(float)

    @property
    def criterion_value(self) -> str:
        return self.criterion.value if hasattr(self, "criterion") else "selective"

    def _unit_matrix(self, layer: str):
        verdicts = self.verdicts[self.verdicts["layer"] == layer]
        activation = verdicts.pivot_table(index="unit", columns="epoch", values="activation", aggfunc="max")
        activation = activation.reindex(columns=self.epochs)
        selective = verdicts.pivot_table(index="unit", columns="epoch", values="selective_class", aggfunc="max")
        text = [["" if c < 0 else str(int(c)) for c in row]
                for row in selective.reindex_like(activation).fillna(-1).to_numpy()]
        return activation, text

    # -------------------------------------------------------------- the figure
    def _figure_parts(self):
        fraction = self._fraction()
        layer = self.layers[-1]
        activation, text = self._unit_matrix(layer)
        keys = sorted(self.accuracy)
        figure = make_subplots(rows=2, cols=2, specs=[[{}, {"rowspan": 2}], [{}, None]], column_widths=[0.42, 0.58],
                               row_heights=[0.58, 0.42], horizontal_spacing=0.13, vertical_spacing=0.2,
                               subplot_titles=(self._layer_title(), self._unit_title(layer), "held-out accuracy"))
        figure.add_trace(go.Heatmap(z=fraction.round(3).to_numpy().tolist(), x=[str(e) for e in fraction.columns],
                                    y=list(fraction.index), zmin=0, zmax=1, colorscale="Viridis", name="layers",
                                    colorbar=dict(title="fraction", x=0.38, len=0.5, y=0.78, thickness=10),
                                    hovertemplate="layer %{y}, epoch %{x}: %{z:.2f}<extra></extra>"), row=1, col=1)
        figure.add_trace(self._unit_heatmap(activation, text), row=1, col=2)
        figure.add_trace(go.Scatter(x=keys, y=[self.accuracy[k] for k in keys], mode="lines+markers", name="accuracy",
                                    hovertemplate="epoch %{x}: %{y:.3f}<extra></extra>"), row=2, col=1)
        figure.update_xaxes(title_text="epoch", type="category", row=1, col=1)
        figure.update_yaxes(autorange="reversed", type="category", row=1, col=1)
        figure.update_xaxes(title_text="epoch", type="category", row=1, col=2)
        figure.update_yaxes(title_text="unit", autorange="reversed", type="category", row=1, col=2)
        figure.update_xaxes(title_text="epoch", row=2, col=1)
        figure.update_yaxes(range=[0, 1], row=2, col=1)
        figure.update_layout(width=FIGURE_WIDTH, height=560, margin=dict(l=60, r=20, t=40, b=50), showlegend=False, template="plotly_white",
                             clickmode="event")
        figure.update_annotations(font_size=12)
        return figure.data, figure.layout

    @staticmethod
    def _unit_heatmap(activation, text) -> go.Heatmap:
        return go.Heatmap(z=activation.fillna(0).to_numpy(dtype=float).round(3).tolist(), x=[str(e) for e in activation.columns],
                          y=[str(u) for u in activation.index], text=text, texttemplate="%{text}", zmin=0, zmax=1,
                          colorscale="Blues", name="units", colorbar=dict(title="act.", thickness=10),
                          hovertemplate="unit %{y}, epoch %{x}: activation %{z:.2f}<extra></extra>")

    def _layer_title(self) -> str:
        return f"fraction of neurons: {self.criterion_value} (click a cell)"

    @staticmethod
    def _unit_title(layer: str) -> str:
        return f"{layer}: best MEI activation (digit = selective class; click a cell)"

    def _draw_maps(self) -> None:
        fraction = self._fraction()
        with editing(self.figure):
            trace = self.figure.data[0]
            trace.z = fraction.round(3).to_numpy().tolist()
            trace.x, trace.y = [str(e) for e in fraction.columns], list(fraction.index)
            self.figure.layout.annotations[0].text = self._layer_title()

    def _draw_unit_map(self) -> None:
        layer = self.layer.value
        activation, text = self._unit_matrix(layer)
        fresh = self._unit_heatmap(activation, text)
        with editing(self.figure):
            trace = self.figure.data[1]
            trace.z, trace.x, trace.y, trace.text = fresh.z, fresh.x, fresh.y, fresh.text
            self.figure.layout.annotations[1].text = self._unit_title(layer)

    # -------------------------------------------------------------- choices
    def on_open(self, callback: Callable[[str, int, int, Optional[dict]], None]) -> None:
        """Call ``callback(layer, unit, epoch, record)`` when "open in the explorer" is clicked
        (``record``: the study's best MEI of that neuron at that epoch, or None)."""
        self._open_callbacks.append(callback)
        self.open_button.disabled = self.neuron is None

    def open_neuron(self) -> None:
        if self.neuron is None:
            return
        layer, unit = self.neuron
        epoch = int(self.epoch.value)
        record = self._rows.get((layer, unit, epoch, self._best_method(layer, unit, epoch)))
        for callback in self._open_callbacks:
            callback(layer, unit, epoch, record)

    def select_cell(self, layer: str, epoch: int) -> None:
        """What a click on the layer heatmap does: show that layer at that epoch."""
        if layer not in self.layers:
            raise ConfigError(f"unknown layer {layer!r}; the results have {self.layers}")
        self.layer.value = layer
        self.epoch.value = int(epoch)

    def select_neuron(self, layer: str, unit: int, epoch: Optional[int] = None) -> None:
        """What a click on the unit heatmap does: show that neuron's MEIs over training."""
        if layer not in self.layers:
            raise ConfigError(f"unknown layer {layer!r}; the results have {self.layers}")
        units = self._units_of(layer)
        if int(unit) not in units:
            raise ConfigError(f"unit {unit} of {layer} is not in the results; it has units {units}")
        if layer != self.layer.value:
            self.layer.value = layer
        self.neuron = (layer, int(unit))
        if epoch is not None:
            self.epoch.value = int(epoch)
        if int(unit) not in self.units.value:
            self.units.value = tuple(self.units.value) + (int(unit),)
        self._draw_track()

    # ------------------------------------------------------------- handlers
    def _layer_map_clicked(self, _trace, points, _state) -> None:
        if points.xs:
            self.select_cell(points.ys[0], int(points.xs[0]))

    def _unit_map_clicked(self, _trace, points, _state) -> None:
        if points.xs:
            self.select_neuron(self.layer.value, int(points.ys[0]), int(points.xs[0]))

    def _units_of(self, layer: str) -> list:
        return sorted(int(u) for u in set(self.results.loc[self.results["layer"] == layer, "unit"]))

    def _layer_changed(self) -> None:
        units = self._units_of(self.layer.value)
        self.units.options = units
        self.units.value = tuple(units[:4])
        if self.neuron is None or self.neuron[0] != self.layer.value or self.neuron[1] not in units:
            self.neuron = (self.layer.value, units[0])
        self._draw_unit_map()
        self._draw_current()
        self._draw_track()

    def _epoch_changed(self) -> None:
        epoch = self.epoch.value
        position = self.epochs.index(epoch)
        if self.player.value != position:
            self.player.value = position
        with editing(self.figure):
            self.figure.layout.shapes = [dict(type="line", xref="x3", yref="y3", x0=epoch, x1=epoch, y0=0, y1=1,
                                              line=dict(color="red", dash="dot"))]
        self._draw_current()
        self._draw_track()
        accuracy = self.accuracy.get(epoch)
        self.status.value = (f"epoch {epoch}" + (f" · held-out accuracy {accuracy:.3f}" if accuracy is not None else "")
                             + f" · selective = activation ≥ {self.criteria.activation:.0%}, confidence ≥ "
                             f"{self.criteria.confidence:.0%}, same class for {', '.join(self.criteria.methods)}")

    # -------------------------------------------------------------- images
    def _render(self, keys: Sequence[Tuple]) -> None:
        """Render every MEI of ``keys`` not yet cached, in one generator call."""
        todo = [k for k in dict.fromkeys(keys) if k not in self._images and self._rows.get(k) is not None
                and self._rows[k]["mei_index"] is not None]
        if todo:
            indices = np.asarray([self._rows[k]["mei_index"] for k in todo], dtype=np.int64)
            for key, image in zip(todo, self.generator(indices).cpu().numpy()):
                self._images[key] = image

    def _cells(self, keys) -> Tuple[list, list, list]:
        """Images, captions and tooltips of (label, record key) pairs."""
        self._render([key for _, key in keys])
        images = [self._images.get(key) for _, key in keys]
        captions = [caption(self._rows.get(key)) for _, key in keys]
        titles = [explanation(self._rows.get(key), label) for label, key in keys]
        blank = np.full(next((i.shape for i in images if i is not None), (1, 28, 28)), 0.15)
        return [blank if i is None else i for i in images], captions, titles

    def _best_method(self, layer: str, unit: int, epoch: int) -> str:
        rows = [(self._rows[(layer, unit, epoch, m)]["best"], m) for m in self.methods if (layer, unit, epoch, m) in self._rows]
        rows = [(b, m) for b, m in rows if not np.isnan(b)]
        return max(rows)[1] if rows else self.methods[0]

    def _draw_current(self) -> None:
        epoch, layer = self.epoch.value, self.layer.value
        keys = [(f"unit {u}", (layer, int(u), epoch, self._best_method(layer, int(u), epoch))) for u in self.units.value]
        images, captions, titles = self._cells(keys)
        captions = [f"{label}\n{text}" for (label, _), text in zip(keys, captions)]
        self.current.value = (f"<b>{html.escape(layer)} at epoch {epoch}</b> (best MEI of {', '.join(self.methods)})"
                              + candidates_html(images, captions, size=96, columns=4, css_class="mango-epoch-meis",
                                                titles=titles))

    def _draw_track(self) -> None:
        if self.neuron is None:
            self.track.value = ""
            self.open_button.disabled = True
            return
        layer, unit = self.neuron
        keys = [(f"{m} at epoch {e}", (layer, unit, e, m)) for m in self.methods for e in self.epochs]
        images, captions, titles = self._cells(keys)
        width = len(self.epochs)
        rows = [(m, list(zip(images[i * width:(i + 1) * width], captions[i * width:(i + 1) * width],
                             titles[i * width:(i + 1) * width]))) for i, m in enumerate(self.methods)]
        self.open_button.description = f"open {layer}:{unit} at epoch {self.epoch.value} in the explorer"
        self.open_button.disabled = not self._open_callbacks
        self.track.value = (f"<b>{html.escape(layer)}:{unit} over training</b> (rows: methods; columns: epochs)"
                            + image_table(rows, [f"epoch {e}" if len(self.epochs) <= 6 else f"e{e}" for e in self.epochs],
                                          size=self.image_size, css_class="mango-epoch-track"))
