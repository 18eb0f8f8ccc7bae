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
# # Sweeps: MEIs of many neurons, checkpoints and methods on Dask
#
# The paper's study found the MEIs of 576 neurons with three methods at every saved epoch of a training run. A **sweep** is such a product: layers x units x checkpoints x methods x seeds, each *cell* one search. It runs on Dask (here a local cluster of two worker processes; on a cluster, the same code with a `Client` for it) and writes every finished search at once into a **result store**: one SQLite database plus `.npz` arrays and PNG images, which you can kill at any moment and resume, and load as a pandas DataFrame.
#
# Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import os
from tempfile import mkdtemp

import matplotlib.pyplot as plt

from mango_widgets.engine import Sweep, load_results

FAST = os.environ.get('MANGO_FAST') == '1'
STORE = os.path.join(mkdtemp(), 'sweep')   # use a lasting folder, e.g. 'results/sweep', for real work

# %% [markdown]
# ## Define the sweep
# Two layers of the bundled demo SNN, a few units each, early and late training checkpoints, and two methods. `units` and `epochs` also take text like `'0-7'`, `'1,6,12'` or `'all'`.

# %%
sweep = Sweep(
    layers=['lif1', 'lif3'],
    units='0-1' if FAST else '0-7',
    epochs=[1, 12] if FAST else [1, 2, 4, 8, 12],
    methods=['tt-b', 'random'] if FAST else ['tt-b', 'tt-s', 'tt', 'random'],
    seeds=[0],
    budget=100 if FAST else 1000,
    store=STORE,
)
cells = sweep.cells()
print(len(cells), 'cells, e.g.', cells[0].key)

# %% [markdown]
# ## Run it on a local Dask cluster
# `sweep.run()` alone starts a local cluster sized for the machine (one single-threaded worker per core). Here we make the cluster ourselves to show how an existing one is used: pass its `Client` (for a remote scheduler, `Client('tcp://host:8786')`; for SLURM, see `docs/sweeps.md`). Each worker loads the models once and reuses them. In Jupyter a live panel shows cells done, failures and the best activation found so far per layer and method; `sweep.start(...)` would run it in the background instead.

# %%
from distributed import Client, LocalCluster

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=':0')
client = Client(cluster)
report = sweep.run(client=client)
print(report)

# %% [markdown]
# ## Resume: finished cells are skipped
# Running the same sweep again computes nothing: every cell is already in the store. After a crash, a `kill -9` or a cluster's time limit, the same call (or `mango sweep --store DIR --resume`) computes only the missing cells; `retry_failed=True` also reruns the failed ones.

# %%
again = sweep.run(client=client, progress=None)
print(again)
assert again.done == 0 and again.skipped == len(cells)

# %% [markdown]
# ## Query the results
# One row per cell; configuration, history and MEI files are referenced by path.

# %%
results = load_results(STORE)
results[['epoch', 'layer', 'unit', 'method', 'status', 'best', 'best_query', 'wall_seconds']].head()

# %%
table = results.pivot_table(index=['layer', 'epoch'], columns='method', values='best', aggfunc='mean')
table.round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, layer in zip(axes, sweep.layers):
    mine = results[results.layer == layer]
    for method, rows in mine.groupby('method'):
        means = rows.groupby('epoch')['best'].mean()
        ax.plot(means.index, means.values, marker='o', label=method)
    ax.set_title(f'{layer}: mean MEI activation')
    ax.set_xlabel('training epoch')
axes[0].set_ylabel('activation')
axes[0].legend();

# %% [markdown]
# The MEIs are PNG files next to the database (and exact arrays in `.mei.npz`):

# %%
from PIL import Image

best_method = results[results.method == 'tt-b'].sort_values(['layer', 'unit', 'epoch'])
fig, axes = plt.subplots(1, len(best_method), figsize=(1.3 * len(best_method), 1.8))
for ax, row in zip(axes, best_method.itertuples()):
    ax.imshow(Image.open(row.mei_png), cmap='gray')
    ax.set_title(f'{row.target}\ne{row.epoch} {row.best:.2f}', fontsize=7)
    ax.axis('off')

# %% [markdown]
# ## No package needed to read it
# The store is a plain SQLite file: any SQLite client, DuckDB or pandas opens it.

# %%
import sqlite3

with sqlite3.connect(os.path.join(STORE, 'results.sqlite')) as db:
    print(db.execute('PRAGMA integrity_check').fetchone())
    print(db.execute("SELECT layer, method, COUNT(*), MAX(best) FROM cells WHERE status = 'done' "
                     'GROUP BY layer, method').fetchall())

# %% [markdown]
# ## The same from the command line
# ```bash
# mango sweep --layers lif1 lif3 --units 0-7 --epochs 1,2,4,8,12 --methods tt-b tt-s tt --budget 1000 --store results/sweep
# mango sweep --store results/sweep --resume            # after a crash: only what is missing
# mango sweep --store results/sweep --status            # counts and failures
# mango sweep ... --scheduler tcp://host:8786            # on an existing Dask cluster
# ```

# %%
client.close()
cluster.close()
