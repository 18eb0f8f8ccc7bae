"""cma-polish: the hand-over to grid-local search, ties drifting across plateaus, no repeats."""
import numpy as np
import pytest

from mango_widgets import ConfigError, LatentGrid, make_optimizer

GRID = LatentGrid(d=12, n=16)


def drive(optimizer, budget, function):
    while optimizer.told < budget:
        indices = optimizer.ask()
        optimizer.tell(indices, function(indices))


def staircase(indices):
    """Plateaus: the value counts coordinates at 15 (the top of the axis), so most moves tie."""
    return (np.asarray(indices) == 15).sum(axis=1) / GRID.d


def test_tail_starts_at_its_share_of_the_budget_and_asks_near_the_best():
    optimizer = make_optimizer("cma-polish", GRID, seed=0, budget=400, tail=0.25, archive=1)
    assert optimizer.switch_at == 300
    drive(optimizer, 300, staircase)
    assert optimizer.polishing
    batch = optimizer.ask()
    best = optimizer._archive[0][0]
    assert np.array_equal(best, optimizer.best_index)
    # with one elite (no crossover) every child moves a few coordinates by at most max_step
    moved = batch != best
    assert moved.any(axis=1).all() and moved.sum(axis=1).mean() < 4
    assert np.abs(batch - best).max() <= optimizer.max_step


def test_without_a_budget_the_first_method_runs_alone():
    optimizer = make_optimizer("cma-polish", GRID, seed=0)
    drive(optimizer, 500, staircase)
    assert optimizer.switch_at is None and not optimizer.polishing


def test_ties_rank_the_newest_point_first_so_the_archive_drifts():
    optimizer = make_optimizer("cma-polish", GRID, seed=0, budget=100, tail=0.5, archive=2)
    flat = np.zeros((3, GRID.d), dtype=np.int64)
    flat[1, 0], flat[2, 1] = 1, 2
    optimizer._remember(flat[:1], np.array([0.5]))
    optimizer._remember(flat[1:], np.array([0.5, 0.5]))
    newest_first = optimizer._archive[0]
    assert np.array_equal(newest_first, flat[[2, 1]])
    optimizer._remember(flat[:1], np.array([0.5]))  # a known point is not re-added
    assert np.array_equal(optimizer._archive[0], newest_first)


def test_the_tail_climbs_a_plateau_staircase_without_repeats():
    """On the staircase (plateaus between steps) sep-CMA's samples from a whole ellipsoid seldom
    add one more coordinate at the top; the tail's one- and two-coordinate moves keep climbing."""
    alone = make_optimizer("sep-cma", GRID, seed=3, budget=1500)
    drive(alone, 1500, staircase)
    polished = make_optimizer("cma-polish", GRID, seed=3, budget=1500, tail=0.5)
    drive(polished, 1500, staircase)
    assert polished.repeat_rate == 0.0
    assert polished.improvements_in_tail > 0
    assert polished.best_value > alone.best_value


@pytest.mark.parametrize("bad", [{"tail": 1.0}, {"tail": -0.1}, {"archive": 0}, {"mean_moved": 0.5}])
def test_bad_settings_name_the_rule(bad):
    with pytest.raises(ConfigError, match="cma-polish needs"):
        make_optimizer("cma-polish", GRID, budget=100, **bad)


def test_stall_starts_the_tail_early_on_a_plateau_and_not_while_improving():
    flat = make_optimizer("cma-polish", GRID, seed=0, budget=1000, tail=0.0, stall=0.1)
    assert flat.switch_at is None and flat.stall_queries == 100
    drive(flat, 300, lambda idx: np.zeros(len(idx)))
    # the first batch sets the best; 100 queries later without improvement the tail starts
    assert flat.polishing and flat.switched_at <= 150
    climbing = make_optimizer("cma-polish", GRID, seed=0, budget=1000, tail=0.0, stall=0.1)
    counter = iter(range(10**6))
    drive(climbing, 1000, lambda idx: np.array([next(counter) for _ in idx], dtype=float))  # always improving
    assert not climbing.polishing and climbing.switched_at is None


def test_max_steps_runs_the_tail_on_coarse_values_and_declines_on_fine_ones():
    weights = np.random.default_rng(0).random(GRID.d)

    def quantized(step):  # a smooth function of the indices in [0, 1], rounded down to multiples of step
        return lambda idx: np.floor((np.sin(np.asarray(idx) @ weights / 4) + 1) / 2 / step) * step

    coarse = make_optimizer("cma-polish", GRID, seed=0, budget=400, tail=0.25, max_steps=300)
    drive(coarse, 400, quantized(1 / 20))  # values in steps of 1/20: at most 20 quanta
    assert coarse.polishing and coarse.steps_at_switch <= 20
    fine = make_optimizer("cma-polish", GRID, seed=0, budget=400, tail=0.25, max_steps=300)
    drive(fine, 400, quantized(1 / 5000))  # steps of 1/5,000: the best is thousands of quanta up
    assert fine.declined and not fine.polishing and fine.steps_at_switch > 300
    # declining leaves the first method the whole budget: the same points as sep-CMA alone
    alone = make_optimizer("sep-cma", GRID, seed=0, budget=400)
    asked, alone_asked = [], []
    for optimizer, log in ((make_optimizer("cma-polish", GRID, seed=0, budget=400, tail=0.25, max_steps=300), asked),
                           (alone, alone_asked)):
        while optimizer.told < 400:
            indices = optimizer.ask()
            log.append(indices)
            optimizer.tell(indices, quantized(1 / 5000)(indices))
    assert np.array_equal(np.concatenate(asked), np.concatenate(alone_asked))


def test_known_values_measure_a_value_in_quanta():
    from mango_widgets.core.optimizers.known import KnownValues

    known = KnownValues(16)
    assert known.steps(1.0) == float("inf")
    known.add(np.array([[0], [1], [2]]), np.array([0.0, 0.25, 0.75]))
    assert known.steps(0.75) == pytest.approx(3.0)
