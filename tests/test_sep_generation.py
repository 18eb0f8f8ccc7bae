"""Sep-CMA's generation in blocks: the same candidates as one ``SepCMA.ask()`` per candidate,
generation after generation, including in a box where most draws fall outside."""
import numpy as np
import pytest

from mango_widgets.core.optimizers.sep_generation import ask_generation, supported


def twins(mean, sigma, bounds, seed, popsize, **kwargs):
    import cmaes

    return [cmaes.SepCMA(np.array(mean, dtype=float), sigma, bounds=bounds, seed=seed, population_size=popsize, **kwargs)
            for _ in range(2)]


@pytest.mark.parametrize("d, sigma, corner, tries", [(128, 63 / 5, False, None), (16, 40.0, True, None), (8, 80.0, True, 3),
                                                     (4, 10.0, False, 0)])
def test_blocks_give_the_candidates_and_random_state_of_one_ask_per_candidate(d, sigma, corner, tries):
    bounds = np.tile([0.0, 63.0], (d, 1))
    mean = np.full(d, 0.5 if corner else 31.5)  # at a corner most draws fall outside the box
    extra = {} if tries is None else {"n_max_resampling": tries}
    batched, reference = twins(mean, sigma, bounds, seed=7, popsize=25, **extra)
    assert supported(batched)
    values = np.random.default_rng(0)
    for _ in range(12):
        ours = ask_generation(batched, 25)
        theirs = [reference.ask() for _ in range(25)]
        assert len(ours) == 25 and all(np.array_equal(a, b) for a, b in zip(ours, theirs))
        fitness = values.random(25)
        batched.tell(list(zip(ours, fitness)))
        reference.tell(list(zip(theirs, fitness)))
    assert all(np.all((x >= 0) & (x <= 63)) for x in ours)


def test_kept_draws_are_dropped_when_something_else_moved_the_random_state():
    from mango_widgets.core.optimizers.sep_generation import _unused_draws

    es, _ = twins(np.full(16, 31.5), 12.6, np.tile([0.0, 63.0], (16, 1)), seed=2, popsize=10)
    ask_generation(es, 10)
    assert len(_unused_draws(es)) > 0  # drawn ahead, kept for the next generation
    es._rng.randn(1)  # someone else draws
    assert len(_unused_draws(es)) == 0
    assert len(ask_generation(es, 10)) == 10


def test_other_cma_kinds_fall_back_to_their_own_ask():
    import cmaes

    es, twin = (cmaes.CMA(np.full(4, 3.0), 1.0, seed=1, population_size=6) for _ in range(2))
    assert not supported(es)
    assert all(np.array_equal(a, b) for a, b in zip(ask_generation(es, 6), [twin.ask() for _ in range(6)]))


def test_sep_cma_asks_the_same_indices_with_and_without_blocks(monkeypatch):
    """`sep-cma` through the optimizer registry: the same indices whether its generations are drawn
    in blocks or one candidate at a time."""
    from mango_widgets.core.optimizers import make_optimizer, sep_generation
    from mango_widgets.core.space import LatentGrid

    def asked() -> np.ndarray:
        grid, weights = LatentGrid(d=32), np.random.default_rng(3).normal(size=32)
        optimizer, seen = make_optimizer("sep-cma", grid, seed=5, budget=600), []
        while sum(len(x) for x in seen) < 600:
            seen.append(optimizer.ask())
            optimizer.tell(seen[-1], np.tanh((seen[-1] / 63.0 - 0.5) @ weights))
        return np.concatenate(seen)

    in_blocks = asked()
    monkeypatch.setattr(sep_generation, "supported", lambda es: False)
    assert np.array_equal(in_blocks, asked())
