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
# # Specializations over training
#
# How do neurons become selective for a class, and do they keep that class while the network learns? We follow a few neurons of the demo SNN through its 12 saved training epochs: at every epoch we search their MEIs with the three tensor-train methods (TT, TT-s, TT-b), warm-starting each epoch's search from the previous epoch's MEI, and ask what the network makes of each MEI.
#
# The paper's criterion (section 4.2): a neuron is **selective** for class c when its MEI drives it to at least 75% of its maximum activity, the network gives c at least 75% probability on that MEI, and the TT, TT-s and TT-b MEIs agree on c. A neuron selective for one class over training is **stable**; one selective for two or more classes at different epochs is **labile**.
#
# Set `MANGO_FAST=1` for a quick run (the test suite does). The full study on every spiking layer is one command: `mango specializations --workers 2` (results in docs/specializations.md).

# %%
import os
import tempfile

from matplotlib.figure import Figure

from mango_widgets.analysis import classify_tracks, latent_diversity, selectivity_table, summaries
from mango_widgets.analysis.static_figures import draw_activation, draw_heatmap
from mango_widgets.models.bundled import demo_accuracy, demo_epochs, demo_generator, demo_network
from mango_widgets.studies.epoch_tracking import EpochTracking, records_table

FAST = os.environ.get('MANGO_FAST') == '1'
EPOCHS = [1, 4, 12] if FAST else demo_epochs()
TARGETS = ['lif4:5', 'lif4:40', 'lif_out:3'] if FAST else ['lif2:4', 'lif3:1', 'lif3:20', 'lif4:5', 'lif4:40', 'lif4:90', 'lif_out:3', 'lif_out:7']
BUDGET = 60 if FAST else 400

# %% [markdown]
# ## Track the neurons over epochs
# `EpochTracking` loads each checkpoint once, runs every (neuron, method) search, and appends each record to a JSON-lines file as it finishes: stop it (or let it crash) and `run()` again continues where it ended.

# %%
folder = tempfile.mkdtemp(prefix='mango-tracking-')
tracking = EpochTracking(lambda epoch: demo_network(epoch=epoch), demo_generator(), TARGETS, EPOCHS,
                         budget=BUDGET, folder=folder, accuracy=demo_accuracy())
print(tracking.pending(), 'searches to run')
tracking.run()
table = records_table(tracking.records)
table[['epoch', 'target', 'method', 'warm_started', 'status', 'best', 'top_class', 'top_probability', 'entropy']].head(12)

# %%
assert tracking.pending() == 0 and len(table) == len(TARGETS) * len(EPOCHS) * 3
assert table.loc[table['epoch'] > EPOCHS[0], 'warm_started'].any()

# %% [markdown]
# ## Which neurons are selective, and for what?
# One row per neuron and epoch; each criterion is also reported on its own:

# %%
verdicts = selectivity_table(table)
verdicts.head(12)

# %%
tracks = classify_tracks(verdicts)
tracks

# %% [markdown]
# ## Entropy, activation and accuracy over training

# %%
layers = list(dict.fromkeys(t.split(':')[0] for t in TARGETS))
fig = Figure(figsize=(11, 3.4))
left, right = fig.subplots(1, 2)
draw_heatmap(left, summaries.selective_fraction(table, criterion='active', layers=layers), 'activation >= 75%')
draw_activation(right, summaries.mean_activation(table, layers), demo_accuracy())
fig.tight_layout()
fig

# %%
for epoch in (EPOCHS[0], EPOCHS[-1]):
    entropies = summaries.entropy_by_layer(table, epoch, layers)
    print(f'epoch {epoch:>2}: median normalised entropy', {k: round(float(v.mean()), 3) if len(v) else None for k, v in entropies.items()})

# %% [markdown]
# ## Diversity and complexity
# Diversity: mean distances between the MEI latents of a layer. Complexity: JPEG and ZIP size of the MEI over its raw size (already in every record).

# %%
grid = demo_generator().grid
last = table[(table['epoch'] == EPOCHS[-1]) & table['mei_index'].notna()]
print('all MEIs at the last epoch:', latent_diversity(grid.to_latent(list(last['mei_index']))))
table.groupby('epoch')[['jpeg_ratio', 'zip_ratio']].mean().round(3)

# %% [markdown]
# ## The epoch explorer
# Play through the epochs; click a cell of the layer heatmap to choose a layer and epoch, a cell of the unit heatmap to see that neuron's MEIs over training (rows: methods, columns: epochs).

# %%
from mango_widgets.widgets.epoch_explorer import EpochExplorer

explorer = EpochExplorer(table, demo_generator(), demo_accuracy())
explorer.select_neuron('lif4', 5)
explorer

# %%
assert explorer.track.value.count('<img') == 3 * len(EPOCHS)

# %% [markdown]
# ## The full study
# `mango specializations --workers 2` ran every spiking layer (16 units each, the 10 output units), all 12 epochs, TT/TT-s/TT-b at 300 queries: 2,664 searches. Its records are committed with the repository; browse them here (findings in docs/specializations.md).

# %%
from pathlib import Path

import mango_widgets
from mango_widgets.studies.epoch_tracking import load_folder

study = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'specializations'
if (study / 'records.jsonl.gz').exists():
    full = records_table(load_folder(study))
    print(len(full), 'searches;', 'selective fraction at the last epoch:')
    print(summaries.selective_fraction(full)[full['epoch'].max()].round(2).to_dict())
    full_explorer = EpochExplorer(full, demo_generator(), demo_accuracy(), layers=['lif1', 'lif2', 'lif3', 'lif4', 'lif_out'])
    display(full_explorer)
else:
    print('the committed study is not next to this installation (run from a clone of the repository)')
