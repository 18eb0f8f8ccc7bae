"""Static (matplotlib) figures of the specialization summaries, for docs and reports.

Each ``draw_*`` function draws into the axes it is given; ``save_report_figures`` lays them out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np


def draw_heatmap(ax, frame, title: str, vmax: float = 1.0) -> None:
    """Layer (rows, shallow on top) x epoch heatmap of fractions."""
    image = ax.imshow(frame.to_numpy(dtype=float), aspect="auto", cmap="viridis", vmin=0, vmax=vmax)
    ax.set_yticks(range(len(frame.index)), list(frame.index))
    ax.set_xticks(range(len(frame.columns)), [str(c) for c in frame.columns])
    ax.set_xlabel("epoch")
    ax.set_title(title, fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)


def draw_entropy(ax, first: Dict[str, np.ndarray], last: Dict[str, np.ndarray], epochs) -> None:
    """Box plots of normalised MEI entropy per layer, first vs last epoch."""
    layers = list(first)
    positions = np.arange(len(layers))
    for offset, data, color, label in ((-0.18, first, "tab:orange", f"epoch {epochs[0]}"), (0.18, last, "tab:blue", f"epoch {epochs[-1]}")):
        values = [data[l] if len(data[l]) else [np.nan] for l in layers]
        box = ax.boxplot(values, positions=positions + offset, widths=0.3, patch_artist=True, showfliers=False)
        for patch in box["boxes"]:
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        ax.plot([], [], color=color, lw=6, alpha=0.6, label=label)
    ax.set_xticks(positions, layers)
    ax.set_ylim(0, 1)
    ax.set_ylabel("normalised entropy of MEI class probabilities")
    ax.legend(fontsize=8)


def draw_activation(ax, mean_activation, accuracy: Dict[int, float]) -> None:
    """Mean MEI activation per layer over epochs, with the model's accuracy on a twin axis."""
    epochs = list(mean_activation.columns)
    for layer, row in mean_activation.iterrows():
        ax.plot(epochs, row.to_numpy(), marker="o", ms=3, label=layer)
    finish_over_training(ax, "mean MEI activation", accuracy)


def finish_over_training(ax, ylabel: str, accuracy: Dict[int, float]) -> None:
    """Label a per-layer panel over training (epochs on x, a share in [0, 1] on y) and draw the
    model's held-out accuracy per epoch, dashed, on a twin axis (none when ``accuracy`` is empty)."""
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    if accuracy:
        twin = ax.twinx()
        keys = sorted(accuracy)
        twin.plot(keys, [accuracy[k] for k in keys], color="black", ls="--", label="accuracy")
        twin.set_ylabel("held-out accuracy (dashed)")
        twin.set_ylim(0, 1)


def draw_tracks(ax, fractions) -> None:
    """Stacked bars: fractions of non-specialised, stable and labile neurons per layer."""
    bottom = np.zeros(len(fractions))
    for label, color in (("non-specialised", "lightgray"), ("stable", "tab:green"), ("labile", "tab:red")):
        values = fractions[label].to_numpy(dtype=float)
        ax.bar(range(len(fractions)), values, bottom=bottom, color=color, label=label)
        bottom += values
    ax.set_xticks(range(len(fractions)), list(fractions.index))
    ax.set_ylabel("fraction of neurons")
    ax.legend(fontsize=8)


def draw_lines(ax, frame, ylabel: str) -> None:
    """One line per layer over epochs."""
    for layer, row in frame.iterrows():
        ax.plot(list(frame.columns), row.to_numpy(), marker="o", ms=3, label=layer)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)


def save_report_figures(tables: dict, accuracy: Dict[int, float], layers: List[str], epochs: List[int], folder: Path) -> List[Path]:
    """Write selectivity.png, entropy_activation.png and diversity_complexity.png into ``folder``."""
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    fig = Figure(figsize=(14, 3.6))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.7]})
    draw_heatmap(axes[0], tables["active_fraction"], "activation >= 75%")
    draw_heatmap(axes[1], tables["selective_fraction"], "selective: activation, confidence >= 75%, stable over TT/TT-s/TT-b")
    draw_tracks(axes[2], tables["track_fractions"])
    fig.tight_layout()
    paths.append(folder / "selectivity.png")
    fig.savefig(paths[-1], dpi=110)

    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 2)
    draw_entropy(axes[0], tables["entropy_first"], tables["entropy_last"], epochs)
    draw_activation(axes[1], tables["mean_activation"], accuracy)
    fig.tight_layout()
    paths.append(folder / "entropy_activation.png")
    fig.savefig(paths[-1], dpi=110)

    fig = Figure(figsize=(14, 3.4))
    axes = fig.subplots(1, 3)
    draw_lines(axes[0], tables["diversity_euclidean"], "mean Euclidean distance of MEI latents")
    draw_lines(axes[1], tables["complexity_jpeg"], "JPEG size / raw size")
    draw_lines(axes[2], tables["complexity_zip"], "ZIP size / raw size")
    fig.tight_layout()
    paths.append(folder / "diversity_complexity.png")
    fig.savefig(paths[-1], dpi=110)
    return paths
