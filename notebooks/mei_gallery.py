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
# # MEI gallery: a first look at every spiking layer
#
# An exploratory notebook: the MEI of a few units of each hidden spiking layer of the demo SNN, side by side
# with the random grid image that excited the unit most, so you can see at a glance which layers respond
# to strokes, parts or whole digits before choosing neurons for a study. Change `UNITS`, `METHOD` or
# `BUDGET` and re-run. (The tutorials explain the pieces; this notebook only looks.)

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from mango_widgets import Objective, Search, demo_generator, demo_network

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 100 if FAST else 1500
UNITS = 2 if FAST else 4
METHOD = 'tt-b'
generator, network = demo_generator(), demo_network()
layers = [info.name for info in network.layers().values() if info.spiking and info.name != 'lif_out']
layers

# %% [markdown]
# Which units to look at: per layer, the units that fire most on random grid images (silent units have no MEI).

# %%
rng = np.random.default_rng(0)
random_indices = generator.grid.random(64, rng)
probe = Objective(generator, network, f'{layers[0]}:0')
chosen = {}
for layer in layers:
    activations = probe.layer_activations(random_indices, layer)  # [64 images, units]
    chosen[layer] = [int(u) for u in np.argsort(-activations.max(0))[:UNITS]]
chosen

# %%
results = {}
for layer, units in chosen.items():
    for unit in units:
        objective = Objective(generator, network, f'{layer}:{unit}')
        search = Search(objective, METHOD, budget=BUDGET, seed=0).run()
        best_random = int(np.argmax(objective.evaluate(random_indices)))
        results[layer, unit] = (search.mei, objective.images(random_indices[best_random:best_random + 1])[0].numpy())

# %%
fig, axes = plt.subplots(len(layers), 2 * UNITS, figsize=(2.4 * UNITS, 1.5 * len(layers)), squeeze=False)
for row, layer in enumerate(layers):
    for col, unit in enumerate(chosen[layer]):
        mei, random_best = results[layer, unit]
        for offset, (image, title) in enumerate([(mei.image, f'{layer}:{unit} MEI\n{mei.activation:.2f}'),
                                                 (random_best, 'best random')]):
            ax = axes[row, 2 * col + offset]
            ax.imshow(image[0], cmap='gray', vmin=0, vmax=1)
            ax.set_title(title, fontsize=7)
            ax.axis('off')
fig.tight_layout()
