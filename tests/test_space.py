"""The latent grid and its quantized (binary) view."""
import numpy as np
import pytest

from mango_widgets import ConfigError, LatentGrid


def test_uniform_grid_matches_the_paper_setting():
    grid = LatentGrid(d=128, n=64, low=-4, high=4)
    assert grid.values[0] == -4 and grid.values[-1] == 4 and len(grid.values) == 64
    assert np.allclose(np.diff(grid.values), 8 / 63)
    latents = grid.to_latent(np.array([[0] * 128, [63] * 128]))
    assert latents.shape == (2, 128) and latents.dtype == np.float32
    assert np.all(latents[0] == -4) and np.all(latents[1] == 4)


def test_normal_spacing_uses_standard_normal_quantiles():
    grid = LatentGrid(d=4, n=64, spacing="normal")
    assert np.all(np.diff(grid.values) > 0)
    assert abs(grid.values.mean()) < 1e-6
    assert 0.9 < grid.values.std() < 1.0  # midpoint quantiles of N(0, 1)


def test_indices_are_checked():
    grid = LatentGrid(d=3, n=8)
    with pytest.raises(ConfigError, match=r"0\.\.7"):
        grid.to_latent([[0, 8, 1]])
    with pytest.raises(ConfigError, match=r"shape \[batch, 3\]"):
        grid.to_latent([[0, 1]])
    with pytest.raises(ConfigError, match="low < high"):
        LatentGrid(d=2, n=4, low=1, high=1)


def test_quantized_view_round_trips_and_orders_bits_msb_first():
    grid = LatentGrid(d=5, n=64)
    quantized = grid.quantized()
    assert (quantized.d, quantized.n, quantized.q) == (30, 2, 6)
    rng = np.random.default_rng(0)
    indices = grid.random(50, rng)
    bits = quantized.from_grid(indices)
    assert bits.shape == (50, 30) and set(np.unique(bits)) <= {0, 1}
    assert np.array_equal(quantized.to_grid(bits), indices)
    assert list(quantized.from_grid([[5, 0, 0, 0, 63]])[0, :6]) == [0, 0, 0, 1, 0, 1]


def test_quantization_needs_a_power_of_two():
    with pytest.raises(ConfigError, match="power of two.*n=48"):
        LatentGrid(d=4, n=48).quantized()
