"""Per-layer, per-epoch summaries of an epoch-tracking results table (the paper's figures 6-12).

Input: one row per (epoch, layer, unit, method) as made by
:mod:`mango_widgets.studies.epoch_tracking` (or read from a sweep store): columns layer, unit, epoch,
method, best (NaN for silent units), top_class, top_probability, entropy, jpeg_ratio,
zip_ratio, mei_index. Layers keep the order given (shallow to deep).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from mango_widgets.analysis.diversity import latent_diversity
from mango_widgets.analysis.selectivity import SelectivityCriteria, selectivity_table
from mango_widgets.analysis.tracks import LABELS, classify_tracks
from mango_widgets.errors import ConfigError


def _layers(table, layers: Optional[Sequence[str]]) -> list:
    present = list(dict.fromkeys(table["layer"]))
    if layers is None:
        return present
    unknown = [name for name in layers if name not in present]
    if unknown:
        raise ConfigError(f"layers {unknown} are not in the results; they have {present}")
    return list(layers)


def best_per_neuron(table):
    """For each (layer, unit, epoch) the row of the method whose MEI excites the unit most
    (silent neurons keep one row with NaN values)."""
    ranked = table.assign(_rank=table["best"].fillna(-np.inf)).sort_values("_rank", ascending=False, kind="stable")
    return ranked.drop_duplicates(["layer", "unit", "epoch"]).drop(columns="_rank").sort_values(["layer", "unit", "epoch"])


def selective_fraction(table, criteria: SelectivityCriteria = SelectivityCriteria(), criterion: str = "selective",
                       layers: Optional[Sequence[str]] = None):
    """Layer x epoch fraction of neurons meeting ``criterion`` ("selective", "active",
    "confident" or "stable"); silent neurons count as not meeting it."""
    if criterion not in ("selective", "active", "confident", "stable"):
        raise ConfigError(f"unknown criterion {criterion!r}; use selective, active, confident or stable")
    verdicts = selectivity_table(table, criteria)
    pivot = verdicts.pivot_table(index="layer", columns="epoch", values=criterion, aggfunc="mean")
    return pivot.loc[_layers(table, layers)].astype(float)


def mean_activation(table, layers: Optional[Sequence[str]] = None):
    """Layer x epoch mean activation of the neurons' best MEIs (silent neurons count as 0)."""
    best = best_per_neuron(table).assign(best=lambda t: t["best"].fillna(0.0))
    return best.pivot_table(index="layer", columns="epoch", values="best", aggfunc="mean").loc[_layers(table, layers)]


def entropy_by_layer(table, epoch: int, layers: Optional[Sequence[str]] = None) -> dict:
    """Layer -> normalised entropies of the neurons' best MEIs at ``epoch`` (silent left out)."""
    best = best_per_neuron(table)
    at = best[(best["epoch"] == epoch) & best["entropy"].notna()]
    if at.empty:
        raise ConfigError(f"no MEIs at epoch {epoch}; epochs in the results: {sorted(set(table['epoch']))}")
    return {layer: at.loc[at["layer"] == layer, "entropy"].to_numpy() for layer in _layers(table, layers)}


def track_fractions(table, criteria: SelectivityCriteria = SelectivityCriteria(), layers: Optional[Sequence[str]] = None):
    """Layer x label fraction of non-specialised, stable and labile neurons over all epochs."""
    tracks = classify_tracks(selectivity_table(table, criteria))
    counts = tracks.pivot_table(index="layer", columns="label", values="unit", aggfunc="count").reindex(columns=list(LABELS))
    counts = counts.fillna(0).loc[_layers(table, layers)]
    return counts.div(counts.sum(axis=1), axis=0)


def diversity(table, grid, method: Optional[str] = None, layers: Optional[Sequence[str]] = None):
    """Layer x epoch mean Euclidean and cosine distance between the MEI latents of a layer's
    neurons, per method, averaged over methods (or for ``method`` only); two DataFrames."""
    import pandas as pd

    rows = []
    found = table[table["mei_index"].notna()]
    if method is not None:
        found = found[found["method"] == method]
    for (layer, epoch, name), group in found.groupby(["layer", "epoch", "method"]):
        if len(group) < 2:
            continue
        latents = grid.to_latent(np.asarray(group["mei_index"].tolist(), dtype=np.int64))
        rows.append({"layer": layer, "epoch": epoch, "method": name, **latent_diversity(latents)})
    if not rows:
        raise ConfigError("need at least two non-silent MEIs of one layer, epoch and method to measure diversity")
    frame = pd.DataFrame(rows)
    order = [name for name in _layers(table, layers) if name in set(frame["layer"])]
    return tuple(frame.pivot_table(index="layer", columns="epoch", values=kind, aggfunc="mean").loc[order]
                 for kind in ("euclidean", "cosine"))


def complexity(table, layers: Optional[Sequence[str]] = None):
    """Layer x epoch mean JPEG and ZIP compression ratios of the MEIs (all methods); two DataFrames."""
    found = table[table["jpeg_ratio"].notna()]
    order = [name for name in _layers(table, layers) if name in set(found["layer"])]
    return tuple(found.pivot_table(index="layer", columns="epoch", values=kind, aggfunc="mean").loc[order]
                 for kind in ("jpeg_ratio", "zip_ratio"))


def silent_counts(table):
    """Layer x epoch number of silent neurons (no method made them fire)."""
    best = best_per_neuron(table)
    return best.assign(silent=best["best"].isna()).pivot_table(index="layer", columns="epoch", values="silent", aggfunc="sum")
