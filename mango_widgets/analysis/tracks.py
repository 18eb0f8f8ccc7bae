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
