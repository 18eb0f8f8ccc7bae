"""MEIs judged against random images: every criterion relative to a per-epoch random-image baseline.

A generator whose random samples already look like confident digits makes the "confidence >= 75%"
criterion and low entropies partly a property of the generator. For each epoch (and network /
generator pair) the baseline holds what random images get: their mean top-class probability,
entropy and the share that passes the confidence threshold, and per unit the mean and best
activation of the random images and the share that reaches the activation threshold. An MEI's
*excess* is its value minus the baseline of its epoch (and unit): a neuron specialises beyond the
generator only where the excess is positive (negative for entropy).
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import numpy as np

from mango_widgets.analysis.description import describe_probabilities
from mango_widgets.errors import ConfigError


def epoch_baseline(probabilities, confidence: float = 0.75) -> dict:
    """Mean top probability, mean entropy and fraction of confident images for class probabilities [R, classes]."""
    described = describe_probabilities(probabilities)
    return {"images": int(len(described["top_probability"])),
            "random_top_probability": float(np.mean(described["top_probability"])),
            "random_entropy": float(np.mean(described["entropy"])),
            "random_confident_fraction": float(np.mean(described["top_probability"] >= confidence))}


def unit_baseline(activations, activation: float = 0.75) -> dict:
    """Per-unit mean and maximum activation of random images, and the fraction reaching ``activation`` ([R, units] in)."""
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim != 2:
        raise ConfigError(f"activations must be [images, units], got shape {a.shape}")
    return {"random_activation": a.mean(0), "random_best": a.max(0), "random_active_fraction": (a >= activation).mean(0)}


def baseline_tables(baselines: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], confidence: float = 0.75,
                    activation: float = 0.75):
    """Two DataFrames from {network: {epoch: arrays}} (arrays: ``probabilities`` and ``activation:<layer>``):
    per (network, epoch) and per (network, epoch, layer, unit)."""
    import pandas as pd

    epochs, units = [], []
    for network, by_epoch in baselines.items():
        for epoch, arrays in sorted(by_epoch.items()):
            epochs.append({"network": network, "epoch": int(epoch), **epoch_baseline(arrays["probabilities"], confidence)})
            for name, values in arrays.items():
                if not name.startswith("activation:"):
                    continue
                layer = name.split(":", 1)[1]
                stats = unit_baseline(values, activation)
                for unit in range(values.shape[1]):
                    units.append({"network": network, "epoch": int(epoch), "layer": layer, "unit": unit,
                                  **{k: float(v[unit]) for k, v in stats.items()}})
    return pd.DataFrame(epochs), pd.DataFrame(units)


EXCESS = {  # MEI column -> (baseline column, excess column)
    "best": ("random_activation", "activation_excess"),
    "top_probability": ("random_top_probability", "confidence_excess"),
    "entropy": ("random_entropy", "entropy_excess"),
}


def relative_to_baseline(records, epoch_table, unit_table, networks: Optional[Sequence[str]] = None):
    """``records`` (one row per MEI: network, epoch, layer, unit, best, top_probability, entropy) with the
    baseline columns joined and the excess of each MEI over it (``activation_excess``, ``confidence_excess``,
    ``entropy_excess``; ``over_random_best``: activation minus the best random image's)."""
    needed = {"network", "epoch", "layer", "unit", "best", "top_probability", "entropy"}
    missing = sorted(needed - set(records.columns))
    if missing:
        raise ConfigError(f"the records lack the columns {missing} needed for the baseline comparison")
    merged = records.merge(epoch_table, on=["network", "epoch"], how="left")
    merged = merged.merge(unit_table, on=["network", "epoch", "layer", "unit"], how="left")
    unmatched = merged["random_top_probability"].isna() & merged["best"].notna()
    if networks is not None:
        unmatched &= merged["network"].isin(list(networks))
    if unmatched.any():
        first = merged[unmatched].iloc[0]
        raise ConfigError(f"no random-image baseline for {first['network']} at epoch {first['epoch']}; compute it first")
    for column, (base, excess) in EXCESS.items():
        merged[excess] = merged[column] - merged[base]
    merged["over_random_best"] = merged["best"] - merged["random_best"]
    return merged


def criterion_rates(epoch_table, unit_table, layers: Sequence[str]) -> Dict[str, object]:
    """Layer x epoch share of random images meeting the activation criterion (mean over units) and
    the per-epoch share meeting the confidence criterion: what the MEI fractions are measured against."""
    active = unit_table[unit_table["layer"].isin(list(layers))].pivot_table(
        index="layer", columns="epoch", values="random_active_fraction", aggfunc="mean").reindex(list(layers))
    confident = epoch_table.set_index("epoch")["random_confident_fraction"]
    return {"active": active, "confident": confident}
