"""Intervals and trend tests with known answers on simulated data (seeded: the same numbers every run)."""
import numpy as np
import pytest

from mango_widgets.analysis.statistics import (
    bootstrap_ci,
    bootstrap_ratio,
    depth_trend_test,
    group_difference_test,
    within_unit_trend_test,
)


@pytest.mark.parametrize("draw, mean", [
    (lambda rng: rng.normal(0.4, 0.2, 40), 0.4),
    (lambda rng: (rng.random(40) < 0.3).astype(float), 0.3),  # a fraction of units
])
def test_bootstrap_intervals_cover_a_known_mean_at_their_nominal_rate(draw, mean):
    rng = np.random.default_rng(7)
    covered = []
    for s in range(400):
        interval = bootstrap_ci(draw(rng), resamples=1000, seed=s)
        covered.append(interval.low <= mean <= interval.high)
    rate = np.mean(covered)
    # 95% nominal; 400 simulations have a standard error of about 1.1%
    assert 0.915 <= rate <= 0.985, rate


def test_intervals_of_degenerate_data():
    constant = bootstrap_ci(np.zeros(10))
    assert (constant.estimate, constant.low, constant.high, constant.n) == (0.0, 0.0, 0.0, 10)
    single = bootstrap_ci([0.3, np.nan])
    assert single.estimate == pytest.approx(0.3) and np.isnan(single.low) and single.n == 1
    assert np.isnan(bootstrap_ci([]).estimate)
    ratio = bootstrap_ratio([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0])
    assert ratio.estimate == pytest.approx(0.5) and ratio.low == pytest.approx(0.5) and ratio.high == pytest.approx(0.5)
    unpaired = bootstrap_ratio([1.0, 1.2, 0.8], [2.0, 2.2, 1.8, 2.0], paired=False)
    assert unpaired.low < 0.5 < unpaired.high and unpaired.n == 7


def _layered_units(rng, slope, layers=5, per_layer=12):
    depth = np.repeat(np.arange(layers), per_layer)
    return rng.normal(0.0, 1.0, len(depth)) + slope * depth, depth


@pytest.mark.slow
def test_depth_trend_test_has_its_nominal_size_and_finds_a_planted_trend():
    rng = np.random.default_rng(11)
    null = [depth_trend_test(*_layered_units(rng, 0.0), permutations=300, seed=s).p_value < 0.05 for s in range(300)]
    assert 0.02 <= np.mean(null) <= 0.085  # 5% +- about 2.5 standard errors
    planted = [depth_trend_test(*_layered_units(rng, 0.4), permutations=300, seed=s) for s in range(40)]
    assert np.mean([t.holds for t in planted]) >= 0.95
    falling = depth_trend_test(*_layered_units(rng, -0.4), expected="increasing", permutations=300)
    assert falling.statistic < 0 and not falling.holds and falling.p_two_sided < 0.05


def _units_over_epochs(rng, slope, units=30, epochs=8):
    unit = np.repeat(np.arange(units), epochs)
    epoch = np.tile(np.arange(1, epochs + 1), units)
    # each unit has its own level and a random walk over epochs: epochs of a unit are correlated
    walk = np.cumsum(rng.normal(0, 0.3, (units, epochs)), axis=1).ravel()
    return unit, epoch, np.repeat(rng.normal(0, 1, units), epochs) + walk + slope * epoch


@pytest.mark.slow
def test_within_unit_trend_test_has_its_nominal_size_and_finds_a_planted_trend():
    rng = np.random.default_rng(5)
    null = [within_unit_trend_test(*_units_over_epochs(rng, 0.0), permutations=300, seed=s).p_value < 0.05 for s in range(300)]
    assert 0.02 <= np.mean(null) <= 0.085
    planted = [within_unit_trend_test(*_units_over_epochs(rng, -0.15), expected="decreasing", permutations=300, seed=s)
               for s in range(40)]
    assert np.mean([t.holds for t in planted]) >= 0.95
    constant = within_unit_trend_test(np.repeat([0, 1, 2], 4), np.tile([1, 2, 3, 4], 3), np.zeros(12))
    assert constant.statistic == 0 and not constant.holds  # units that never change have no trend


def test_group_difference_finds_a_weaker_layer():
    rng = np.random.default_rng(3)
    weak = group_difference_test(rng.normal(0.3, 0.1, 16), rng.normal(0.6, 0.1, 32), "decreasing", permutations=500)
    assert weak["holds"] and weak["difference"]["high"] < 0
    same = group_difference_test(rng.normal(0.5, 0.1, 16), rng.normal(0.5, 0.1, 32), "decreasing", permutations=500)
    assert same["difference"]["low"] < 0 < same["difference"]["high"]
