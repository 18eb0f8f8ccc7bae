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
        "from mango_widgets.demo import demo_generator, demo_network\n"
        "from mango_widgets.plots import plot_activation_curve\n\n"
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
        "from mango_widgets.results import save_search\n"
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
        "from mango_widgets.demo import demo_generator, demo_network\n"
        "from mango_widgets.plots import plot_activation_curve\n\n"
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


def write(cells, path: Path) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    write(QUICKSTART, ROOT / "tutorials" / "quickstart.ipynb")
    write(METHODS, ROOT / "notebooks" / "compare_methods.ipynb")
