"""tt-elite's tie, elitism and restart logic on hand-made plateaus, against tie-blind PROTES."""
import numpy as np
import pytest

from mango_widgets import LatentGrid, make_optimizer
from mango_widgets.core.optimizers.elite_tt import gray_decode, gray_encode

GRID = LatentGrid(d=12, n=16)
NEEDLE = np.arange(12) % 16


def needle(indices):
    """1 on one grid point, 0 everywhere else: every batch that misses it ties completely."""
    return (np.asarray(indices) == NEEDLE).all(axis=1).astype(float)


def test_gray_code_round_trips_and_neighbours_differ_in_one_bit():
    values = np.arange(64)
    assert np.array_equal(gray_decode(gray_encode(values)), values)
    flips = gray_encode(values[1:]) ^ gray_encode(values[:-1])
    assert all(bin(int(f)).count("1") == 1 for f in flips)


@pytest.mark.slow
def test_a_tie_blind_elite_forgets_the_needle_the_elitist_one_keeps_it():
    """Both see the needle once (observe), then only tied batches of zeros. PROTES' argsort elite
    then learns from arbitrary samples, and the needle's likelihood falls back; tt-elite keeps
    the needle in its archive and elite, and its likelihood keeps rising."""
    blind = make_optimizer("tt-b", GRID, seed=0)
    elite = make_optimizer("tt-elite", GRID, seed=0, local_share=0.0, patience=10_000)
    trace = {}
    for name, optimizer in (("blind", blind), ("elite", elite)):
        optimizer.observe(NEEDLE[None], [1.0])
        indices = optimizer.ask()
        optimizer.tell(indices, needle(indices))
        after_seeing = optimizer.log_likelihood(NEEDLE[None])[0]
        for _ in range(40):
            indices = optimizer.ask()
            values = needle(indices)
            assert values.max() == 0  # the needle is not sampled by chance
            optimizer.tell(indices, values)
        trace[name] = (after_seeing, optimizer.log_likelihood(NEEDLE[None])[0])
    assert trace["blind"][1] < trace["blind"][0]
    assert trace["elite"][1] > trace["elite"][0] + 5
    assert np.array_equal(elite._archive[0][0], NEEDLE)  # observed, so in the archive (best_value counts told points)


def test_an_all_tied_batch_updates_a_tie_blind_elite_but_not_a_tie_aware_one():
    def cores_after_tied_batch(tie_aware):
        optimizer = make_optimizer("tt-elite", GRID, seed=1, elitist=False, tie_aware=tie_aware, local_share=0.0)
        before = [np.array(core) for core in optimizer.state()]
        indices = optimizer.ask()
        optimizer.tell(indices, np.zeros(len(indices)))
        return before, optimizer.state()

    before, after = cores_after_tied_batch(tie_aware=True)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    before, after = cores_after_tied_batch(tie_aware=False)
    assert not all(np.array_equal(a, b) for a, b in zip(before, after))


def test_ties_are_ranked_in_random_order_not_by_position():
    optimizer = make_optimizer("tt-elite", GRID, seed=2)
    values = np.array([0.5] * 6 + [0.1] * 4)
    firsts = {int(optimizer._ranked(values)[0]) for _ in range(200)}
    assert firsts == set(range(6))  # every tied best point leads sometimes; never a worse one
    blind = make_optimizer("tt-elite", GRID, seed=2, tie_aware=False)
    assert {int(blind._ranked(values)[0]) for _ in range(20)} == {5}  # argsort: always the same one


def test_stagnation_restarts_the_tt_distribution_and_keeps_the_archive():
    optimizer = make_optimizer("tt-elite", GRID, seed=3, patience=5, local_share=0.0)
    optimizer.observe(NEEDLE[None], [1.0])
    for _ in range(7):
        indices = optimizer.ask()
        optimizer.tell(indices, needle(indices))
    assert optimizer.restarts_done >= 1
    assert optimizer._archive[1][0] == 1.0 and np.array_equal(optimizer._archive[0][0], NEEDLE)


def test_local_steps_stay_near_the_archive():
    optimizer = make_optimizer("tt-elite", GRID, seed=4, local_share=1.0, ramp=0)
    optimizer.observe(NEEDLE[None], [1.0])
    indices = optimizer.ask()
    optimizer.tell(indices, needle(indices))
    batch = optimizer.ask()
    distance = np.abs(batch - NEEDLE).sum(axis=1)
    assert (distance > 0).all()  # the needle itself is known: never asked again
    assert np.median(distance) <= 8
