"""Every method honours the ask/tell contract; PROTES asks exactly what protes.protes asks."""
import numpy as np
import pytest

from mango_widgets import ConfigError, LatentGrid, make_optimizer
from mango_widgets.core.optimizers import available

GRID = LatentGrid(d=12, n=16)
TARGET = np.arange(12) % 16


def score(indices):
    """A deterministic function of grid indices with its maximum (0) at TARGET."""
    return -np.sum((np.asarray(indices) - TARGET) ** 2, axis=1).astype(float)


METHODS = ["random", "portfolio", "tt", "tt-s", "tt-b", "ttopt", "oneplusone", "cma"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.slow
def test_ask_tell_contract(method):
    optimizer = make_optimizer(method, GRID, seed=3, budget=400)
    best_seen = -np.inf
    for _ in range(8):
        indices = optimizer.ask()
        assert indices.ndim == 2 and indices.shape[1] == GRID.d and indices.dtype == np.int64
        assert indices.min() >= 0 and indices.max() < GRID.n
        assert np.array_equal(optimizer.ask(), indices)  # asking again before tell repeats the batch
        values = score(indices)
        best_seen = max(best_seen, values.max())
        optimizer.tell(indices, values)
        assert optimizer.best_value == best_seen
        assert score(optimizer.best_index[None])[0] == best_seen
    optimizer.close()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.slow
def test_same_seed_same_trajectory(method):
    def trajectory(seed):
        optimizer = make_optimizer(method, GRID, seed=seed, budget=300)
        asked = []
        for _ in range(5):
            indices = optimizer.ask()
            asked.append(indices)
            optimizer.tell(indices, score(indices))
        optimizer.close()
        return np.concatenate(asked)

    assert np.array_equal(trajectory(1), trajectory(1))
    assert not np.array_equal(trajectory(1), trajectory(2))


@pytest.mark.parametrize("method", ["tt-b", "portfolio"])
@pytest.mark.slow
def test_methods_improve_on_a_simple_function(method):
    optimizer = make_optimizer(method, GRID, seed=0, budget=3000)
    first = None
    while optimizer.told < 3000:
        indices = optimizer.ask()
        optimizer.tell(indices, score(indices))
        first = optimizer.best_value if first is None else first
    random = make_optimizer("random", GRID, seed=0)
    for _ in range(3000 // 25):
        indices = random.ask()
        random.tell(indices, score(indices))
    assert optimizer.best_value > first  # it learned beyond its first batch
    assert optimizer.best_value > random.best_value


@pytest.mark.parametrize("preset, K, k_top, quantize", [("tt", 10, 1, False), ("tt-b", 25, 5, True), ("tt-s", 5, 1, True)])
@pytest.mark.slow
def test_protes_driver_asks_exactly_what_protes_asks(preset, K, k_top, quantize):
    import protes

    iterations = 20
    d, n = (GRID.d * 4, 2) if quantize else (GRID.d, GRID.n)
    quantized = GRID.quantized()
    reference = []

    def f(I):
        I = np.asarray(I)
        reference.append(quantized.to_grid(I) if quantize else I)
        return score(reference[-1])

    protes.protes(f, d, n, m=K * iterations, k=K, k_top=k_top, seed=7, is_max=True)
    optimizer = make_optimizer(preset, GRID, seed=7)
    ours = []
    for _ in range(iterations):
        indices = optimizer.ask()
        ours.append(indices)
        optimizer.tell(indices, score(indices))
    assert len(reference) == iterations
    for step, (a, b) in enumerate(zip(reference, ours)):
        assert np.array_equal(a, b), f"iteration {step} differs"


def test_bad_input_names_the_valid_choices():
    with pytest.raises(ConfigError, match=r"unknown method 'gradient'.*portfolio.*random.*tt-b"):
        make_optimizer("gradient", GRID)
    with pytest.raises(ConfigError, match=r"no parameter 'temperature'.*k_top"):
        make_optimizer("protes", GRID, temperature=1)
    with pytest.raises(ConfigError, match="fixed by the preset"):
        make_optimizer("tt-b", GRID, K=7)
    with pytest.raises(ConfigError, match="power of two"):
        make_optimizer("tt-b", LatentGrid(d=8, n=48))
    optimizer = make_optimizer("random", GRID)
    with pytest.raises(ConfigError, match="without a pending ask"):
        optimizer.tell(np.zeros((25, 12), dtype=int), np.zeros(25))
    indices = optimizer.ask()
    with pytest.raises(ConfigError, match="not asked"):
        optimizer.tell(indices[:3], np.zeros(3))
    with pytest.raises(ConfigError, match="NaN"):
        optimizer.tell(indices, np.full(len(indices), np.nan))


def test_registry_lists_paper_methods():
    names = available()
    for name in ["random", "portfolio", "tt", "tt-s", "tt-b", "protes", "cma", "oneplusone", "noisybandit", "spsa"]:
        assert name in names


def test_protes_warm_start_from_state_and_index():
    optimizer = make_optimizer("tt", GRID, seed=0)
    for _ in range(30):
        indices = optimizer.ask()
        optimizer.tell(indices, score(indices))
    warm = make_optimizer("tt", GRID, seed=1, P=optimizer.state())
    cold = make_optimizer("tt", GRID, seed=1)
    assert score(warm.ask()).mean() > score(cold.ask()).mean()
    pulled = make_optimizer("tt", GRID, seed=2)
    pulled.warm_start_from(TARGET, steps=100)
    assert score(pulled.ask()).mean() > score(make_optimizer("tt", GRID, seed=2).ask()).mean()


@pytest.mark.parametrize("method", ["random", "portfolio", "oneplusone"])
def test_warm_start_from_an_index_asks_it_first(method):
    optimizer = make_optimizer(method, GRID, seed=0, budget=500)
    optimizer.warm_start_from(TARGET)
    assert np.array_equal(optimizer.ask()[0], TARGET)


def test_ttopt_is_steppable_and_beats_random():
    optimizer = make_optimizer("ttopt", GRID, seed=0, budget=2000, quantize=False, rank=2)
    sizes = set()
    while optimizer.told < 2000:
        indices = optimizer.ask()
        sizes.add(len(indices))
        optimizer.tell(indices, score(indices))
    optimizer.close()
    random = make_optimizer("random", GRID, seed=0)
    while random.told < 2000:
        indices = random.ask()
        random.tell(indices, score(indices))
    assert optimizer.best_value > random.best_value
    assert len(sizes) > 1  # batches follow TTOpt's sweeps
    with pytest.raises(ConfigError, match="finished"):
        optimizer.ask()


def test_ttopt_close_ends_its_worker_thread():
    import threading

    before = threading.active_count()
    optimizer = make_optimizer("ttopt", GRID, seed=0, budget=10_000)
    indices = optimizer.ask()
    optimizer.tell(indices, score(indices))
    optimizer.ask()
    assert threading.active_count() == before + 1
    optimizer.close()
    assert threading.active_count() == before


@pytest.mark.parametrize("method", ["spsa", "noisybandit", "de"])
@pytest.mark.slow
def test_other_nevergrad_methods_follow_the_contract(method):
    optimizer = make_optimizer(method, GRID, seed=0, budget=200)
    seen = []
    while optimizer.told < 200:
        indices = optimizer.ask()
        assert indices.min() >= 0 and indices.max() < GRID.n
        seen.append(score(indices))
        optimizer.tell(indices, seen[-1])
    assert optimizer.best_value == np.concatenate(seen).max()
    expected_batch = 1 if method == "spsa" else 25  # SPSA is strictly sequential in nevergrad
    assert optimizer.batch_size == expected_batch


def test_array_parametrization_steps_across_the_box():
    """The continuous parametrization explores the whole grid, not one step around its centre
    (nevergrad's own CMA shrinks its first step in bounded spaces on purpose: not checked)."""
    grid = LatentGrid(d=32, n=64)
    for method in ("oneplusone", "portfolio", "de"):
        optimizer = make_optimizer(method, grid, seed=0, budget=200)
        spread = []
        for _ in range(5):
            batch = optimizer.ask()
            spread.append(np.abs(batch - 31.5).mean())
            optimizer.tell(batch, np.zeros(len(batch)))
        assert np.mean(spread) > 4, (method, spread)


@pytest.mark.slow
def test_protes_with_many_gradient_steps_still_asks_what_protes_asks():
    """k_gd above the unroll limit runs its Adam steps in a compiled loop: same trajectory."""
    import protes

    from mango_widgets.core.optimizers.protes_opt import UNROLL_MAX

    K, k_top, k_gd, lr, iterations = 20, 4, UNROLL_MAX + 6, 1e-3, 12
    reference = []

    def f(I):
        reference.append(np.asarray(I))
        return score(reference[-1])

    protes.protes(f, GRID.d, GRID.n, m=K * iterations, k=K, k_top=k_top, k_gd=k_gd, lr=lr, seed=3, is_max=True)
    optimizer = make_optimizer("protes", GRID, seed=3, K=K, k_top=k_top, k_gd=k_gd, lr=lr)
    for step in range(iterations):
        indices = optimizer.ask()
        assert np.array_equal(indices, reference[step]), f"iteration {step} differs"
        optimizer.tell(indices, score(indices))
