"""The paper's figures from the study's unit-level data (each ``draw_*`` draws into the axes it is given).

fig06 entropy early vs late, fig07 selectivity heatmaps, fig08 emergence and activation by layer,
fig09 activation over training with accuracy, fig10 stable/labile neurons and a labile neuron's
MEIs, fig11 diversity between methods, fig12 complexity, fig13 MEIs by layer, figB the two
generators, and the warm-start control. Error bars are bootstrap 95% intervals over neurons.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from mango_widgets.analysis.static_figures import finish_over_training
from mango_widgets.analysis.statistics import bootstrap_ci
from mango_widgets.studies.reproduction.gallery import draw_generator_meis, draw_layer_gallery, draw_neuron_track, pick_labile_neuron

RESAMPLES = 500


def _ci(values):
    interval = bootstrap_ci(values, resamples=RESAMPLES)
    return interval.estimate, interval.low, interval.high


def _errorbars(ax, x, values_by_x, **style):
    stats = np.array([_ci(v) for v in values_by_x], dtype=float)
    if len(stats) == 0:
        return
    lower = np.nan_to_num(stats[:, 0] - stats[:, 1])
    upper = np.nan_to_num(stats[:, 2] - stats[:, 0])
    ax.errorbar(x, stats[:, 0], yerr=[lower, upper], capsize=3, **style)


def draw_entropy(ax, neurons, baseline, layers: List[str], epochs: List[int]) -> None:
    """Neurons' MEI entropy per layer at the first and last epoch; dashes: random images' mean entropy."""
    for offset, epoch, color in ((-0.18, epochs[0], "tab:orange"), (0.18, epochs[-1], "tab:blue")):
        at = neurons[neurons["epoch"] == epoch]
        data = [at.loc[at["layer"] == layer, "entropy"].dropna().to_numpy() for layer in layers]
        box = ax.boxplot([d if len(d) else [np.nan] for d in data], positions=np.arange(len(layers)) + offset, widths=0.3,
                         patch_artist=True, showfliers=False)
        for patch in box["boxes"]:
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        random = baseline.loc[baseline["epoch"] == epoch, "random_entropy"]
        if len(random):
            ax.axhline(float(random.iloc[0]), color=color, ls="--", lw=1)
        ax.plot([], [], color=color, lw=6, alpha=0.6, label=f"epoch {epoch} (dashed: random images)")
    ax.set_xticks(range(len(layers)), layers, rotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel("normalised entropy of MEI class probabilities")
    ax.legend(fontsize=7)


def layer_epoch_table(neurons, column: str, layers: List[str], epochs: List[int]):
    """Mean of ``column`` per layer (rows, in ``layers`` order) and epoch (every one of ``epochs``,
    NaN where the measure has no value: ``pivot_table`` alone would drop such an epoch)."""
    return neurons.pivot_table(index="layer", columns="epoch", values=column).reindex(index=layers, columns=epochs)


def draw_heatmap(ax, frame, title: str, vmin: float = 0.0, vmax: float = 1.0, cmap: str = "viridis") -> None:
    """Layer (rows) x epoch heatmap of a table of shares or differences (a note instead, when it is empty)."""
    if frame.size == 0:  # no layer or no epoch: say so instead of drawing a zero-wide image
        ax.text(0.5, 0.5, "no values to show", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title, fontsize=9)
        return
    image = ax.imshow(frame.to_numpy(dtype=float), aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_yticks(range(len(frame.index)), list(frame.index))
    ax.set_xticks(range(len(frame.columns)), [str(c) for c in frame.columns])
    ax.set_xlabel("epoch")
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)


def draw_emergence(ax, emergence, layers: List[str]) -> None:
    """First epoch with a strong MEI (>= 75% activation) per layer: one dot per neuron that ever has one."""
    rng = np.random.default_rng(0)
    for i, layer in enumerate(layers):
        values = emergence.loc[(emergence["layer"] == layer) & emergence["ever_strong"], "first_epoch"].to_numpy()
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=14, alpha=0.7, color="tab:blue")
        never = int(((emergence["layer"] == layer) & ~emergence["ever_strong"]).sum())
        ax.text(i, 0.02, f"never: {never}", transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(layers)), layers, rotation=30)
    ax.set_ylabel("first epoch with a strong MEI (median over seeds)")


def draw_layer_activation(ax, neurons, layers: List[str], epoch: int, compare=None) -> None:
    """Activation of the neurons' best MEIs per layer at ``epoch`` (95% CI); random images and the second generator too."""
    at = neurons[neurons["epoch"] == epoch]
    x = np.arange(len(layers))
    _errorbars(ax, x, [at.loc[at["layer"] == name, "activation"] for name in layers], fmt="o", label="MEI (first generator)")
    if "activation_excess" in at:
        random = at["activation"] - at["activation_excess"]
        _errorbars(ax, x + 0.1, [random[at["layer"] == name] for name in layers], fmt="s", color="gray", label="random images (mean)")
    if compare is not None and len(compare):
        _errorbars(ax, x - 0.1, [compare.loc[compare["layer"] == name, "second"] for name in layers], fmt="^", color="tab:red",
                   label="MEI (second generator)")
    ax.set_xticks(x, layers, rotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"activation at epoch {epoch}")
    ax.legend(fontsize=7)


def draw_activation_over_training(ax, neurons, layers: List[str], accuracy: dict) -> None:
    """Activation of the best MEIs per layer over epochs (95% CI bands), accuracy on a twin axis."""
    for layer in layers:
        rows = neurons[neurons["layer"] == layer]
        epochs = sorted(set(rows["epoch"]))
        if not epochs:
            continue
        stats = np.array([_ci(rows.loc[rows["epoch"] == e, "activation"]) for e in epochs], dtype=float)
        line, = ax.plot(epochs, stats[:, 0], marker="o", ms=3, label=layer)
        ax.fill_between(epochs, stats[:, 1], stats[:, 2], color=line.get_color(), alpha=0.15)
    finish_over_training(ax, "activation of the best MEI (95% CI)", accuracy)


def draw_tracks(ax, tracks, layers: List[str]) -> None:
    """Stacked bars of non-specialised, stable and labile shares per layer (labile with its 95% CI)."""
    bottom = np.zeros(len(layers))
    for label, color in (("non-specialised", "lightgray"), ("stable", "tab:green"), ("labile", "tab:red")):
        flags = [(tracks.loc[tracks["layer"] == name, "label"] == label).astype(float) for name in layers]
        stats = np.array([_ci(f) for f in flags], dtype=float)
        ax.bar(range(len(layers)), stats[:, 0], bottom=bottom, color=color, label=label)
        if label == "labile":
            ax.errorbar(np.arange(len(layers)), bottom + stats[:, 0], yerr=[np.nan_to_num(stats[:, 0] - stats[:, 1]),
                        np.nan_to_num(stats[:, 2] - stats[:, 0])], fmt="none", color="black", capsize=3)
        bottom += np.nan_to_num(stats[:, 0])
    ax.set_xticks(range(len(layers)), layers, rotation=30)
    ax.set_ylabel("fraction of neurons (seed consensus)")
    ax.legend(fontsize=7)


def draw_diversity(ax, diversity, layers: List[str], column: str, ylabel: str, epochs: List[int]) -> None:
    """A diversity measure between the methods' MEIs per layer at a few epochs (95% CIs)."""
    x = np.arange(len(layers))
    for shift, epoch in zip(np.linspace(-0.2, 0.2, len(epochs)), epochs):
        at = diversity[diversity["epoch"] == epoch]
        _errorbars(ax, x + shift, [at.loc[at["layer"] == name, column] for name in layers], fmt="o", label=f"epoch {epoch}")
    ax.set_xticks(x, layers, rotation=30)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)


def draw_lines(ax, neurons, column: str, layers: List[str], ylabel: str) -> None:
    """Layer-mean of a column over epochs, one line per layer."""
    for layer in layers:
        rows = neurons[neurons["layer"] == layer].groupby("epoch")[column].mean()
        ax.plot(rows.index, rows.to_numpy(), marker="o", ms=3, label=layer)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)


def draw_warm(ax, warm) -> None:
    """Warm search's best activation against the cold search's and the equal-budget control's."""
    started = warm[warm["started_warm"]]
    ax.scatter(started["cold_best"], started["warm_best"], s=12, label=f"warm vs cold (same budget), n={len(started)}")
    ax.scatter(started["control_best"], started["warm_best"], s=12, marker="x", label="warm vs cold with the summed budget")
    ax.plot([0, 1], [0, 1], color="gray", lw=1)
    ax.set_xlabel("cold search's best activation")
    ax.set_ylabel("warm search's best activation")
    ax.legend(fontsize=7)


def save_figures(folder, data, records, cold, consensus, sources, study) -> List[Path]:
    """Write every figure the data supports into ``folder``; returns the paths."""
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers, epochs, paths = data.layers, data.epochs, []

    def save(fig, name):
        fig.tight_layout()
        paths.append(folder / name)
        fig.savefig(paths[-1], dpi=100)

    fig = Figure(figsize=(7, 3.8))
    draw_entropy(fig.subplots(), data.neurons, data.baseline_epochs, layers, epochs)
    save(fig, "fig06_entropy.png")

    fig = Figure(figsize=(15, 3.6))
    axes = fig.subplots(1, 3)
    pivot = lambda column: layer_epoch_table(data.neurons, column, layers, epochs)  # noqa: E731
    draw_heatmap(axes[0], pivot("active"), "activation >= 75% (share of neurons)")
    draw_heatmap(axes[1], pivot("selective"), "selective: activation, confidence >= 75%, stable over methods")
    draw_heatmap(axes[2], pivot("confidence_excess"), "top-class probability: MEI minus random images", -0.5, 0.5, "RdBu_r")
    save(fig, "fig07_selectivity.png")

    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 2)
    draw_emergence(axes[0], data.emergence, layers)
    draw_layer_activation(axes[1], data.neurons, layers, epochs[-1], data.compare)
    save(fig, "fig08_emergence_activation.png")

    fig = Figure(figsize=(7, 3.8))
    draw_activation_over_training(fig.subplots(), data.neurons, layers, data.accuracy)
    save(fig, "fig09_activation_over_training.png")

    fig = Figure(figsize=(13, 4.2))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    draw_tracks(axes[0], data.tracks, layers)
    neuron, labile = pick_labile_neuron(consensus, cold)
    draw_neuron_track(axes[1], cold, neuron, sources["primary"].generator("uniform"), labile)
    save(fig, "fig10_tracks_labile_neuron.png")

    if data.diversity is not None and not data.diversity.empty:
        fig = Figure(figsize=(15, 3.6))
        axes = fig.subplots(1, 3)
        shown = sorted({epochs[0], epochs[len(epochs) // 2], epochs[-1]})
        draw_diversity(axes[0], data.diversity, layers, "latent_euclidean", "latent Euclidean distance between methods' MEIs", shown)
        draw_diversity(axes[1], data.diversity, layers, "latent_cosine", "latent cosine distance between methods' MEIs", shown)
        draw_diversity(axes[2], data.diversity, layers, "image_correlation", "pixel correlation between methods' MEIs", shown)
        save(fig, "fig11_diversity.png")

    fig = Figure(figsize=(11, 3.6))
    axes = fig.subplots(1, 2)
    draw_lines(axes[0], data.neurons, "jpeg_ratio", layers, "JPEG size / raw size")
    draw_lines(axes[1], data.neurons, "zip_ratio", layers, "ZIP size / raw size")
    save(fig, "fig12_complexity.png")

    fig = Figure(figsize=(9, 1.6 * len(layers) + 0.6))
    draw_layer_gallery(fig.subplots(), cold, sources["primary"].generator("uniform"), layers, epochs[-1])
    save(fig, "fig13_meis_by_layer.png")

    compare = sources.get("compare")
    if data.compare is not None and len(data.compare) and compare is not None:
        fig = Figure(figsize=(13, 4.2))
        axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        draw_layer_activation(axes[0], data.neurons, layers, study.compare_epochs[-1], data.compare)
        draw_generator_meis(axes[1], records, data.compare, sources, study)
        save(fig, "figB_generators.png")

    if data.warm is not None and not data.warm.empty:
        fig = Figure(figsize=(5.5, 4.2))
        draw_warm(fig.subplots(), data.warm)
        save(fig, "warm_start_control.png")
    return paths
