"""The leaderboard's peers and our method: ask/tell contract, seeds, self-description, repeats."""
import json

import numpy as np
import pytest

from mango_widgets import ConfigError, LatentGrid, make_optimizer
from mango_widgets.core.optimizers.base import _REGISTRY, CAPABILITIES

GRID = LatentGrid(d=12, n=16)
TARGET = np.arange(12) % 16
NEW_METHODS = ["cma-es", "cma-bipop", "sep-cma", "shade", "ngoptrw", "de", "tt-elite", "tt-cma", "cma-polish", "auto"]


def score(indices):
    """A deterministic function of grid indices with its maximum (0) at TARGET."""
    return -np.sum((np.asarray(indices) - TARGET) ** 2, axis=1).astype(float)


def drive(optimizer, budget, function=score):
    asked = []
    while optimizer.told < budget:
        indices = optimizer.ask()
        asked.append(indices)
        optimizer.tell(indices, function(indices))
    return np.concatenate(asked)


@pytest.mark.parametrize("method", NEW_METHODS)
@pytest.mark.slow
def test_contract_seed_and_no_repeats(method):
    optimizer = make_optimizer(method, GRID, seed=3, budget=600)
    best_seen = -np.inf
    while optimizer.told < 600:
        indices = optimizer.ask()
        assert indices.ndim == 2 and indices.shape[1] == GRID.d and indices.dtype == np.int64
        assert np.array_equal(optimizer.ask(), indices)  # asking again before tell repeats the batch
        values = score(indices)
        best_seen = max(best_seen, values.max())
        optimizer.tell(indices, values)
        assert optimizer.best_value == best_seen
    if optimizer.avoids_repeats:
        assert optimizer.repeat_rate == 0.0, optimizer.repeat_rate
    first = drive(make_optimizer(method, GRID, seed=5, budget=300), 300)
    again = drive(make_optimizer(method, GRID, seed=5, budget=300), 300)
    other = drive(make_optimizer(method, GRID, seed=6, budget=300), 300)
    assert np.array_equal(first, again)
    assert not np.array_equal(first[: len(other)], other[: len(first)])


@pytest.mark.parametrize("method", NEW_METHODS + ["tt-b", "random", "portfolio", "ttopt"])
def test_methods_describe_themselves(method):
    optimizer = make_optimizer(method, GRID, seed=2, budget=500)
    params = optimizer.params()
    json.dumps(params)  # JSON-able
    assert params["method"] == method and params["seed"] == 2 and params["budget"] == 500
    preset = _REGISTRY[method].preset  # settings a preset fixes cannot be passed again
    rebuilt = make_optimizer(method, GRID, seed=2, budget=500,
                             **{k: v for k, v in params["settings"].items() if k not in preset})
    assert rebuilt.params() == params
    assert set(optimizer.capabilities()) == set(CAPABILITIES)
    optimizer.close()
    rebuilt.close()


def test_capability_flags_replace_hasattr_checks():
    assert make_optimizer("tt-b", GRID).exports_state and not make_optimizer("de", GRID).exports_state
    with pytest.raises(ConfigError, match="no search distribution"):
        make_optimizer("cma-es", GRID).state()
    assert make_optimizer("tt-elite", GRID).learns_from_observed
    assert make_optimizer("cma-es", GRID).warm_startable and not make_optimizer("shade", GRID).warm_startable


def test_repeat_rate_counts_reasked_points():
    optimizer = make_optimizer("oneplusone", GRID, seed=0, budget=400, avoid_repeats=False)
    drive(optimizer, 400, lambda idx: np.zeros(len(idx)))
    assert 0 < optimizer.repeat_rate <= 1
    skipping = make_optimizer("oneplusone", GRID, seed=0, budget=400)
    drive(skipping, 400, lambda idx: np.zeros(len(idx)))
    assert skipping.repeat_rate == 0.0


def test_nevergrad_probit_start_is_uniform_over_the_grid():
    """Every method's first samples are uniform: mean |index - centre| of a uniform index on
    0..63 is 16, a Gaussian around the centre with a sixth of the range gives about 8."""
    grid = LatentGrid(d=64, n=64)
    for method in ("de", "cma", "oneplusone"):
        optimizer = make_optimizer(method, grid, seed=0, budget=1000)
        batch = np.concatenate([optimizer.ask() for _ in range(1)])
        spread = np.abs(batch - 31.5).mean()
        assert 14 < spread < 18, (method, spread)
    old = make_optimizer("de", grid, seed=0, budget=1000, parametrization="array").ask()
    assert np.abs(old - 31.5).mean() < 11


def test_cma_starts_uniform_then_restarts_with_a_larger_population():
    optimizer = make_optimizer("cma-es", GRID, seed=0, budget=10_000, popsize=8)
    first = optimizer.ask()
    assert len(first) == 8  # the uniform start batch
    optimizer.tell(first, np.zeros(8))
    for _ in range(300):  # a flat function: CMA's own stopping rules end the run
        indices = optimizer.ask()
        optimizer.tell(indices, np.zeros(len(indices)))
        if optimizer.run_count >= 2:
            break
    assert optimizer.run_count >= 2 and optimizer.run_popsize >= 16


def test_shade_hands_out_its_population_in_batches():
    optimizer = make_optimizer("shade", GRID, seed=0, budget=1000, population=60, batch_size=25)
    sizes = []
    for _ in range(6):
        indices = optimizer.ask()
        sizes.append(len(indices))
        optimizer.tell(indices, score(indices))
    assert sizes[:3] == [25, 25, 10]  # one generation of 60 in batches of 25
    assert optimizer.best_value > -np.inf


def test_cma_warm_start_puts_the_mean_at_the_index():
    optimizer = make_optimizer("cma-es", GRID, seed=0, budget=1000, sigma0=0.05)
    optimizer.warm_start_from(TARGET)
    batch = optimizer.ask()
    assert np.abs(batch - TARGET).mean() < 2


@pytest.mark.slow
def test_new_methods_beat_random_search_on_a_simple_function():
    random = make_optimizer("random", GRID, seed=0)
    drive(random, 2000)
    for method in ("cma-es", "sep-cma", "shade", "tt-elite"):
        optimizer = make_optimizer(method, GRID, seed=0, budget=2000)
        drive(optimizer, 2000)
        assert optimizer.best_value > random.best_value, method


def test_tt_cma_hands_over_to_cma_at_the_best_points():
    optimizer = make_optimizer("tt-cma", GRID, seed=0, budget=2000, handoff=250)
    drive(optimizer, 250)
    assert optimizer.handed_over_at is not None and optimizer.phase is optimizer.second
    tt_best = optimizer.best_value
    batch = optimizer.ask()  # CMA's first generation, around the recombined best TT points
    assert np.abs(batch - optimizer.best_index).mean() < np.abs(GRID.random(25, np.random.default_rng(0)) - optimizer.best_index).mean()
    optimizer.tell(batch, score(batch))
    drive(optimizer, 2000)
    assert optimizer.best_value >= tt_best
    assert optimizer.repeat_rate == 0.0  # the TT's points are known to CMA
