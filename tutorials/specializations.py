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
# # Specializations over training, measured cleanly
#
# How do neurons become selective for a class while the network learns, and do they keep that class? The paper (section 4.2) calls a neuron **selective** for class c at an epoch when its MEI drives it to at least 75% of its maximum activity, the network gives c at least 75% probability on that MEI, and the TT, TT-s and TT-b MEIs agree on c; a neuron selective for one class over training is **stable**, for two or more **labile**.
#
# A trustworthy answer needs more than one search per neuron:
#
# * **cold searches** are the measurement (a search warm-started from the previous epoch's MEI carries that epoch's queries along; warm starts are measured apart, as the speed-up they are, next to a cold control with the same total budget);
# * **a random-image baseline** at every epoch: random samples of the demo generator already get a high top-class probability, so every criterion is also reported *relative to* what random images get;
# * **several seeds**, averaged within a neuron, and **bootstrap intervals over neurons** for every per-layer number; **trend tests on the neurons** (permutation tests), not on a handful of layer means.
#
# `mango reproduce` runs all of it as one resumable plan of searches on the sweep engine (inline or on Dask). Here a tiny study runs in the notebook; the committed study on every spiking layer of the demo SNN is read at the end. Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

import mango_widgets
from mango_widgets.models.bundled import demo_accuracy, demo_generator
from mango_widgets.studies.reproduction.config import preset
from mango_widgets.studies.reproduction.run import reproduce

FAST = os.environ.get('MANGO_FAST') == '1'
folder = Path(tempfile.mkdtemp(prefix='mango-study-'))
config = preset('ci', folder, layers=('lif3', 'lif4', 'lif_out'), units=1 if FAST else 3, epochs=(1, 12) if FAST else (1, 3, 6, 12),
                seeds=2, budget=16 if FAST else 100, compare_generator=None, warm_epochs=(12,) if FAST else (3, 12))
config

# %% [markdown]
# ## Plan, baseline, searches, report
# `reproduce` computes the random-image baseline of every epoch, builds the plan (cold searches for every neuron, epoch, method and seed; one warm search per neuron at the warm epochs, started from the previous study epoch's cold MEI, plus its cold control with twice the budget), runs it here (`client='inline'`; leave it out for a local Dask cluster) and writes the report. Run it again and nothing is recomputed.

# %%
report, summary = reproduce(config, client='inline', progress=None, log=lambda message: None)
print(report)
print(summary['coverage'])

# %% [markdown]
# Every search is a row of the result store, with what the network makes of its MEI (stored as the search finished):

# %%
from mango_widgets.studies.reproduction.tables import explorer_table, read_records

records = read_records(folder / 'records.csv.gz')
records[['epoch', 'layer', 'unit', 'method', 'seed', 'budget', 'init', 'status', 'best', 'top_class', 'top_probability', 'entropy']].head(8)

# %% [markdown]
# ## The claims, each with its number, interval and verdict
# A toy study this small cannot support the paper's claims; the table shows the form of the answer (the committed study below has the numbers).

# %%
claims = pd.DataFrame(summary['claims'])[['paper', 'figure', 'ours', 'verdict']]
claims

# %%
assert set(claims['verdict']) <= {'reproduced', 'not reproduced', 'not testable here', 'control'}
assert summary['coverage']['complete']

# %% [markdown]
# ## The random-image baseline
# What random images of the generator get at each epoch: their mean top-class probability, the share that passes the 75% confidence threshold, their entropy. An MEI is specific beyond the generator only where it beats these.

# %%
pd.read_csv(folder / 'baseline_epochs.csv')

# %% [markdown]
# ## Figures
# `figures/` holds the paper's figures that the data supports; for instance the activation of the neurons' best MEIs over training (95% intervals over neurons) next to the model's accuracy:

# %%
from IPython.display import Image

Image(filename=str(folder / 'figures' / 'fig09_activation_over_training.png'))

# %% [markdown]
# ## The epoch explorer
# Play through the epochs; click a cell of the layer heatmap to choose a layer and epoch, a cell of the unit heatmap to see that neuron's MEIs over training. The explorer shows one seed's cold searches.

# %%
from mango_widgets.widgets.epoch_explorer import EpochExplorer

explorer = EpochExplorer(explorer_table(records), demo_generator(), demo_accuracy())
explorer

# %% [markdown]
# ## The committed study
# `mango reproduce --scale demo --workers 2` plans every spiking layer of the demo SNN (8 evenly spaced neurons each), all 12 epochs, TT/TT-s/TT-b, 3 seeds, 300 queries per search, warm pairs at 5 epochs with their controls, and the same neurons at the last epoch with a VQ-VAE. Its records, baselines, summary and figures are committed; `docs/reproduction.md` maps each of the paper's claims to our number and a verdict.

# %%
study = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'reproduction'
if (study / 'summary.json').exists():
    committed = json.loads((study / 'summary.json').read_text())
    print('coverage:', committed['coverage']['searches'])
    display(pd.DataFrame(committed['claims'])[['paper', 'figure', 'ours', 'verdict']])
    full = read_records(study / 'records.csv.gz')
    layers = [name for name in committed['settings']['design']['layers'] if name in set(full['layer'])]  # a partial study may lack some
    display(EpochExplorer(explorer_table(full), demo_generator(), demo_accuracy(), layers=layers))
else:
    print('the committed study is not next to this installation (run from a clone of the repository)')

# %% [markdown]
# ## The retired study
# Before the engine ran it, the study warm-started every epoch from the previous epoch's MEI (one seed, no baseline). Its records stay readable in the same table format:

# %%
from mango_widgets.studies.legacy import read_legacy

old = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'specializations' / 'records.jsonl.gz'
if old.exists():
    retired = read_legacy(old)
    print(len(retired), 'searches;', retired.groupby('init').size().to_dict())
