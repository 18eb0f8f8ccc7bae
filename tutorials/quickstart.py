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
# # Quickstart: the most exciting image of one neuron
#
# A generator turns a point of a discrete latent grid (128 axes, 64 points each on [-4, 4]) into an image; the image is shown to a spiking network for T time steps; the activation of the chosen neuron is its spike count over T, averaged over its spatial positions, in [0, 1]. A gradient-free optimizer asks for grid points and is told their activations: no gradients, as with a living neuron.
#
# Everything here runs offline on the demo models bundled with the package. Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from mango_widgets import Objective, Search
from mango_widgets.models.bundled import demo_generator, demo_network
from mango_widgets.records.plots import plot_activation_curve

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 300 if FAST else 3000

# %% [markdown]
# ## The models
# The demo SNN (snnTorch, LIF with decay 0.9) and its probe-able layers:

# %%
network = demo_network()
generator = demo_generator()
print(network, generator, sep='\n')
for info in network.layers().values():
    print(info.describe())

# %% [markdown]
# ## One MEI in a few lines
# Unit 7 of the third spiking layer, with PROTES in its TT-b preset:

# %%
objective = Objective(generator, network, 'lif3:7')
search = Search(objective, 'tt-b', budget=BUDGET, seed=0).run()
search

# %%
fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={'width_ratios': [1, 2.2]})
ax_img.imshow(search.mei.image[0], cmap='gray', vmin=0, vmax=1)
ax_img.set_title(f'MEI, activation {search.mei.activation:.3f}')
ax_img.axis('off')
plot_activation_curve(ax_curve, search.history.values, label='TT-b')
fig.tight_layout()

# %% [markdown]
# How much more does the MEI excite the neuron than random grid points?

# %%
random_values = objective.evaluate(generator.grid.random(200, np.random.default_rng(0)))
print(f'MEI {search.mei.activation:.3f} vs random latents: mean {random_values.mean():.3f}, max {random_values.max():.3f}')
assert search.mei.activation > random_values.mean()

# %% [markdown]
# What does the network think the MEI is?

# %%
import torch
probabilities = network.class_probabilities(torch.as_tensor(search.mei.image[None]))[0]
print({network.classes[i]: round(float(p), 3) for i, p in enumerate(probabilities)})

# %% [markdown]
# ## Time split and saving
# The history keeps every query; wall time is split into model and optimizer time. Results are written as JSON, NPZ and PNG.

# %%
print(search.history.summary())
from tempfile import mkdtemp
from mango_widgets.records.results import save_search
folder = save_search(search, mkdtemp())
sorted(p.name for p in folder.iterdir())
