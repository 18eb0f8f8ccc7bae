"""Stable versus labile neurons across training epochs (paper section 4.2, Fig. 10).

Over the epochs studied, a neuron is *non-specialised* if it is never selective, *stable* if it
is selective for exactly one class whenever it is selective, and *labile* if it is selective
for two or more classes at different epochs.
"""
from __future__ import annotations

from mango_widgets.errors import ConfigError

LABELS = ("non-specialised", "stable", "labile")


def track_label(selective_classes) -> str:
    """Label of one neuron from its per-epoch selective classes (-1 = not selective)."""
    classes = {int(c) for c in selective_classes if int(c) >= 0}
    return LABELS[min(len(classes), 2)]


def classify_tracks(selectivity):
    """One row per (layer, unit): label, the classes it was selective for, and at which epochs,
    from the output of :func:`selectivity_table`."""
    import pandas as pd

    needed = {"layer", "unit", "epoch", "selective_class"}
    if not needed <= set(selectivity.columns):
        raise ConfigError(f"need a selectivity table with columns {sorted(needed)} (see selectivity_table)")
    rows = []
    for (layer, unit), group in selectivity.sort_values("epoch").groupby(["layer", "unit"], sort=True):
        classes = group["selective_class"].to_numpy()
        rows.append({
            "layer": layer, "unit": int(unit), "label": track_label(classes),
            "classes": sorted({int(c) for c in classes if c >= 0}),
            "selective_epochs": [int(e) for e, c in zip(group["epoch"], classes) if c >= 0],
            "epochs": int(len(group)),
        })
    return pd.DataFrame(rows, columns=["layer", "unit", "label", "classes", "selective_epochs", "epochs"])


def consensus_selectivity(per_seed):
    """One row per (layer, unit, epoch): the class a majority of seeds call the neuron selective for
    (-1 when no class has a majority), from a :func:`selectivity_table`-like frame with a ``seed`` column.
    ``selective_share`` is the fraction of seeds in which the neuron was selective at all."""
    import pandas as pd

    needed = {"layer", "unit", "epoch", "seed", "selective_class"}
    if not needed <= set(per_seed.columns):
        raise ConfigError(f"need a per-seed selectivity table with columns {sorted(needed)}")
    rows = []
    for (layer, unit, epoch), group in per_seed.groupby(["layer", "unit", "epoch"], sort=True):
        classes = group["selective_class"].to_numpy()
        counts = {c: int((classes == c).sum()) for c in set(classes.tolist()) if c >= 0}
        winner = max(counts, key=counts.get) if counts else -1
        majority = winner if winner >= 0 and counts[winner] * 2 > len(classes) else -1
        rows.append({"layer": layer, "unit": int(unit), "epoch": int(epoch), "selective_class": int(majority),
                     "selective_share": float((classes >= 0).mean()), "seeds": int(len(classes))})
    return pd.DataFrame(rows, columns=["layer", "unit", "epoch", "selective_class", "selective_share", "seeds"])
