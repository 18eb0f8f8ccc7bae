"""The epoch explorer: how neurons' specializations form and drift over training.

It shows results that were already computed (an epoch-tracking run or a sweep store): a
layer x epoch heatmap of the fraction of selective neurons, a unit x epoch heatmap of the
chosen layer, the MEIs of chosen units at the current epoch (player/slider over epochs) with
predicted class, probability and activation, one neuron's MEIs over training (methods x
epochs), and the model's accuracy with the current epoch marked. Clicking a heatmap cell
selects that layer (or neuron) and epoch. It never runs a search; the generator only
renders MEI images again from their grid indices.
"""
from __future__ import annotations

import html
from typing import Dict, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from mango_widgets.analysis.selectivity import SelectivityCriteria, selectivity_table
from mango_widgets.analysis.summaries import selective_fraction
from mango_widgets.core.generator import Generator
from mango_widgets.errors import ConfigError
from mango_widgets.widgets.images import candidates_html

REQUIRED = ("layer", "unit", "epoch", "method", "best", "top_class", "top_probability", "mei_index")
CRITERIA = ("selective", "active", "confident", "stable")


def caption(row) -> str:
    """'class 3 · p 0.93 · a 0.81' for a record; 'silent' when the unit never fired."""
    if row is None:
        return "not computed"
    if row["mei_index"] is None or (isinstance(row["best"], float) and np.isnan(row["best"])):
        return "silent"
    return f"class {int(row['top_class'])} · p {row['top_probability']:.2f} · a {row['best']:.2f}"


class EpochExplorer(widgets.VBox):
    """Browse an epoch-tracking results table (one row per epoch, layer, unit, method)."""

    def __init__(self, results, generator: Generator, accuracy: Optional[Dict[int, float]] = None,
                 criteria: SelectivityCriteria = SelectivityCriteria(), layers: Optional[Sequence[str]] = None,
                 image_size: int = 56, **kwargs):
        missing = [c for c in REQUIRED if c not in results.columns]
        if missing:
            raise ConfigError(f"the results table lacks the columns {missing}; load it with "
                              "mango_widgets.studies.epoch_tracking.records_table or the sweep store")
        if results.empty:
            raise ConfigError("the results table is empty: run an epoch tracking (or a sweep) first")
        self.results = results
        self.generator = generator
        self.criteria = criteria
        self.accuracy = dict(accuracy or {})
        self.image_size = image_size
        self.layers = list(layers or dict.fromkeys(results["layer"]))
        self.epochs = sorted(int(e) for e in set(results["epoch"]))
        self.methods = [m for m in criteria.methods if m in set(results["method"])] or sorted(set(results["method"]))
        self.verdicts = selectivity_table(results, criteria)
        self._rows = {(r.layer, int(r.unit), int(r.epoch), r.method): r._asdict()
                      for r in results[list(REQUIRED)].itertuples(index=False)}
        self._images: Dict[Tuple, np.ndarray] = {}

        self.criterion = widgets.Dropdown(options=CRITERIA, value="selective", description="criterion",
                                          layout=widgets.Layout(width="220px"))
        self.layer = widgets.Dropdown(options=self.layers, value=self.layers[-1], description="layer",
                                      layout=widgets.Layout(width="200px"))
        self.units = widgets.SelectMultiple(description="units", rows=6, layout=widgets.Layout(width="200px"))
        self.epoch = widgets.SelectionSlider(options=self.epochs, value=self.epochs[-1], description="epoch",
                                             continuous_update=False, layout=widgets.Layout(width="420px"))
        self.player = widgets.Play(min=0, max=len(self.epochs) - 1, value=len(self.epochs) - 1, interval=900,
                                   description="play over epochs")
        self.player.observe(lambda change: setattr(self.epoch, "value", self.epochs[change["new"]]), "value")
        self.neuron: Optional[Tuple[str, int]] = None

        self.layer_map = go.FigureWidget(layout=dict(height=260, width=470, margin=dict(l=60, r=10, t=30, b=40),
                                                     title=dict(text="fraction of neurons", font=dict(size=12)),
                                                     xaxis=dict(title="epoch", type="category"),
                                                     yaxis=dict(autorange="reversed", type="category")))
        self.layer_map.add_heatmap(z=[[0]], x=[str(self.epochs[0])], y=[self.layers[0]], zmin=0, zmax=1, colorscale="Viridis")
        self.unit_map = go.FigureWidget(layout=dict(height=300, width=470, margin=dict(l=60, r=10, t=30, b=40),
                                                    xaxis=dict(title="epoch", type="category"),
                                                    yaxis=dict(title="unit", autorange="reversed", type="category")))
        self.unit_map.add_heatmap(z=[[0]], zmin=0, zmax=1, colorscale="Blues", colorbar=dict(title="act."))
        self.accuracy_plot = go.FigureWidget(layout=dict(height=220, width=470, margin=dict(l=60, r=10, t=30, b=40),
                                                         title=dict(text="held-out accuracy", font=dict(size=12)),
                                                         xaxis=dict(title="epoch"), yaxis=dict(range=[0, 1])))
        keys = sorted(self.accuracy)
        self.accuracy_plot.add_scatter(x=keys, y=[self.accuracy[k] for k in keys], mode="lines+markers", name="accuracy")
        self.current = widgets.HTML()
        self.track = widgets.HTML()
        self.status = widgets.HTML()
        for name in ("current", "track"):
            getattr(self, name).add_class(f"mango-epoch-{name}")

        self.layer_map.data[0].on_click(self._layer_map_clicked)
        self.unit_map.data[0].on_click(self._unit_map_clicked)
        self.criterion.observe(lambda _c: self._draw_layer_map(), "value")
        self.layer.observe(lambda _c: self._layer_changed(), "value")
        self.units.observe(lambda _c: self._draw_current(), "value")
        self.epoch.observe(lambda _c: self._epoch_changed(), "value")

        controls = widgets.HBox([self.layer, self.criterion, widgets.VBox([self.epoch, self.player])])
        maps = widgets.HBox([widgets.VBox([self.layer_map, self.accuracy_plot]), self.unit_map])
        picks = widgets.HBox([self.units, self.current])
        super().__init__([controls, maps, picks, self.track, self.status], **kwargs)
        self._draw_layer_map()
        self._layer_changed()
        self._epoch_changed()

    # -------------------------------------------------------------- choices
    def select_cell(self, layer: str, epoch: int) -> None:
        """What a click on the layer heatmap does: show that layer at that epoch."""
        if layer not in self.layers:
            raise ConfigError(f"unknown layer {layer!r}; the results have {self.layers}")
        self.layer.value = layer
        self.epoch.value = int(epoch)

    def select_neuron(self, layer: str, unit: int, epoch: Optional[int] = None) -> None:
        """What a click on the unit heatmap does: show that neuron's MEIs over training."""
        if layer != self.layer.value:
            self.layer.value = layer
        units = self._units_of(layer)
        if int(unit) not in units:
            raise ConfigError(f"unit {unit} of {layer} is not in the results; it has units {units}")
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
        self.neuron = (self.layer.value, units[0])
        self._draw_unit_map()
        self._draw_current()
        self._draw_track()

    def _epoch_changed(self) -> None:
        epoch = self.epoch.value
        position = self.epochs.index(epoch)
        if self.player.value != position:
            self.player.value = position
        with self.accuracy_plot.batch_update():
            self.accuracy_plot.layout.shapes = [dict(type="line", x0=epoch, x1=epoch, y0=0, y1=1, line=dict(color="red", dash="dot"))]
        self._draw_current()
        accuracy = self.accuracy.get(epoch)
        self.status.value = (f"epoch {epoch}" + (f" · held-out accuracy {accuracy:.3f}" if accuracy is not None else "")
                             + f" · criterion: activation ≥ {self.criteria.activation:.0%}, confidence ≥ "
                             f"{self.criteria.confidence:.0%}, same class for {', '.join(self.criteria.methods)}")

    # -------------------------------------------------------------- drawing
    def _draw_layer_map(self) -> None:
        frame = selective_fraction(self.results, self.criteria, self.criterion.value, self.layers)
        with self.layer_map.batch_update():
            trace = self.layer_map.data[0]
            trace.z = frame.to_numpy(dtype=float).round(3).tolist()
            trace.x = [str(e) for e in frame.columns]
            trace.y = list(frame.index)
            self.layer_map.layout.title.text = f"fraction of neurons: {self.criterion.value}"

    def _draw_unit_map(self) -> None:
        layer = self.layer.value
        verdicts = self.verdicts[self.verdicts["layer"] == layer]
        activation = verdicts.pivot_table(index="unit", columns="epoch", values="activation", aggfunc="max")
        selective = verdicts.pivot_table(index="unit", columns="epoch", values="selective_class", aggfunc="max")
        text = [["" if c < 0 else str(int(c)) for c in row] for row in selective.reindex_like(activation).fillna(-1).to_numpy()]
        with self.unit_map.batch_update():
            trace = self.unit_map.data[0]
            trace.z = activation.fillna(0).to_numpy(dtype=float).round(3).tolist()
            trace.x = [str(e) for e in activation.columns]
            trace.y = [str(u) for u in activation.index]
            trace.text = text
            trace.texttemplate = "%{text}"
            self.unit_map.layout.title = dict(text=f"{layer}: best MEI activation (digit = selective class)", font=dict(size=12))

    def _image(self, key: Tuple) -> Optional[np.ndarray]:
        row = self._rows.get(key)
        if row is None or row["mei_index"] is None:
            return None
        if key not in self._images:
            self._images[key] = self.generator(np.asarray([row["mei_index"]], dtype=np.int64))[0].cpu().numpy()
        return self._images[key]

    def _cells(self, keys) -> Tuple[list, list]:
        images, captions = [], []
        blank = np.full(self.generator_shape, 0.15)
        for label, key in keys:
            image = self._image(key)
            images.append(blank if image is None else image)
            captions.append(f"{label}: {caption(self._rows.get(key))}")
        return images, captions

    @property
    def generator_shape(self) -> tuple:
        if self.generator.image_shape is not None:
            return tuple(self.generator.image_shape)
        return tuple(self.generator(np.zeros((1, self.generator.grid.d), dtype=np.int64)).shape[1:])

    def _draw_current(self) -> None:
        epoch, layer = self.epoch.value, self.layer.value
        method = self._best_method
        keys = [(f"unit {u}", (layer, int(u), epoch, method(layer, int(u), epoch))) for u in self.units.value]
        images, captions = self._cells(keys)
        self.current.value = (f"<b>{html.escape(layer)} at epoch {epoch}</b> (best MEI of {', '.join(self.methods)})"
                              + candidates_html(images, captions, size=self.image_size, columns=4, css_class="mango-epoch-meis"))

    def _best_method(self, layer: str, unit: int, epoch: int) -> str:
        rows = [(self._rows[(layer, unit, epoch, m)]["best"], m) for m in self.methods if (layer, unit, epoch, m) in self._rows]
        rows = [(b, m) for b, m in rows if not np.isnan(b)]
        return max(rows)[1] if rows else self.methods[0]

    def _draw_track(self) -> None:
        if self.neuron is None:
            self.track.value = ""
            return
        layer, unit = self.neuron
        keys = [(f"{m} e{e}", (layer, unit, e, m)) for m in self.methods for e in self.epochs]
        images, captions = self._cells(keys)
        self.track.value = (f"<b>{html.escape(layer)}:{unit} over training</b> (rows: {', '.join(self.methods)}; columns: epochs)"
                            + candidates_html(images, captions, size=self.image_size, columns=len(self.epochs),
                                              css_class="mango-epoch-track"))
