"""The gradient ceiling finds the known best grid point of tiny differentiable models."""
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from mango_widgets import ConfigError, LatentGrid
from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.objective import Objective
from mango_widgets.studies.ceiling import gradient_ceiling, snap

GRID = LatentGrid(d=4, n=5, low=-4.0, high=4.0)
WEIGHTS = (1.0, -1.0, 2.0, 0.5)


class PixelsFromLatent(nn.Module):
    """latent [B, 4] on [-4, 4] -> image [B, 1, 2, 2] in [0, 1], linearly."""

    def forward(self, z):
        return ((z + 4.0) / 8.0).reshape(-1, 1, 2, 2)


def linear_unit() -> nn.Sequential:
    fc = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([WEIGHTS]))
    return nn.Sequential(nn.Flatten(), fc)


def brute_force(objective) -> float:
    every = np.array(list(itertools.product(range(GRID.n), repeat=GRID.d)))
    return float(objective.evaluate(every).max())


def test_snap_picks_the_nearest_grid_value():
    latents = np.array([[-4.0, -2.1, 1.9, 3.99]])
    assert snap(GRID, latents).tolist() == [[0, 1, 3, 4]]


def test_ceiling_of_a_linear_unit_is_the_exact_grid_maximum():
    generator = Generator(PixelsFromLatent(), GRID, image_shape=(1, 2, 2))
    network = Network(linear_unit(), input_shape=(1, 2, 2), time_mode="static")
    objective = Objective(generator, network, "1:0")
    ceiling = gradient_ceiling(objective, restarts=4, steps=40, seed=0)
    assert ceiling.value == pytest.approx(brute_force(objective))
    assert ceiling.index.tolist() == [4, 0, 4, 4]  # positive weights: bright pixel; negative: dark
    assert ceiling.value >= ceiling.start_value and ceiling.trace == sorted(ceiling.trace)


@pytest.mark.slow
def test_ceiling_follows_surrogate_gradients_through_a_spiking_network():
    """snnTorch LIF units with positive input weights fire most for the brightest image: the
    surrogate gradient leads there although spikes themselves have no gradient."""
    import snntorch
    from snntorch import surrogate

    class SpikingUnit(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 1, bias=False)
            with torch.no_grad():
                self.conv.weight.fill_(0.3)
            self.lif = snntorch.Leaky(beta=0.9, init_hidden=True, spike_grad=surrogate.fast_sigmoid(slope=25))
            self.flat = nn.Flatten()
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            return self.out(self.flat(self.lif(self.conv(x))))

    generator = Generator(PixelsFromLatent(), GRID, image_shape=(1, 2, 2))
    network = Network(SpikingUnit(), input_shape=(1, 2, 2), T=20)
    objective = Objective(generator, network, "lif:0")
    ceiling = gradient_ceiling(objective, restarts=3, steps=60, seed=1)
    assert ceiling.value == pytest.approx(brute_force(objective))
    assert ceiling.index.tolist() == [4, 4, 4, 4]
    assert all(p.requires_grad for p in network.module.parameters())  # left as it was


def test_ceiling_refuses_what_has_no_gradient():
    codebook = Generator(lambda idx: torch.zeros(len(idx), 1, 2, 2), GRID, image_shape=(1, 2, 2), takes_indices=True)
    network = Network(linear_unit(), input_shape=(1, 2, 2), time_mode="static")
    with pytest.raises(ConfigError, match="discrete indices"):
        gradient_ceiling(Objective(codebook, network, "1:0"))

    class Detached(nn.Module):
        def forward(self, z):
            return PixelsFromLatent()(z).detach()

    cut = Generator(Detached(), GRID, image_shape=(1, 2, 2))
    with pytest.raises(ConfigError, match="does not depend differentiably"):
        gradient_ceiling(Objective(cut, network, "1:0"), restarts=2, steps=3)
