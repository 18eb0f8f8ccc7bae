"""Static plots (matplotlib) for files and the CLI; they draw into the axes they are given."""
from __future__ import annotations

import io

import numpy as np

from mango_widgets.records.atomic import write_bytes


def plot_activation_curve(ax, values: np.ndarray, label: str = "", show_queries: bool = True):
    """Best-so-far activation against queries, with each query's value as faint dots."""
    values = np.asarray(values)
    queries = np.arange(1, len(values) + 1)
    if show_queries:
        ax.plot(queries, values, ".", ms=2, alpha=0.25, color="grey")
    ax.plot(queries, np.maximum.accumulate(values) if len(values) else values, lw=2, label=label or "best so far")
    ax.set_xlabel("queries")
    ax.set_ylabel("activation")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return ax


def save_activation_curve(values: np.ndarray, path, title: str = "") -> None:
    """Write the activation curve of one search as a PNG (atomically)."""
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    figure = Figure(figsize=(6, 3.5), dpi=120)
    ax = figure.add_subplot()
    plot_activation_curve(ax, values)
    ax.set_title(title)
    ax.legend(loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_bytes(path, buffer.getvalue())
