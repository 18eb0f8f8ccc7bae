"""Write tutorials/specializations.ipynb (without outputs).

Run: .venv/bin/python tools/make_specializations_notebook.py
"""
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell

from make_notebooks import write

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
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
        "from mango_widgets.demo import demo_accuracy, demo_epochs, demo_generator, demo_network\n"
        "from mango_widgets.epoch_tracking import EpochTracking, records_table\n\n"
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
]

if __name__ == "__main__":
    write(CELLS, ROOT / "tutorials" / "specializations.ipynb")
