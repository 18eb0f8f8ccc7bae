"""Population search bookkeeping, the observe() hook, and several distinct optima of one neuron."""
import numpy as np
import pytest

from mango_widgets import ConfigError, Generator, LatentGrid, Network, Objective, Search, make_optimizer
from mango_widgets.studies.population import PopulationSearch, unit_seed
from mango_widgets.studies.several_optima import pairwise_distances, several_meis, typical_distance
from tests import tiny_models as tm

GRID = LatentGrid(d=8, n=16)


class SpreadGenerator(tm.ConstantImageGenerator):
    """Like the constant generator, but the two halves of the latent light different pixels, so
    the two units of the tiny net prefer different images."""

    def forward(self, z):
        left, right = (z[:, :4].mean(1) + 4) / 8, (z[:, 4:].mean(1) + 4) / 8
        image = tm.test_image(z.shape[0])
        image[:, :, 0, :] *= left.reshape(-1, 1, 1)
        image[:, :, 1, :] *= right.reshape(-1, 1, 1)
        return image


def models():
    return Generator(SpreadGenerator(), GRID, image_shape=(1, 2, 2)), Network(tm.snntorch_step_net(), (1, 2, 2), T=20)


@pytest.mark.parametrize("share", [False, True])
@pytest.mark.slow
def test_population_bookkeeping_counts_and_bests(share):
    generator, network = models()
    search = PopulationSearch(generator, network, "lif", method="tt-b", budget=130, seed=1, share=share).run()
    values, owner = search.values, search.asked_by
    assert search.shown == len(values) == len(search.indices) == 130 and values.shape == (130, 2)
    assert search.own_queries.tolist() == [np.sum(owner == 0), np.sum(owner == 1)] and search.own_queries.sum() == 130
    assert np.array_equal(search.best_value, values.max(0))  # every image counts for every unit
    for position in range(2):
        assert values[search.best_query[position] - 1, position] == search.best_value[position]
        assert np.array_equal(search.indices[search.best_query[position] - 1], search.best_index[position])
        own = values[owner == position, position]
        assert search.own_best_value[position] == own.max() == search.own_curve(position)[-1]
        assert own[search.own_best_query[position] - 1] == own.max()
    assert np.array_equal(search.curves()[-1], search.best_value)
    fresh = search.responses(search.best_index)
    assert np.allclose(np.diag(fresh), search.best_value)


@pytest.mark.parametrize("method", ["random", "tt-b"])
def test_without_sharing_each_unit_repeats_its_independent_search(method):
    generator, network = models()
    population = PopulationSearch(generator, network, "lif", method=method, budget=200, seed=3, share=False).run()
    for position, unit in enumerate(population.units):
        alone = Search(Objective(generator, network, f"lif:{unit}"), method, budget=100, seed=unit_seed(3, unit), threads=1).run()
        own = population.values[population.asked_by == position, position]
        assert np.array_equal(own, alone.history.values.astype(np.float32))
        assert population.own_best_query[position] == alone.history.best_query


@pytest.mark.slow
def test_sharing_changes_only_methods_that_learn_from_observations():
    generator, network = models()
    runs = {(m, share): PopulationSearch(generator, network, "lif", method=m, budget=200, seed=0, share=share).run()
            for m in ("random", "tt-b") for share in (False, True)}
    assert np.array_equal(runs["random", False].indices, runs["random", True].indices)
    assert not np.array_equal(runs["tt-b", False].indices, runs["tt-b", True].indices)
    assert make_optimizer("tt-b", GRID).learns_from_observations and not make_optimizer("random", GRID).learns_from_observations


def test_protes_uses_an_observed_point_only_if_it_beats_the_batch():
    def tt_after(observed_value):
        optimizer = make_optimizer("tt-b", GRID, seed=0)
        asked = optimizer.ask()
        values = np.linspace(0.1, 0.5, len(asked))
        if observed_value is not None:
            optimizer.observe(np.full((1, GRID.d), 7), [observed_value])
        optimizer.tell(asked, values)
        return np.concatenate([np.ravel(core) for core in optimizer.state()])

    plain = tt_after(None)
    assert np.allclose(tt_after(0.0), plain)  # worse than the batch's elite: no effect
    assert not np.allclose(tt_after(0.9), plain)  # better: it joins the elite


def test_observe_checks_its_input_and_most_methods_ignore_it():
    optimizer = make_optimizer("random", GRID)
    with pytest.raises(ConfigError, match="one value per point"):
        optimizer.observe(np.zeros((2, GRID.d), dtype=int), [1.0])
    with pytest.raises(ConfigError, match="NaN"):
        optimizer.observe(np.zeros((1, GRID.d), dtype=int), [np.nan])
    batch = optimizer.ask()
    optimizer.observe(np.zeros((1, GRID.d), dtype=int), [1.0])
    optimizer.tell(batch, np.zeros(len(batch)))
    assert optimizer.told == len(batch)


def test_population_refuses_bad_units_and_budgets():
    generator, network = models()
    with pytest.raises(ConfigError, match="out of range"):
        PopulationSearch(generator, network, "lif", units=[0, 5])
    with pytest.raises(ConfigError, match="distinct"):
        PopulationSearch(generator, network, "lif", units=[1, 1])
    with pytest.raises(ConfigError, match="budget"):
        PopulationSearch(generator, network, "lif", budget=1)


def test_tt_samples_needs_a_method_that_exports_its_distribution():
    generator, network = models()
    objective = Objective(generator, network, "lif:1")
    with pytest.raises(ConfigError, match="strategy 'tt-samples' needs a"):
        several_meis(objective, count=2, method="random", budget=20, strategy="tt-samples", samples=10)
    assert objective.evaluations == 0  # refused before searching


@pytest.mark.parametrize("strategy", ["restarts", "tt-samples"])
@pytest.mark.slow
def test_several_optima_are_distinct_and_measured(strategy):
    generator, network = models()
    objective = Objective(generator, network, "lif:1")
    found = several_meis(objective, count=3, method="tt", budget=120, strategy=strategy, samples=100, seed=0)
    k = len(found.activations)
    assert k == 3 and found.indices.shape == (3, GRID.d)
    assert np.all(np.diff(found.activations) <= 0)  # best first
    assert np.allclose(found.activations, objective.evaluate(found.indices))
    off_diagonal = found.euclidean[~np.eye(k, dtype=bool)]
    assert off_diagonal.min() >= found.min_distance == pytest.approx(0.5 * typical_distance(GRID))
    assert np.allclose(found.euclidean, found.euclidean.T) and np.allclose(np.diag(found.euclidean), 0)
    assert found.queries == (3 * 120 if strategy == "restarts" else 120 + 100)
    assert found.summary()["min_euclidean"] == pytest.approx(off_diagonal.min())


def test_pairwise_distances():
    euclidean, cosine = pairwise_distances(np.array([[3.0, 4.0], [0.0, 0.0], [-3.0, -4.0]]))
    assert euclidean[0, 1] == 5.0 and euclidean[0, 2] == 10.0
    assert cosine[0, 2] == pytest.approx(2.0)
