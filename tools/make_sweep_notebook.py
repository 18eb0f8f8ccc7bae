"""Write the "sweeps" tutorial notebook (without outputs) from the cell sources below.

Run: .venv/bin/python tools/make_sweep_notebook.py   (nbval executes it in the test command)
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SWEEPS = [
    new_markdown_cell(
        "# Sweeps: MEIs of many neurons, checkpoints and methods on Dask\n\n"
        "The paper's study found the MEIs of 576 neurons with three methods at every saved epoch of a training "
        "run. A **sweep** is such a product: layers x units x checkpoints x methods x seeds, each *cell* one search. "
        "It runs on Dask (here a local cluster of two worker processes; on a cluster, the same code with a "
        "`Client` for it) and writes every finished search at once into a **result store**: one SQLite database "
        "plus `.npz` arrays and PNG images, which you can kill at any moment and resume, and load as a pandas "
        "DataFrame.\n\n"
        "Set `MANGO_FAST=1` for a quick run (the test suite does)."
    ),
    new_code_cell(
        "import os\n"
        "from tempfile import mkdtemp\n\n"
        "import matplotlib.pyplot as plt\n\n"
        "from mango_widgets.sweep import Sweep, load_results\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "STORE = os.path.join(mkdtemp(), 'sweep')   # use a lasting folder, e.g. 'results/sweep', for real work"
    ),
    new_markdown_cell(
        "## Define the sweep\n"
        "Two layers of the bundled demo SNN, a few units each, early and late training checkpoints, and two "
        "methods. `units` and `epochs` also take text like `'0-7'`, `'1,6,12'` or `'all'`."
    ),
    new_code_cell(
        "sweep = Sweep(\n"
        "    layers=['lif1', 'lif3'],\n"
        "    units='0-1' if FAST else '0-7',\n"
        "    epochs=[1, 12] if FAST else [1, 2, 4, 8, 12],\n"
        "    methods=['tt-b', 'random'] if FAST else ['tt-b', 'tt-s', 'tt', 'random'],\n"
        "    seeds=[0],\n"
        "    budget=100 if FAST else 1000,\n"
        "    store=STORE,\n"
        ")\n"
        "cells = sweep.cells()\n"
        "print(len(cells), 'cells, e.g.', cells[0].key)"
    ),
    new_markdown_cell(
        "## Run it on a local Dask cluster\n"
        "`sweep.run()` alone starts a local cluster sized for the machine (one single-threaded worker per core). "
        "Here we make the cluster ourselves to show how an existing one is used: pass its `Client` (for a remote "
        "scheduler, `Client('tcp://host:8786')`; for SLURM, see `docs/sweeps.md`). Each worker loads the models "
        "once and reuses them. In Jupyter a live panel shows cells done, failures and the best activation found "
        "so far per layer and method; `sweep.start(...)` would run it in the background instead."
    ),
    new_code_cell(
        "from distributed import Client, LocalCluster\n\n"
        "cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=':0')\n"
        "client = Client(cluster)\n"
        "report = sweep.run(client=client)\n"
        "print(report)"
    ),
    new_markdown_cell(
        "## Resume: finished cells are skipped\n"
        "Running the same sweep again computes nothing: every cell is already in the store. After a crash, a "
        "`kill -9` or a cluster's time limit, the same call (or `mango sweep --store DIR --resume`) computes only "
        "the missing cells; `retry_failed=True` also reruns the failed ones."
    ),
    new_code_cell(
        "again = sweep.run(client=client, progress=None)\n"
        "print(again)\n"
        "assert again.done == 0 and again.skipped == len(cells)"
    ),
    new_markdown_cell("## Query the results\nOne row per cell; configuration, history and MEI files are referenced by path."),
    new_code_cell(
        "results = load_results(STORE)\n"
        "results[['epoch', 'layer', 'unit', 'method', 'status', 'best', 'best_query', 'wall_seconds']].head()"
    ),
    new_code_cell(
        "table = results.pivot_table(index=['layer', 'epoch'], columns='method', values='best', aggfunc='mean')\n"
        "table.round(3)"
    ),
    new_code_cell(
        "fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)\n"
        "for ax, layer in zip(axes, sweep.layers):\n"
        "    mine = results[results.layer == layer]\n"
        "    for method, rows in mine.groupby('method'):\n"
        "        means = rows.groupby('epoch')['best'].mean()\n"
        "        ax.plot(means.index, means.values, marker='o', label=method)\n"
        "    ax.set_title(f'{layer}: mean MEI activation')\n"
        "    ax.set_xlabel('training epoch')\n"
        "axes[0].set_ylabel('activation')\n"
        "axes[0].legend();"
    ),
    new_markdown_cell("The MEIs are PNG files next to the database (and exact arrays in `.mei.npz`):"),
    new_code_cell(
        "from PIL import Image\n\n"
        "best_method = results[results.method == 'tt-b'].sort_values(['layer', 'unit', 'epoch'])\n"
        "fig, axes = plt.subplots(1, len(best_method), figsize=(1.3 * len(best_method), 1.8))\n"
        "for ax, row in zip(axes, best_method.itertuples()):\n"
        "    ax.imshow(Image.open(row.mei_png), cmap='gray')\n"
        "    ax.set_title(f'{row.target}\\ne{row.epoch} {row.best:.2f}', fontsize=7)\n"
        "    ax.axis('off')"
    ),
    new_markdown_cell(
        "## No package needed to read it\n"
        "The store is a plain SQLite file: any SQLite client, DuckDB or pandas opens it."
    ),
    new_code_cell(
        "import sqlite3\n\n"
        "with sqlite3.connect(os.path.join(STORE, 'results.sqlite')) as db:\n"
        "    print(db.execute('PRAGMA integrity_check').fetchone())\n"
        "    print(db.execute(\"SELECT layer, method, COUNT(*), MAX(best) FROM cells WHERE status = 'done' \"\n"
        "                     'GROUP BY layer, method').fetchall())"
    ),
    new_markdown_cell(
        "## The same from the command line\n"
        "```bash\n"
        "mango sweep --layers lif1 lif3 --units 0-7 --epochs 1,2,4,8,12 --methods tt-b tt-s tt --budget 1000 --store results/sweep\n"
        "mango sweep --store results/sweep --resume            # after a crash: only what is missing\n"
        "mango sweep --store results/sweep --status            # counts and failures\n"
        "mango sweep ... --scheduler tcp://host:8786            # on an existing Dask cluster\n"
        "```"
    ),
    new_code_cell("client.close()\ncluster.close()"),
]


def write(cells, path: Path) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    write(SWEEPS, ROOT / "tutorials" / "sweeps.ipynb")
