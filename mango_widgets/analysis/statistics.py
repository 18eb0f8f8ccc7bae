"""Intervals and trend tests on unit-level data: bootstrap over units, permutation tests.

The neuron is the sampling unit of a selectivity study: seeds and methods are averaged within a
neuron first, then per-layer numbers get a bootstrap 95% interval over the layer's neurons
(BCa via :func:`scipy.stats.bootstrap`, percentile where BCa is undefined). Trends are tested on
the neurons themselves, not on a handful of layer means:

* over depth: Spearman correlation between a neuron's layer depth and its value, with a
  permutation test that shuffles depth labels across neurons;
* over training: each neuron's own Spearman correlation with the epoch, averaged, with a
  sign-flip test across neurons (valid whatever the correlation between a neuron's epochs).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np

from mango_widgets.errors import ConfigError

DIRECTIONS = ("increasing", "decreasing")


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap interval over ``n`` units."""

    estimate: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def to_dict(self) -> dict:
        """Plain JSON (NaN as None)."""
        return {k: (round(v, 4) if isinstance(v, float) and np.isfinite(v) else (None if isinstance(v, float) else v))
                for k, v in asdict(self).items()}

    def __str__(self) -> str:
        if not np.isfinite(self.estimate):
            return "n/a"
        if not (np.isfinite(self.low) and np.isfinite(self.high)):
            return f"{self.estimate:.3f} (n = {self.n})"
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def bootstrap_ci(values, statistic: Union[str, Callable] = "mean", resamples: int = 2000, level: float = 0.95,
                 seed: int = 0) -> Interval:
    """``statistic`` of ``values`` (NaN dropped) with a bootstrap interval (BCa; percentile if BCa fails)."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    function = {"mean": np.mean, "median": np.median}.get(statistic, statistic) if isinstance(statistic, str) else statistic
    if not callable(function):
        raise ConfigError(f"statistic must be 'mean', 'median' or a function, got {statistic!r}")
    if len(x) == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, level)
    estimate = float(function(x))
    if len(x) < 2 or np.ptp(x) == 0:
        return Interval(estimate, estimate if len(x) > 1 else float("nan"), estimate if len(x) > 1 else float("nan"), len(x), level)

    def along_axis(sample, axis=-1):
        return np.apply_along_axis(function, axis, sample) if function not in (np.mean, np.median) else function(sample, axis=axis)

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap((x,), along_axis, n_resamples=int(resamples), confidence_level=level, method=method,
                                     vectorized=True, random_state=np.random.default_rng(seed))
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return Interval(estimate, low, high, len(x), level)
    return Interval(estimate, float("nan"), float("nan"), len(x), level)


def bootstrap_ratio(numerator, denominator, resamples: int = 2000, level: float = 0.95, seed: int = 0,
                    paired: bool = True) -> Interval:
    """mean(numerator) / mean(denominator) with a percentile bootstrap over units: paired units are
    resampled together; unpaired groups (e.g. the neurons of two layers) each on their own."""
    a, b = np.asarray(numerator, float), np.asarray(denominator, float)
    if paired:
        keep = np.isfinite(a) & np.isfinite(b)
        a, b = a[keep], b[keep]
    else:
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0 or b.mean() == 0:
        return Interval(float("nan"), float("nan"), float("nan"), int(len(a)), level)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(int(resamples), len(a)))
    other = picks if paired else rng.integers(0, len(b), size=(int(resamples), len(b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = a[picks].mean(1) / b[other].mean(1)
    ratios = ratios[np.isfinite(ratios)]
    tail = (1 - level) / 2
    low, high = (np.quantile(ratios, [tail, 1 - tail]) if min(len(a), len(b)) > 1 and len(ratios) else (np.nan, np.nan))
    return Interval(float(a.mean() / b.mean()), float(low), float(high), int(len(a) if paired else len(a) + len(b)), level)


@dataclass(frozen=True)
class TrendTest:
    """A trend statistic on units, its permutation p-values and the direction the claim expects."""

    statistic: float  # Spearman rho (depth) or mean per-unit rho (training)
    p_value: float  # one-sided, in the expected direction
    p_two_sided: float
    n: int
    permutations: int
    expected: str

    @property
    def holds(self) -> bool:
        """The trend goes the expected way and is significant at 5% (one-sided)."""
        return bool(np.isfinite(self.statistic) and self.p_value < 0.05)

    def to_dict(self) -> dict:
        """Plain JSON (NaN as None)."""
        out = {k: (round(v, 4) if isinstance(v, float) and np.isfinite(v) else v) for k, v in asdict(self).items()}
        return {**out, "holds": self.holds}


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def _spearman_many(x_ranks: np.ndarray, y_ranks: np.ndarray) -> np.ndarray:
    """Spearman rho between each row of ``x_ranks`` [P, n] and ``y_ranks`` [n] (NaN when constant)."""
    xc = x_ranks - x_ranks.mean(-1, keepdims=True)
    yc = y_ranks - y_ranks.mean()
    denominator = np.sqrt((xc * xc).sum(-1) * (yc * yc).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return (xc * yc).sum(-1) / denominator


def _p_values(observed: float, null: np.ndarray, expected: str) -> tuple:
    if not np.isfinite(observed):
        return float("nan"), float("nan")
    null = null[np.isfinite(null)]
    sign = 1.0 if expected == "increasing" else -1.0
    one = (1 + np.sum(sign * null >= sign * observed - 1e-12)) / (1 + len(null))
    two = (1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + len(null))
    return float(one), float(two)


def _check(expected: str) -> None:
    if expected not in DIRECTIONS:
        raise ConfigError(f"expected must be one of {DIRECTIONS}, got {expected!r}")


def depth_trend_test(values: Sequence[float], depth: Sequence[float], expected: str = "increasing",
                     permutations: int = 2000, seed: int = 0) -> TrendTest:
    """Spearman rho between units' depth and their values; depth labels shuffled across units."""
    _check(expected)
    y, x = np.asarray(values, float), np.asarray(depth, float)
    keep = np.isfinite(y) & np.isfinite(x)
    y, x = y[keep], x[keep]
    if len(y) < 3 or np.ptp(y) == 0 or np.ptp(x) == 0:
        return TrendTest(float("nan"), float("nan"), float("nan"), int(len(y)), int(permutations), expected)
    rng = np.random.default_rng(seed)
    y_ranks, x_ranks = _ranks(y), _ranks(x)
    observed = float(_spearman_many(x_ranks[None], y_ranks)[0])
    shuffled = np.stack([rng.permutation(x_ranks) for _ in range(int(permutations))])
    one, two = _p_values(observed, _spearman_many(shuffled, y_ranks), expected)
    return TrendTest(observed, one, two, int(len(y)), int(permutations), expected)


def unit_trends(units: Sequence, x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Each unit's Spearman rho between ``x`` and ``y`` over its rows (0 when its values are constant)."""
    import pandas as pd

    frame = pd.DataFrame({"unit": list(units), "x": np.asarray(x, float), "y": np.asarray(y, float)}).dropna()
    rhos = []
    for _, group in frame.groupby("unit", sort=False):
        if len(group) < 3 or np.ptp(group["x"]) == 0:
            continue
        if np.ptp(group["y"]) == 0:
            rhos.append(0.0)  # a unit that never changes has no trend
            continue
        rhos.append(float(_spearman_many(_ranks(group["x"].to_numpy())[None], _ranks(group["y"].to_numpy()))[0]))
    return np.asarray(rhos)


def within_unit_trend_test(units: Sequence, x: Sequence[float], y: Sequence[float], expected: str = "increasing",
                           permutations: int = 2000, seed: int = 0) -> TrendTest:
    """Mean over units of each unit's Spearman rho(x, y); sign-flip permutation test across units."""
    _check(expected)
    rhos = unit_trends(units, x, y)
    if len(rhos) < 2 or not np.any(rhos != 0):
        return TrendTest(float(rhos.mean()) if len(rhos) else float("nan"), float("nan") if not len(rhos) else 1.0,
                         float("nan") if not len(rhos) else 1.0, int(len(rhos)), int(permutations), expected)
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(int(permutations), len(rhos)))
    null = (signs * rhos).mean(1)
    observed = float(rhos.mean())
    one, two = _p_values(observed, null, expected)
    return TrendTest(observed, one, two, int(len(rhos)), int(permutations), expected)


def group_difference_test(a: Sequence[float], b: Sequence[float], expected: str = "decreasing", permutations: int = 2000,
                          seed: int = 0, resamples: int = 2000) -> dict:
    """mean(a) - mean(b) with a bootstrap interval and a permutation p-value (labels shuffled between groups);
    ``expected="decreasing"`` means the claim is that ``a`` is lower."""
    _check(expected)
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return {"difference": None, "p_value": None, "holds": False, "n": [int(len(a)), int(len(b))]}
    rng = np.random.default_rng(seed)
    observed = a.mean() - b.mean()
    pooled = np.concatenate([a, b])
    null = np.array([(p[:len(a)].mean() - p[len(a):].mean()) for p in (rng.permutation(pooled) for _ in range(int(permutations)))])
    one, _ = _p_values(float(observed), null, "increasing" if expected == "increasing" else "decreasing")
    boot = np.array([rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(int(resamples))])
    low, high = np.quantile(boot, [0.025, 0.975])
    return {"difference": Interval(float(observed), float(low), float(high), int(len(a) + len(b))).to_dict(),
            "p_value": round(one, 4), "holds": bool(one < 0.05), "n": [int(len(a)), int(len(b))]}


def fraction_interval(flags, resamples: int = 2000, seed: int = 0) -> Optional[Interval]:
    """Fraction of true values (units) with a bootstrap interval; None for no units."""
    flags = np.asarray(flags, dtype=float)
    return None if flags.size == 0 else bootstrap_ci(flags, "mean", resamples, seed=seed)
