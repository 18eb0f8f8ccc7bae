"""When a neuron's strong MEI first appears over training (paper Fig. 8, left).

A neuron has a *strong* MEI at an epoch when its best MEI drives it to at least ``threshold``
(75%) of the maximum activity; its emergence epoch is the first such epoch (NaN if never).
With several seeds, the emergence epoch is taken per seed and then summarised per neuron.
"""
from __future__ import annotations

import numpy as np

from mango_widgets.errors import ConfigError


def first_strong_epoch(table, threshold: float = 0.75, by=("layer", "unit")):
    """One row per ``by`` group (e.g. neuron, or neuron and seed): the first epoch whose ``best`` >= threshold.

    ``table`` has one row per (``by``..., epoch) with the best activation of that neuron at that epoch
    (NaN for silent). Returns columns ``by`` + ``first_epoch`` (NaN: never strong) + ``ever_strong``."""
    import pandas as pd

    needed = set(by) | {"epoch", "best"}
    if not needed <= set(table.columns):
        raise ConfigError(f"need columns {sorted(needed)} to find emergence epochs")
    rows = []
    for key, group in table.sort_values("epoch").groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        strong = group.loc[group["best"].fillna(-np.inf) >= threshold, "epoch"]
        rows.append({**dict(zip(by, key)), "first_epoch": float(strong.iloc[0]) if len(strong) else np.nan,
                     "ever_strong": bool(len(strong))})
    return pd.DataFrame(rows, columns=[*by, "first_epoch", "ever_strong"])


def plateau_epoch(accuracy: dict, fraction: float = 0.99) -> float:
    """First epoch at which held-out accuracy reaches ``fraction`` of its final value (NaN without accuracy)."""
    if not accuracy:
        return float("nan")
    epochs = sorted(accuracy)
    final = accuracy[epochs[-1]]
    for epoch in epochs:
        if accuracy[epoch] >= fraction * final:
            return float(epoch)
    return float(epochs[-1])
