"""The paper's selectivity criterion (section 4.2), per neuron and epoch.

A neuron is *selective* for class c at an epoch when
- activation: its best MEI drives it to at least ``activation`` (default 0.75) of the maximum
  possible activity (our activations are already normalised to [0, 1]);
- confidence: the network puts at least ``confidence`` (0.75) probability on c for that MEI;
- stability: the MEIs of every method in ``methods`` (TT, TT-s, TT-b) have the same top class c.
Thresholds and the method set are configurable; each criterion is also reported on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from mango_widgets.errors import ConfigError

#: columns a results table needs for the selectivity analysis
REQUIRED = ("layer", "unit", "epoch", "method", "best", "top_class", "top_probability")


@dataclass(frozen=True)
class SelectivityCriteria:
    """Thresholds of the selectivity criterion and the methods whose MEIs must agree."""

    activation: float = 0.75
    confidence: float = 0.75
    methods: Tuple[str, ...] = ("tt", "tt-s", "tt-b")

    def __post_init__(self):
        for name in ("activation", "confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"the {name} threshold must be in [0, 1], got {getattr(self, name)}")
        if not self.methods:
            raise ConfigError("the stability criterion needs at least one method")


def neuron_selectivity(activations: Sequence[float], top_classes: Sequence[int], top_probabilities: Sequence[float],
                       criteria: SelectivityCriteria = SelectivityCriteria()) -> dict:
    """Criteria for one neuron at one epoch from its MEIs (one entry per method, same order).

    Activation and confidence are judged on the most exciting of the MEIs; NaN activations
    (silent units, no MEI) make every criterion false."""
    a = np.asarray(activations, dtype=np.float64)
    classes = np.asarray(top_classes)
    probs = np.asarray(top_probabilities, dtype=np.float64)
    if not (len(a) == len(classes) == len(probs)) or len(a) == 0:
        raise ConfigError("need one activation, top class and top probability per method (and at least one method)")
    if np.any(np.isnan(a)):
        return {"active": False, "confident": False, "stable": False, "selective": False,
                "selective_class": -1, "activation": float(np.nanmax(a)) if np.any(~np.isnan(a)) else np.nan}
    best = int(np.argmax(a))
    active = bool(a[best] >= criteria.activation)
    confident = bool(probs[best] >= criteria.confidence)
    stable = bool(np.all(classes == classes[0]))
    selective = active and confident and stable
    return {"active": active, "confident": confident, "stable": stable, "selective": selective,
            "selective_class": int(classes[best]) if selective else -1, "activation": float(a[best])}


def selectivity_table(results, criteria: SelectivityCriteria = SelectivityCriteria()):
    """One row per (layer, unit, epoch) with the criteria, from a results table with one row
    per (layer, unit, epoch, method) (columns ``REQUIRED``; silent units have NaN ``best``).

    Neurons lacking a result for one of ``criteria.methods`` at an epoch are reported with
    ``complete=False`` and are never selective."""
    import pandas as pd

    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise ConfigError(f"the results table lacks the columns {missing}; it needs {list(REQUIRED)}")
    wanted = results[results["method"].isin(criteria.methods)]
    rows = []
    for (layer, unit, epoch), group in wanted.groupby(["layer", "unit", "epoch"], sort=True):
        group = group.set_index("method")
        complete = all(m in group.index for m in criteria.methods)
        if complete:
            ordered = group.loc[list(criteria.methods)]
            verdict = neuron_selectivity(ordered["best"], ordered["top_class"], ordered["top_probability"], criteria)
        else:
            verdict = {"active": False, "confident": False, "stable": False, "selective": False,
                       "selective_class": -1, "activation": float(group["best"].max())}
        rows.append({"layer": layer, "unit": int(unit), "epoch": int(epoch), "complete": complete, **verdict})
    return pd.DataFrame(rows, columns=["layer", "unit", "epoch", "complete", "active", "confident", "stable",
                                       "selective", "selective_class", "activation"])
