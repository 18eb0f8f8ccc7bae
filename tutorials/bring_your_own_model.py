# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Bring your own model
#
# Any `torch.nn.Module` classifier (spiking or not) and any generator (a module, or a plain function with its search space) plug into searches, widgets and sweeps. This tutorial builds a small spiking network and two generators of its own, finds most exciting images (MEIs) for them, then registers them in the model zoo so that `mango train`, `zoo.save` and `zoo.load` work for them too.
#
# Everything runs offline on the CPU. `MANGO_FAST=1` (set by the test suite) keeps budgets tiny.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from mango_widgets import Generator, LatentGrid, Network, Objective, Search
from mango_widgets.records.plots import plot_activation_curve

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 100 if FAST else 2000
_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. Your spiking network
# A SpikingJelly network in multi-step mode: it takes the whole exposure `[T, batch, C, H, W]` at once. The LIF neurons use `tau=10` without input decay, i.e. the membrane decays by 0.9 per step, as in the paper. `Network` finds out how the module handles time and lists every layer it can probe.

# %%
from spikingjelly.activation_based import functional, layer, neuron

def lif():
    return neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None)

class MySNN(nn.Module):
    """28x28 grey digits -> 10 classes; two conv-LIF stages and a LIF readout."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1, self.sn1 = layer.Conv2d(1, 8, 3, padding=1), lif()
        self.pool1 = layer.MaxPool2d(2)
        self.conv2, self.sn2 = layer.Conv2d(8, 16, 3, padding=1), lif()
        self.pool2 = layer.MaxPool2d(2)
        self.flat = layer.Flatten()
        self.fc, self.sn_out = layer.Linear(16 * 7 * 7, num_classes), lif()
        functional.set_step_mode(self, 'm')

    def forward(self, x):
        x = self.pool1(self.sn1(self.conv1(x * 4)))
        x = self.pool2(self.sn2(self.conv2(x)))
        return self.sn_out(self.fc(self.flat(x)))

network = Network(MySNN(), input_shape=(1, 28, 28), T=20, classes=[str(i) for i in range(10)], name='my-snn')
print(network)
for info in network.layers().values():
    print(' ', info.describe())

# %% [markdown]
# Weights from elsewhere load with `weights_only=True` (tensors only, never pickled code); a file that does not fit says which keys are missing, unexpected or of the wrong shape:

# %%
from tempfile import mkdtemp
from mango_widgets import WeightsError
from mango_widgets.models.checkpoints import load_state_dict

folder = mkdtemp()
torch.save(network.module.state_dict(), f'{folder}/mine.pt')
load_state_dict(MySNN(), f'{folder}/mine.pt')   # fits
torch.save(MySNN(num_classes=5).state_dict(), f'{folder}/other.pt')
try:
    load_state_dict(MySNN(), f'{folder}/other.pt')
except WeightsError as error:
    print(error)

# %% [markdown]
# ## 2. Your generator: a function and its search space
# A generator maps a point of a discrete grid to an image in [0, 1]. Here, a plain function draws an oriented grating through a soft window; six latent axes (orientation, spatial frequency, phase, window x, y and width) with 16 points each on [0, 1] make the search space.

# %%
yy, xx = torch.meshgrid(torch.linspace(-1, 1, 28), torch.linspace(-1, 1, 28), indexing='ij')

def gratings(z):
    """z [B, 6] in [0, 1] -> images [B, 1, 28, 28] in [0, 1]."""
    theta, freq, phase, cx, cy, width = (z[:, i, None, None] for i in range(6))
    theta = theta * np.pi
    u = xx * torch.cos(theta) + yy * torch.sin(theta)
    wave = 0.5 + 0.5 * torch.cos(2 * np.pi * (1 + 5 * freq) * u + 2 * np.pi * phase)
    window = torch.exp(-((xx - (2 * cx - 1)) ** 2 + (yy - (2 * cy - 1)) ** 2) / (0.05 + 0.6 * width) ** 2)
    return (wave * window).unsqueeze(1)

grating_generator = Generator(gratings, LatentGrid(d=6, n=16, low=0.0, high=1.0), image_shape=(1, 28, 28),
                              name='gratings')
samples = grating_generator(grating_generator.grid.random(6, np.random.default_rng(0)))
fig, axes = plt.subplots(1, 6, figsize=(9, 1.7))
for ax, image in zip(axes, samples):
    ax.imshow(image[0], cmap='gray', vmin=0, vmax=1)
    ax.axis('off')

# %% [markdown]
# ## 3. The most exciting grating of one neuron
# Unit 3 of the second spiking layer; PROTES (TT preset) asks for grid points and is told the unit's spike rate, as it would be for a living neuron.

# %%
objective = Objective(grating_generator, network, 'sn2:3')
search = Search(objective, 'tt', budget=BUDGET, seed=0).run()
random_values = objective.evaluate(grating_generator.grid.random(100, np.random.default_rng(1)))
print(search)
print(f'MEI {search.mei.activation:.3f} vs random gratings: mean {random_values.mean():.3f}')
assert search.mei.activation >= random_values.mean()
fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={'width_ratios': [1, 2.2]})
ax_img.imshow(search.mei.image[0], cmap='gray', vmin=0, vmax=1)
ax_img.set_title(f'MEI, rate {search.mei.activation:.3f}')
ax_img.axis('off')
plot_activation_curve(ax_curve, search.history.values, label='TT')
fig.tight_layout()

# %% [markdown]
# ## 4. A discrete generator: indices pick entries directly
# With `takes_indices=True` the generator gets the integer grid indices instead of latent values, as a VQ-VAE picks one of 512 codebook entries at each of its 64 positions (`zoo.make_generator('vqvae28')`). Here each of 16 tiles (a 4x4 layout) picks one of 8 stroke patterns:

# %%
patterns = torch.zeros(8, 7, 7)
patterns[1, 3, :] = 1; patterns[2, :, 3] = 1; patterns[3] = torch.eye(7); patterns[4] = torch.eye(7).flip(1)
patterns[5, 1:6, 1:6] = 1; patterns[6, 3, :] = 1; patterns[6, :, 3] = 1; patterns[7] = 0.5

def tiles(indices):
    """indices [B, 16] in 0..7 -> images [B, 1, 28, 28]."""
    chosen = patterns[indices]                      # [B, 16, 7, 7]
    grid = chosen.view(-1, 4, 4, 7, 7).permute(0, 1, 3, 2, 4)
    return grid.reshape(-1, 1, 28, 28)

tile_generator = Generator(tiles, LatentGrid(d=16, n=8), image_shape=(1, 28, 28), takes_indices=True, name='tiles')
tile_search = Search(Objective(tile_generator, network, 'sn2:3'), 'tt-b', budget=BUDGET, seed=0).run()
print(tile_search)
plt.figure(figsize=(2, 2)); plt.imshow(tile_search.mei.image[0], cmap='gray', vmin=0, vmax=1); plt.axis('off');

# %% [markdown]
# ## 5. Into the zoo: train, save and load by name
# Registering the network gives it a name that `make_network`, `mango train` and `zoo.load` understand. The entry says what input it takes, its default T and which dataset's class names and normalisation it uses (the offline MNIST subset here).

# %%
from mango_widgets.models import zoo
from mango_widgets.models.training.train import parse_args, train

zoo.register_network(zoo.NetworkEntry('my-snn', MySNN, input_shape=(1, 28, 28), T=20, dataset='mnist-subset',
                                      description='the tutorial SNN'), replace=True)
run = mkdtemp()
metrics = train(parse_args(['--model', 'my-snn', '--epochs', '1', '--T', '5' if FAST else '20',
                            '--limit', '256' if FAST else '4000', '--test-limit', '200',
                            '--batch-size', '32', '--out', run]))
metrics

# %%
trained = zoo.load(f'{run}/model.pt')      # weights + JSON sidecar, one call
print(trained, trained.preprocess)
generator = zoo.make_generator('dcgan28', width=32)   # a zoo generator (random weights here)
zoo_search = Search(Objective(generator, trained, 'sn2:3'), 'random', budget=BUDGET, seed=0).run()
print(zoo_search)
sorted(os.listdir(run))
