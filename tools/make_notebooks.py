"""Write the tutorial and example notebooks (without outputs) from the cell sources below.

Run: .venv/bin/python tools/make_notebooks.py   (nbval executes them in the test command)
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

QUICKSTART = [
    new_markdown_cell(
        "# Quickstart: the most exciting image of one neuron\n\n"
        "A generator turns a point of a discrete latent grid (128 axes, 64 points each on [-4, 4]) into an "
        "image; the image is shown to a spiking network for T time steps; the activation of the chosen "
        "neuron is its spike count over T, averaged over its spatial positions, in [0, 1]. A gradient-free "
        "optimizer asks for grid points and is told their activations: no gradients, as with a living neuron.\n\n"
        "Everything here runs offline on the demo models bundled with the package. Set `MANGO_FAST=1` for "
        "a quick run (the test suite does)."
    ),
    new_code_cell(
        "import os\n\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n\n"
        "from mango_widgets import Objective, Search\n"
        "from mango_widgets.models.bundled import demo_generator, demo_network\n"
        "from mango_widgets.records.plots import plot_activation_curve\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 300 if FAST else 3000"
    ),
    new_markdown_cell("## The models\nThe demo SNN (snnTorch, LIF with decay 0.9) and its probe-able layers:"),
    new_code_cell(
        "network = demo_network()\n"
        "generator = demo_generator()\n"
        "print(network, generator, sep='\\n')\n"
        "for info in network.layers().values():\n"
        "    print(info.describe())"
    ),
    new_markdown_cell("## One MEI in a few lines\nUnit 7 of the third spiking layer, with PROTES in its TT-b preset:"),
    new_code_cell(
        "objective = Objective(generator, network, 'lif3:7')\n"
        "search = Search(objective, 'tt-b', budget=BUDGET, seed=0).run()\n"
        "search"
    ),
    new_code_cell(
        "fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={'width_ratios': [1, 2.2]})\n"
        "ax_img.imshow(search.mei.image[0], cmap='gray', vmin=0, vmax=1)\n"
        "ax_img.set_title(f'MEI, activation {search.mei.activation:.3f}')\n"
        "ax_img.axis('off')\n"
        "plot_activation_curve(ax_curve, search.history.values, label='TT-b')\n"
        "fig.tight_layout()"
    ),
    new_markdown_cell("How much more does the MEI excite the neuron than random grid points?"),
    new_code_cell(
        "random_values = objective.evaluate(generator.grid.random(200, np.random.default_rng(0)))\n"
        "print(f'MEI {search.mei.activation:.3f} vs random latents: mean {random_values.mean():.3f}, max {random_values.max():.3f}')\n"
        "assert search.mei.activation > random_values.mean()"
    ),
    new_markdown_cell("What does the network think the MEI is?"),
    new_code_cell(
        "import torch\n"
        "probabilities = network.class_probabilities(torch.as_tensor(search.mei.image[None]))[0]\n"
        "print({network.classes[i]: round(float(p), 3) for i, p in enumerate(probabilities)})"
    ),
    new_markdown_cell(
        "## Time split and saving\nThe history keeps every query; wall time is split into model and optimizer time. "
        "Results are written as JSON, NPZ and PNG."
    ),
    new_code_cell(
        "print(search.history.summary())\n"
        "from tempfile import mkdtemp\n"
        "from mango_widgets.records.results import save_search\n"
        "folder = save_search(search, mkdtemp())\n"
        "sorted(p.name for p in folder.iterdir())"
    ),
]

METHODS = [
    new_markdown_cell(
        "# Racing optimizers on one neuron\n\nThe same neuron, the same budget, several methods: PROTES presets "
        "(TT, TT-s, TT-b), Nevergrad's Portfolio and random search. Every method sees exactly the same "
        "black box and budget."
    ),
    new_code_cell(
        "import os\n\n"
        "import matplotlib.pyplot as plt\n\n"
        "from mango_widgets import Objective, Search\n"
        "from mango_widgets.models.bundled import demo_generator, demo_network\n"
        "from mango_widgets.records.plots import plot_activation_curve\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 200 if FAST else 2000\n"
        "METHODS = ['tt-b', 'tt-s', 'tt', 'portfolio', 'random']\n"
        "generator, network = demo_generator(), demo_network()"
    ),
    new_code_cell(
        "searches = {m: Search(Objective(generator, network, 'lif2:5'), m, budget=BUDGET, seed=0).run() for m in METHODS}\n"
        "for m, s in searches.items():\n"
        "    h = s.history.summary()\n"
        "    print(f\"{m:>10}: best {s.mei.activation:.3f} at query {s.mei.query:5d}; model {h['objective_seconds']:.1f} s, optimizer {h['optimizer_seconds']:.1f} s\")"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(7, 3.5))\n"
        "for m, s in searches.items():\n"
        "    plot_activation_curve(ax, s.history.values, label=m, show_queries=False)\n"
        "ax.legend();"
    ),
    new_code_cell(
        "fig, axes = plt.subplots(1, len(searches), figsize=(2 * len(searches), 2.3))\n"
        "for ax, (m, s) in zip(axes, searches.items()):\n"
        "    ax.imshow(s.mei.image[0], cmap='gray', vmin=0, vmax=1)\n"
        "    ax.set_title(f'{m}\\n{s.mei.activation:.3f}', fontsize=9)\n"
        "    ax.axis('off')"
    ),
]


SPECIALIZATIONS = [
    new_markdown_cell(
        "# Specializations over training\n\n"
        "How do neurons become selective for a class, and do they keep that class while the network learns? "
        "We follow a few neurons of the demo SNN through its 12 saved training epochs: at every epoch we search "
        "their MEIs with the three tensor-train methods (TT, TT-s, TT-b), warm-starting each epoch's search from "
        "the previous epoch's MEI, and ask what the network makes of each MEI.\n\n"
        "The paper's criterion (section 4.2): a neuron is **selective** for class c when its MEI drives it to at "
        "least 75% of its maximum activity, the network gives c at least 75% probability on that MEI, and the "
        "TT, TT-s and TT-b MEIs agree on c. A neuron selective for one class over training is **stable**; one "
        "selective for two or more classes at different epochs is **labile**.\n\n"
        "Set `MANGO_FAST=1` for a quick run (the test suite does). The full study on every spiking layer is one "
        "command: `mango specializations --workers 2` (results in docs/specializations.md)."
    ),
    new_code_cell(
        "import os\n"
        "import tempfile\n\n"
        "from matplotlib.figure import Figure\n\n"
        "from mango_widgets.analysis import classify_tracks, latent_diversity, selectivity_table, summaries\n"
        "from mango_widgets.analysis.static_figures import draw_activation, draw_heatmap\n"
        "from mango_widgets.models.bundled import demo_accuracy, demo_epochs, demo_generator, demo_network\n"
        "from mango_widgets.studies.epoch_tracking import EpochTracking, records_table\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "EPOCHS = [1, 4, 12] if FAST else demo_epochs()\n"
        "TARGETS = ['lif4:5', 'lif4:40', 'lif_out:3'] if FAST else ['lif2:4', 'lif3:1', 'lif3:20', 'lif4:5', 'lif4:40', 'lif4:90', 'lif_out:3', 'lif_out:7']\n"
        "BUDGET = 60 if FAST else 400"
    ),
    new_markdown_cell(
        "## Track the neurons over epochs\n"
        "`EpochTracking` loads each checkpoint once, runs every (neuron, method) search, and appends each record "
        "to a JSON-lines file as it finishes: stop it (or let it crash) and `run()` again continues where it ended."
    ),
    new_code_cell(
        "folder = tempfile.mkdtemp(prefix='mango-tracking-')\n"
        "tracking = EpochTracking(lambda epoch: demo_network(epoch=epoch), demo_generator(), TARGETS, EPOCHS,\n"
        "                         budget=BUDGET, folder=folder, accuracy=demo_accuracy())\n"
        "print(tracking.pending(), 'searches to run')\n"
        "tracking.run()\n"
        "table = records_table(tracking.records)\n"
        "table[['epoch', 'target', 'method', 'warm_started', 'status', 'best', 'top_class', 'top_probability', 'entropy']].head(12)"
    ),
    new_code_cell(
        "assert tracking.pending() == 0 and len(table) == len(TARGETS) * len(EPOCHS) * 3\n"
        "assert table.loc[table['epoch'] > EPOCHS[0], 'warm_started'].any()"
    ),
    new_markdown_cell(
        "## Which neurons are selective, and for what?\n"
        "One row per neuron and epoch; each criterion is also reported on its own:"
    ),
    new_code_cell(
        "verdicts = selectivity_table(table)\n"
        "verdicts.head(12)"
    ),
    new_code_cell(
        "tracks = classify_tracks(verdicts)\n"
        "tracks"
    ),
    new_markdown_cell("## Entropy, activation and accuracy over training"),
    new_code_cell(
        "layers = list(dict.fromkeys(t.split(':')[0] for t in TARGETS))\n"
        "fig = Figure(figsize=(11, 3.4))\n"
        "left, right = fig.subplots(1, 2)\n"
        "draw_heatmap(left, summaries.selective_fraction(table, criterion='active', layers=layers), 'activation >= 75%')\n"
        "draw_activation(right, summaries.mean_activation(table, layers), demo_accuracy())\n"
        "fig.tight_layout()\n"
        "fig"
    ),
    new_code_cell(
        "for epoch in (EPOCHS[0], EPOCHS[-1]):\n"
        "    entropies = summaries.entropy_by_layer(table, epoch, layers)\n"
        "    print(f'epoch {epoch:>2}: median normalised entropy', {k: round(float(v.mean()), 3) if len(v) else None for k, v in entropies.items()})"
    ),
    new_markdown_cell(
        "## Diversity and complexity\n"
        "Diversity: mean distances between the MEI latents of a layer. Complexity: JPEG and ZIP size of the MEI "
        "over its raw size (already in every record)."
    ),
    new_code_cell(
        "grid = demo_generator().grid\n"
        "last = table[(table['epoch'] == EPOCHS[-1]) & table['mei_index'].notna()]\n"
        "print('all MEIs at the last epoch:', latent_diversity(grid.to_latent(list(last['mei_index']))))\n"
        "table.groupby('epoch')[['jpeg_ratio', 'zip_ratio']].mean().round(3)"
    ),
    new_markdown_cell(
        "## The epoch explorer\n"
        "Play through the epochs; click a cell of the layer heatmap to choose a layer and epoch, a cell of the "
        "unit heatmap to see that neuron's MEIs over training (rows: methods, columns: epochs)."
    ),
    new_code_cell(
        "from mango_widgets.widgets.epoch_explorer import EpochExplorer\n\n"
        "explorer = EpochExplorer(table, demo_generator(), demo_accuracy())\n"
        "explorer.select_neuron('lif4', 5)\n"
        "explorer"
    ),
    new_code_cell(
        "assert explorer.track.value.count('<img') == 3 * len(EPOCHS)"
    ),
    new_markdown_cell(
        "## The full study\n"
        "`mango specializations --workers 2` ran every spiking layer (16 units each, the 10 output units), all 12 "
        "epochs, TT/TT-s/TT-b at 300 queries: 2,664 searches. Its records are committed with the repository; "
        "browse them here (findings in docs/specializations.md)."
    ),
    new_code_cell(
        "from pathlib import Path\n\n"
        "import mango_widgets\n"
        "from mango_widgets.studies.epoch_tracking import load_folder\n\n"
        "study = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'specializations'\n"
        "if (study / 'records.jsonl.gz').exists():\n"
        "    full = records_table(load_folder(study))\n"
        "    print(len(full), 'searches;', 'selective fraction at the last epoch:')\n"
        "    print(summaries.selective_fraction(full)[full['epoch'].max()].round(2).to_dict())\n"
        "    full_explorer = EpochExplorer(full, demo_generator(), demo_accuracy(), layers=['lif1', 'lif2', 'lif3', 'lif4', 'lif_out'])\n"
        "    display(full_explorer)\n"
        "else:\n"
        "    print('the committed study is not next to this installation (run from a clone of the repository)')"
    ),
]

LIVE_COMPARISON = [
    new_markdown_cell(
        "# Comparing optimizers on one neuron\n\n"
        "The same neuron, the same black box, the same budget: the tensor-train methods (PROTES presets TT, TT-s, "
        "TT-b), Nevergrad (Portfolio, CMA, OnePlusOne) and random search race side by side, each in its own "
        "thread, while the curve below updates live. Every query counts, cache hits included; each search stops "
        "at exactly the budget.\n\n"
        "One run on one neuron is an anecdote: the equal-budget benchmark over 12 neurons and 3 seeds "
        "(`benchmarks/optimizers.py`) is the evidence; its summary is read at the end.\n\n"
        "Set `MANGO_FAST=1` for a quick run (the test suite does)."
    ),
    new_code_cell(
        "import json\n"
        "import os\n"
        "from pathlib import Path\n\n"
        "import numpy as np\n\n"
        "from mango_widgets.models.bundled import demo_generator, demo_network\n"
        "from mango_widgets.widgets import MEIExplorer\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 150 if FAST else 2000\n"
        "METHODS = ('tt', 'tt-s', 'tt-b', 'portfolio', 'cma', 'oneplusone', 'random')"
    ),
    new_markdown_cell("## The race, live\nThe explorer builds one `Search` per method and writes their progress to the plot in throttled batches."),
    new_code_cell(
        "explorer = MEIExplorer(demo_generator(), demo_network(), methods=METHODS, budget=BUDGET, seed=0)\n"
        "explorer.select(layer='lif2', unit=13)\n"
        "explorer"
    ),
    new_code_cell(
        "explorer.run()\n"
        "explorer.wait(timeout=1800)\n"
        "searches = explorer.searches\n"
        "assert all(s.state == 'finished' and s.queries == BUDGET for s in searches.values())"
    ),
    new_markdown_cell(
        "## The numbers behind the curves\n"
        "Best activation, when each method first reached it, the queries it needed to reach 90% of the best any "
        "method found, and where the time went (model vs optimizer)."
    ),
    new_code_cell(
        "best_any = max(s.history.best_value for s in searches.values())\n"
        "print(f\"{'method':>11} {'best':>6} {'norm.':>6} {'at query':>9} {'to 90%':>7} {'model s':>8} {'optim. s':>9}\")\n"
        "for name, s in sorted(searches.items(), key=lambda kv: -kv[1].history.best_value):\n"
        "    curve = s.history.best_so_far\n"
        "    reach = np.nonzero(curve >= 0.9 * best_any)[0]\n"
        "    h = s.history\n"
        "    print(f\"{name:>11} {h.best_value:6.3f} {h.best_value / best_any:6.3f} {h.best_query:9d} \"\n"
        "          f\"{(reach[0] + 1) if len(reach) else '-':>7} {h.objective_seconds:8.2f} {h.optimizer_seconds:9.2f}\")"
    ),
    new_markdown_cell(
        "## The benchmark\n"
        "The committed summary of the equal-budget benchmark (medians over neurons and seeds of the best activation "
        "normalised by the best any method found on that neuron). Rebuild it with "
        "`python benchmarks/optimizers.py --plan full` then `python benchmarks/summarize_optimizers.py`."
    ),
    new_code_cell(
        "summary_path = Path('..') / 'benchmarks' / 'results' / 'optimizers_summary.json'\n"
        "if summary_path.exists():\n"
        "    summary = json.loads(summary_path.read_text())\n"
        "    for budget, methods in summary['table'].items():\n"
        "        print(f'budget {budget}:')\n"
        "        for name, row in sorted(methods.items(), key=lambda kv: -(kv[1]['normalised_best']['median'] or 0)):\n"
        "            n = row['normalised_best']\n"
        "            print(f\"  {name:>16}: median {n['median']:.3f} (q1 {n['q1']:.3f}, q3 {n['q3']:.3f}), {n['n']} runs\")\n"
        "else:\n"
        "    print('no benchmark summary next to this notebook (run from a clone of the repository)')"
    ),
]

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
        "from mango_widgets.engine import Sweep, load_results\n\n"
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


CLOSED_LOOP = [
    new_markdown_cell(
        "# A closed-loop experiment\n\n"
        "Gradient-free MEI search is meant to run one day against living neurons: images shown on a screen, "
        "responses recorded by electrodes or calcium imaging — noisy, sometimes missing, from many neurons at "
        "once. This tutorial runs the whole loop against *simulated* neurons of the demo SNN:\n\n"
        "1. a `ClosedLoopSession` hands out stimuli (`ask`) and takes responses (`tell`), whatever arrives;\n"
        "2. a `NoisyResponder` answers like a neuron: Poisson spike counts, optionally a drifting gain;\n"
        "3. the session is journaled after every call and resumes after a crash;\n"
        "4. a presentation program in another process drives it through a folder;\n"
        "5. a population search serves many units from one stimulus stream;\n"
        "6. several distinct MEIs of one neuron.\n\n"
        "Set `MANGO_FAST=1` for a quick run (the test suite does)."
    ),
    new_code_cell(
        "import os\n"
        "import subprocess\n"
        "import sys\n"
        "from pathlib import Path\n"
        "from tempfile import mkdtemp\n\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n\n"
        "from mango_widgets import Objective\n"
        "from mango_widgets.studies.closed_loop import ClosedLoopSession, FileAdapter, NoisyResponder\n"
        "from mango_widgets.models.bundled import demo_generator, demo_network\n"
        "from mango_widgets.core.noise import NOISE_LEVELS, SinusoidalDrift\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 120 if FAST else 1500\n"
        "THREADS = 1  # torch threads of the simulated neurons: small batches run fastest on one, and never slow down on a busy machine\n"
        "generator, network = demo_generator(), demo_network()\n"
        "NOISE_LEVELS  # spike count of a fully active unit per presentation"
    ),
    new_markdown_cell(
        "## A simulated neuron\n"
        "Unit 24 of layer `lif2`, answering with Poisson spike counts at the *high* noise level (10 spikes for a "
        "fully active unit) and a slow sinusoidal gain drift of ±10%. Responses come in activation units "
        "(counts / 10); `true_values` gives the noise-free activation, which a real experiment never sees."
    ),
    new_code_cell(
        "objective = Objective(generator, network, 'lif2:24')\n"
        "neuron = NoisyResponder(objective, noise='high', drift=SinusoidalDrift(amplitude=0.1, period=500), seed=0, threads=THREADS)\n"
        "probe = generator.grid.random(1, np.random.default_rng(0))\n"
        "trials = neuron(np.repeat(probe, 200, axis=0))\n"
        "print(f'noise-free {neuron.true_values(probe)[0]:.3f}; 200 trials: mean {trials.mean():.3f}, sd {trials.std():.3f}')"
    ),
    new_markdown_cell(
        "## The session: ask, show, tell\n"
        "Here the 'rig' loses 15% of the responses and sends some answers twice. Lost stimuli are shown again "
        "under new ids when the next batch is asked (the budget counts every showing); duplicates are "
        "ignored. The optimizer only ever hears complete batches. Each candidate is shown twice (`repeats=2`)."
    ),
    new_code_cell(
        "rng = np.random.default_rng(1)\n"
        "folder = Path(mkdtemp()) / 'session'\n"
        "session = ClosedLoopSession(generator, 'tt-b', budget=BUDGET, seed=0, repeats=2, folder=folder)\n"
        "while not session.done:\n"
        "    batch = session.ask()                    # ids, indices, latents, images\n"
        "    responses = neuron(batch)\n"
        "    arrived = rng.random(len(batch)) > 0.15\n"
        "    session.tell(batch.ids[arrived], responses[arrived])\n"
        "    session.tell(batch.ids[arrived][:2], responses[arrived][:2])   # a re-sent answer\n"
        "session.summary()"
    ),
    new_markdown_cell(
        "## Crash and resume\n"
        "Everything was journaled (fsync) as it happened. Dropping the object and resuming from the folder replays "
        "the journal through a fresh optimizer with the same seed: the state is identical."
    ),
    new_code_cell(
        "resumed = ClosedLoopSession.resume(folder, generator)\n"
        "print(resumed.summary() == session.summary(), np.array_equal(resumed.history.values, session.history.values))\n"
        "print((folder / 'journal.jsonl').read_text().splitlines()[1][:160], '...')"
    ),
    new_markdown_cell(
        "## The MEI, its re-test and the truth\n"
        "The best stimulus by search responses has the highest mean response over its showings. Under noise the "
        "best responses are partly lucky draws (the *winner's curse*): its estimate is biased upwards, and it is "
        "often not the truly best stimulus shown. Re-testing the top few with fresh trials and keeping the best "
        "of those fixes much of both (`ask_retest(count, top)`; the budget does not count re-tests)."
    ),
    new_code_cell(
        "best_index, estimate, showings = session.best()\n"
        "print(f'best by search responses: estimate {estimate:.3f} ({showings} showings), '\n"
        "      f'noise-free truth {neuron.true_values(best_index[None])[0]:.3f}')\n"
        "retest = session.ask_retest(4, top=5)\n"
        "session.tell(retest.ids, neuron(retest))\n"
        "mei = session.mei()\n"
        "print(f'after re-testing the top 5: re-test {mei.retest_mean:.3f} ± {mei.retest_sem:.3f}, '\n"
        "      f'noise-free truth {neuron.true_values(mei.index[None])[0]:.3f}')\n"
        "fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={'width_ratios': [1, 2.4]})\n"
        "ax_img.imshow(mei.image[0], cmap='gray', vmin=0, vmax=1); ax_img.axis('off'); ax_img.set_title('MEI')\n"
        "ax_curve.plot(session.history.values, '.', ms=2, alpha=0.4, label='responses')\n"
        "ax_curve.plot(session.history.best_so_far, label='best single response')\n"
        "ax_curve.set_xlabel('response'); ax_curve.legend(); fig.tight_layout()"
    ),
    new_markdown_cell(
        "## A presentation program in another process\n"
        "The folder protocol: the driver writes each batch as PNGs plus a `manifest.json` into `outbox/`; the "
        "client answers with `inbox/responses_<batch>.json` (or CSV). Files appear atomically. The whole client "
        "fits on one screen and does not import mango_widgets — any language can do the same. Here its "
        "'neuron' is the mean brightness of the image. From a shell: `mango closed-loop --folder X` plus "
        "`python example_client.py X`."
    ),
    new_code_cell(
        "import mango_widgets.studies.closed_loop as closed_loop\n"
        "client_source = Path(closed_loop.__file__).parent / 'example_client.py'\n"
        "print(client_source.read_text())"
    ),
    new_code_cell(
        "exchange = mkdtemp()\n"
        "client = subprocess.Popen([sys.executable, str(client_source), exchange])\n"
        "remote = ClosedLoopSession(generator, 'tt-b', budget=50 if FAST else 300, seed=0, folder=Path(exchange) / 'session')\n"
        "FileAdapter(remote, exchange, batch_timeout=30, retest=5).run(timeout=300)\n"
        "print('client exit code', client.wait(timeout=60))\n"
        "print(remote.summary())\n"
        "sorted(p.name for p in Path(exchange, 'archive').iterdir())[:4]"
    ),
    new_markdown_cell(
        "## Population search: many neurons, one stimulus stream\n"
        "A recording sees many neurons at once. `PopulationSearch` gives every unit of a set its own optimizer, "
        "shows all their proposals once (one forward pass scores every unit), and lets each unit's PROTES learn "
        "from every shown image. Without sharing (`share=False`) each unit's own images are exactly its "
        "independent search; its best over *all* images is what the shared stream gives for free."
    ),
    new_code_cell(
        "from mango_widgets.studies.population import PopulationSearch\n"
        "units, per_unit = (range(6), 50) if FAST else (range(32), 400)\n"
        "runs = {share: PopulationSearch(generator, network, 'lif3', units=units, method='tt-b', budget=len(units) * per_unit,\n"
        "                                seed=0, share=share, threads=THREADS).run() for share in (False, True)}\n"
        "independent = runs[False].own_best_value\n"
        "for name, best in (('shared, no learning', runs[False].best_value), ('shared, learning', runs[True].best_value)):\n"
        "    ratio = best / independent\n"
        "    print(f'{name:>20}: median activation / independent {np.median(ratio):.3f} (min {ratio.min():.3f}, max {ratio.max():.3f})')"
    ),
    new_markdown_cell(
        "## Several optima of one neuron\n"
        "Restarts that are penalised near the optima already found, or samples of the TT distribution a PROTES "
        "search learned: distinct MEIs with their activations and pairwise latent distances."
    ),
    new_code_cell(
        "from mango_widgets.studies.several_optima import several_meis\n"
        "found = several_meis(Objective(generator, network, 'lif2:24'), count=3, method='tt-b',\n"
        "                     budget=75 if FAST else 800, strategy='restarts', seed=0, threads=THREADS)\n"
        "print(found.summary())\n"
        "print(found.euclidean.round(1))\n"
        "images = generator(found.indices).numpy()\n"
        "fig, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.4))\n"
        "for ax, image, value in zip(axes, images, found.activations):\n"
        "    ax.imshow(image[0], cmap='gray', vmin=0, vmax=1); ax.set_title(f'{value:.3f}'); ax.axis('off')"
    ),
    new_markdown_cell(
        "## Measured\n"
        "`benchmarks/closed_loop.py` runs every method against the noisy neurons at three noise levels with and "
        "without repeats, and the population search on 64 units of `lif3`; its summary is committed:"
    ),
    new_code_cell(
        "import json\n"
        "import mango_widgets\n"
        "results = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'closed_loop.json'\n"
        "if results.exists():\n"
        "    summary = json.loads(results.read_text())\n"
        "    for condition, methods in summary.get('noise', {}).get('ranking', {}).items():\n"
        "        print(f'{condition:>8}: ' + ' > '.join(methods))\n"
        "    for name, run in summary.get('population', {}).get('runs', {}).items():\n"
        "        print(name, {k: v for k, v in run.items() if k != 'per_unit'})\n"
        "else:\n"
        "    print('no committed benchmark results found next to this installation')"
    ),
]


def write(cells, path: Path) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    write(QUICKSTART, ROOT / "tutorials" / "quickstart.ipynb")
    write(METHODS, ROOT / "notebooks" / "compare_methods.ipynb")
    write(LIVE_COMPARISON, ROOT / "tutorials" / "compare_methods.ipynb")
    write(SPECIALIZATIONS, ROOT / "tutorials" / "specializations.ipynb")
    write(SWEEPS, ROOT / "tutorials" / "sweeps.ipynb")
    write(CLOSED_LOOP, ROOT / "tutorials" / "closed_loop.ipynb")
