"""Searches: exact budgets, determinism, stop from another thread, failures keep history."""
import threading
import time

import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Generator, LatentGrid, ModelOutputError, Network, Objective, Search
from tests import tiny_models as tm

GRID = LatentGrid(d=8, n=16)


def make_objective(generator_model=None, target="lif:1", cache=True):
    generator = Generator(generator_model or tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    network = Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=20)
    return Objective(generator, network, target, cache=cache)


def test_objective_counts_queries_and_caches_repeats():
    objective = make_objective()
    indices = np.array([[3] * 8, [15] * 8, [3] * 8])
    values = objective(indices)
    assert values[0] == values[2] and values[1] > values[0]
    assert (objective.queries, objective.evaluations) == (3, 2)
    objective(indices[:1])
    assert (objective.queries, objective.evaluations, objective.cache_hits) == (4, 2, 2)
    assert np.array_equal(objective.evaluate(indices), values)


def test_objective_rejects_bad_targets_with_the_valid_range():
    with pytest.raises(ConfigError, match=r"unit 5 is out of range.*0\.\.1"):
        make_objective(target="lif:5")
    with pytest.raises(ConfigError, match="unknown layer 'nope'"):
        make_objective(target="nope:0")
    with pytest.raises(ConfigError, match=r"class 4 is out of range.*0\.\.1"):
        make_objective(target="class:4")
    with pytest.raises(ConfigError, match="layer:unit"):
        make_objective(target="lif")


def test_class_target_is_the_output_spike_rate():
    objective = make_objective(target="class:1")
    values = objective(np.array([[15] * 8]))
    rates = objective.network.run(objective.images(np.array([[15] * 8])))["output"]
    assert values[0] == pytest.approx(float(rates[0, 1]))


@pytest.mark.parametrize("method", ["random", "portfolio", "tt-b"])
def test_budget_is_exact_and_history_is_complete(method):
    search = Search(make_objective(), method, budget=103, seed=0).run()
    assert search.state == "finished"
    assert len(search.history) == 103 == search.objective.queries
    assert search.history.indices.shape == (103, 8)
    assert np.array_equal(search.history.best_so_far, np.maximum.accumulate(search.history.values))
    assert search.history.objective_seconds > 0 and search.history.optimizer_seconds > 0


@pytest.mark.slow
def test_recorded_best_equals_the_mei_recomputed_from_scratch():
    search = Search(make_objective(), "tt-b", budget=150, seed=1).run()
    mei = search.mei
    assert mei.activation == search.history.best_value == search.history.values.max()
    fresh = make_objective()
    assert fresh(mei.index[None])[0] == mei.activation
    assert np.allclose(mei.latent, GRID.to_latent(mei.index[None])[0])
    assert np.allclose(mei.image, fresh.images(mei.index[None])[0].numpy())


@pytest.mark.slow
def test_same_seed_same_history_different_seed_differs():
    runs = [Search(make_objective(), "portfolio", budget=100, seed=s).run().history for s in (4, 4, 5)]
    assert np.array_equal(runs[0].indices, runs[1].indices) and np.array_equal(runs[0].values, runs[1].values)
    assert not np.array_equal(runs[0].indices, runs[2].indices)


def test_stop_from_another_thread_keeps_the_partial_history():
    class SlowGenerator(tm.ConstantImageGenerator):
        def forward(self, z):
            time.sleep(0.02)
            return super().forward(z)

    search = Search(make_objective(SlowGenerator()), "random", budget=100_000, seed=0).start()
    while len(search.history) < 50:
        time.sleep(0.01)
    stopper = threading.Thread(target=search.stop)
    stopper.start()
    assert search.wait(timeout=30)
    assert search.state == "stopped"
    assert 50 <= len(search.history) < 100_000
    assert len(search.history.values) == len(search.history)
    assert search.mei is not None and search.mei.activation == search.history.best_value


@pytest.mark.slow
def test_a_failing_objective_keeps_history_and_raises():
    class BreaksLater(tm.ConstantImageGenerator):
        calls = 0

        def forward(self, z):
            BreaksLater.calls += 1
            image = super().forward(z)
            return image * float("nan") if BreaksLater.calls > 4 else image

    search = Search(make_objective(BreaksLater()), "random", budget=1000, seed=0)
    with pytest.raises(ModelOutputError, match="NaN"):
        search.run()
    assert search.state == "failed" and isinstance(search.error, ModelOutputError)
    assert len(search.history) == 75  # three batches of 25 before the failing one (one call went to the shape check)
    assert search.mei.activation == search.history.best_value
    assert search.mei.image is None  # the broken generator cannot render it again; the index and latent are kept
    assert np.array_equal(search.mei.latent, GRID.to_latent(search.history.best_index[None])[0])


def test_interrupt_stops_and_keeps_results():
    def interrupt(event):
        if event.queries >= 50 and event.state == "running":
            raise KeyboardInterrupt

    search = Search(make_objective(), "random", budget=1000, seed=0, callbacks=[interrupt], every_seconds=None, every_queries=1)
    search.run()
    assert search.state == "stopped" and len(search.history) == 50 and search.mei is not None


@pytest.mark.slow
def test_callbacks_are_throttled_by_count_and_end_with_a_final_event():
    events = []
    Search(make_objective(), "random", budget=500, seed=0, callbacks=[events.append], every_seconds=None, every_queries=100).run()
    assert [e.queries for e in events] == [100, 200, 300, 400, 500, 500]
    assert events[-1].state == "finished"
    assert all(b.first_new == a.queries for a, b in zip(events, events[1:]))


def test_bad_budgets_are_rejected():
    for budget in (0, -5, 2.5, "100"):
        with pytest.raises(ConfigError, match="budget must be a positive number of queries"):
            Search(make_objective(), "random", budget=budget)


def test_threads_are_restored_after_a_search():
    before = torch.get_num_threads()
    Search(make_objective(), "random", budget=50, threads=1).run()
    assert torch.get_num_threads() == before


def test_repeats_count_against_the_budget_and_tell_the_mean():
    search = Search(make_objective(), "random", budget=100, seed=0, repeats=4).run()
    assert search.queries == 100 == search.objective.queries
    assert len(search.history) == 25
    clean = search.objective.evaluate(search.history.indices)
    assert np.allclose(search.history.values, clean)  # deterministic: the mean of repeats is the value


def test_poisson_noise_statistics_and_retest_of_the_mei():
    from mango_widgets.core.noise import PoissonNoise

    noise = PoissonNoise(scale=20)
    rng = np.random.default_rng(0)
    draws = noise.sample(np.full(20000, 0.3), rng)
    assert draws.mean() == pytest.approx(0.3, abs=0.005)
    assert draws.var() == pytest.approx(0.3 / 20, rel=0.05)
    assert np.allclose(draws * 20, np.round(draws * 20))  # whole spike counts

    objective = make_objective()
    objective.noise = noise
    search = Search(objective, "tt-b", budget=200, seed=0, retest=60).run()
    mei = search.mei
    truth = objective.evaluate(mei.index[None])[0]
    assert mei.retest_count == 60 and mei.retest_sem > 0
    assert abs(mei.retest_mean - truth) < 5 * mei.retest_sem + 1e-9
    assert search.objective.queries == 200 + 60  # re-tests are counted as queries, outside the budget
    with pytest.raises(ConfigError, match="noise scale"):
        PoissonNoise(scale=0)


@pytest.mark.slow
def test_concurrent_searches_can_share_one_network_and_restore_threads():
    before = torch.get_num_threads()
    shared = make_objective().network
    generator = Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    searches = [Search(Objective(generator, shared, "lif:1"), m, budget=300, seed=0, threads=1).start()
                for m in ("random", "tt-b", "portfolio")]
    for search in searches:
        assert search.wait(timeout=120)
    assert [s.state for s in searches] == ["finished"] * 3, [repr(s.error) for s in searches]
    alone = Search(make_objective(), "tt-b", budget=300, seed=0).run()
    assert np.array_equal(searches[1].history.values, alone.history.values)  # no cross-talk through SNN state
    assert torch.get_num_threads() == before


def test_method_parameters_do_not_clash_with_search_arguments():
    """Search(objective, "nevergrad", optimizer="CMA") reaches nevergrad; optimizer= alone still names the method."""
    objective = make_objective()
    by_keyword = Search(objective, "nevergrad", optimizer="CMA", budget=20, threads=1)
    by_dict = Search(objective, "nevergrad", optimizer_params={"optimizer": "CMA"}, budget=20, threads=1)
    assert type(by_keyword.optimizer._ng) is type(by_dict.optimizer._ng)
    assert "CMA" in type(by_keyword.optimizer._ng).__name__
    assert Search(objective, optimizer="random", budget=20).optimizer.name == "random"
    with pytest.raises(ConfigError, match="no parameter 'colour'"):
        Search(objective, "random", colour="red")
