"""Activation curves of finished or running searches: run history, mean and spread, CSV and PNG.

A :class:`RunCurve` is a plain copy of what a search recorded (every query's activation and
when it was measured), so curves of earlier runs stay comparable after their searches are gone.
The widgets overlay them; the CSV and PNG here are what their download buttons offer.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.records.atomic import write_bytes, write_text

#: what the x axis of a curve can count
X_AXES = ("queries", "seconds")
CSV_COLUMNS = ("run", "network", "target", "method", "seed", "query", "seconds", "activation", "best_so_far")


@dataclass
class RunCurve:
    """One search's curve: ``values[i]`` is the activation of query i+1, measured ``seconds[i]``
    after the search started."""

    run: int
    network: str
    target: str
    method: str
    seed: int
    budget: int
    values: np.ndarray
    seconds: np.ndarray
    state: str = "finished"
    origin: str = "explorer"
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """'run 3 · lif4:12 · tt-b · seed 0'"""
        return f"run {self.run} · {self.target} · {self.method} · seed {self.seed}"

    @property
    def best(self) -> float:
        return float(self.values.max()) if len(self.values) else float("nan")

    def best_so_far(self) -> np.ndarray:
        return np.maximum.accumulate(self.values) if len(self.values) else self.values

    def x(self, axis: str = "queries") -> np.ndarray:
        """The x value of every query: its number (1-based) or its time in seconds."""
        check_axis(axis)
        return np.arange(1, len(self.values) + 1, dtype=float) if axis == "queries" else self.seconds


def activation_axis(network, target) -> Tuple[str, Optional[Tuple[float, float]]]:
    """What a target's activation is, as an axis title, and its fixed range ([0, 1] where it is a rate
    or a probability; None where it is unbounded, e.g. an analog layer)."""
    from mango_widgets.core.targets import ClassTarget, parse_target

    parsed = parse_target(target)
    if isinstance(parsed, ClassTarget):
        if network.spiking:
            return f"output spike rate of class {parsed.index}: spikes per time step", (0.0, 1.0)
        return f"probability of class {parsed.index}", (0.0, 1.0)
    if network.layer(parsed.layer).spiking:
        return "spike rate: spikes per time step, averaged over the unit's positions", (0.0, 1.0)
    return "activation: the unit's output averaged over its positions (unbounded)", None


def check_axis(axis: str) -> None:
    if axis not in X_AXES:
        raise unknown_choice("x axis", axis, X_AXES)


def query_seconds(queries: int, timeline: Sequence[Tuple[int, float]]) -> np.ndarray:
    """Seconds of each of ``queries`` queries, interpolated between (queries done, seconds) marks."""
    marks = sorted({(0, 0.0), *((int(q), float(t)) for q, t in timeline)})
    done = np.asarray([q for q, _ in marks], dtype=float)
    times = np.maximum.accumulate(np.asarray([t for _, t in marks], dtype=float))
    return np.interp(np.arange(1, queries + 1, dtype=float), done, times) if queries else np.zeros(0)


def curve_of(search, run: int, network: str, timeline: Sequence[Tuple[int, float]] = (), origin: str = "explorer") -> RunCurve:
    """A RunCurve copied from a Search (``timeline``: (queries done, seconds) marks seen while it ran)."""
    values = np.asarray(search.history.values, dtype=float)
    marks = list(timeline) + [(len(values), float(search.history.wall_seconds))]
    return RunCurve(
        run=run, network=network, target=str(search.objective.target), method=search.optimizer.name, seed=search.seed,
        budget=search.budget, values=values, seconds=query_seconds(len(values), marks), state=search.state, origin=origin,
    )


def best_so_far_at(curve: RunCurve, grid: np.ndarray, axis: str) -> np.ndarray:
    """The curve's best-so-far activation at each x of ``grid`` (NaN before its first query)."""
    x, best = curve.x(axis), curve.best_so_far()
    if not len(x):
        return np.full(len(grid), np.nan)
    positions = np.searchsorted(x, grid, side="right") - 1
    out = np.where(positions >= 0, best[np.clip(positions, 0, None)], np.nan)
    return out.astype(float)


def mean_and_spread(curves: Sequence[RunCurve], axis: str = "queries", points: int = 200):
    """Mean, lowest and highest best-so-far activation of several runs on a common x grid.

    The grid ends where the shortest run ends, so every point averages every run.
    Returns (x, mean, low, high); needs at least one run with a query.
    """
    check_axis(axis)
    curves = [c for c in curves if len(c.values)]
    if not curves:
        raise ConfigError("no run has a query yet: nothing to average")
    end = min(c.x(axis)[-1] for c in curves)
    start = 1.0 if axis == "queries" else min(c.x(axis)[0] for c in curves)
    if axis == "queries":
        grid = np.unique(np.linspace(1, end, min(points, int(end))).round())
    else:
        grid = np.linspace(start, end, points) if end > start else np.asarray([end])
    stacked = np.vstack([best_so_far_at(c, grid, axis) for c in curves])
    return grid, np.nanmean(stacked, 0), np.nanmin(stacked, 0), np.nanmax(stacked, 0)


def curves_csv(curves: Iterable[RunCurve]) -> str:
    """Every query of every run, one row each (``CSV_COLUMNS``), as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in curves:
        best = c.best_so_far()
        for i, value in enumerate(c.values):
            writer.writerow([c.run, c.network, c.target, c.method, c.seed, i + 1, f"{c.seconds[i]:.4f}",
                             f"{value:.6g}", f"{best[i]:.6g}"])
    return buffer.getvalue()


def draw_curves(ax, curves: Sequence[RunCurve], axis: str = "queries", y_label: str = "activation",
                y_range: Optional[Tuple[float, float]] = (0.0, 1.0)) -> None:
    """Best-so-far curves of several runs into matplotlib axes (one line per run)."""
    for c in curves:
        ax.step(c.x(axis), c.best_so_far(), where="post", lw=1.8, label=f"{c.label} (best {c.best:.3f})")
    ax.set_xlabel("queries" if axis == "queries" else "seconds since the search started")
    ax.set_ylabel(y_label)
    if y_range is not None:
        ax.set_ylim(*y_range)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(loc="lower right", fontsize=7)


def curves_png(curves: Sequence[RunCurve], axis: str = "queries", title: str = "", y_label: str = "activation",
               y_range: Optional[Tuple[float, float]] = (0.0, 1.0)) -> bytes:
    """The best-so-far curves as PNG bytes (matplotlib, no global pyplot state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.8), dpi=110)
    ax = figure.add_subplot()
    draw_curves(ax, curves, axis, y_label, y_range)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_curves(curves: Sequence[RunCurve], folder: Union[str, Path], axis: str = "queries", title: str = "",
                 y_label: str = "activation", y_range: Optional[Tuple[float, float]] = (0.0, 1.0)) -> List[Path]:
    """Write ``curves.csv`` and ``curves.png`` into ``folder``; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = folder / "curves.csv", folder / "curves.png"
    write_text(csv_path, curves_csv(curves))
    write_bytes(png_path, curves_png(curves, axis, title, y_label, y_range))
    return [csv_path, png_path]
