"""Write tutorials/bring_your_own_model.ipynb (without outputs) from the cell sources below.

Run: .venv/bin/python tools/make_zoo_notebook.py   (nbval executes it in the test command,
with MANGO_FAST=1 for tiny budgets)
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    new_markdown_cell(
        "# Bring your own model\n\n"
        "Any `torch.nn.Module` classifier (spiking or not) and any generator (a module, or a plain function with "
        "its search space) plug into searches, widgets and sweeps. This tutorial builds a small spiking network "
        "and two generators of its own, finds most exciting images (MEIs) for them, then registers them in the "
        "model zoo so that `mango train`, `zoo.save` and `zoo.load` work for them too.\n\n"
        "Everything runs offline on the CPU. `MANGO_FAST=1` (set by the test suite) keeps budgets tiny."
    ),
    new_code_cell(
        "import os\n\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "import torch\n"
        "from torch import nn\n\n"
        "from mango_widgets import Generator, LatentGrid, Network, Objective, Search\n"
        "from mango_widgets.records.plots import plot_activation_curve\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 100 if FAST else 2000\n"
        "_ = torch.manual_seed(0)"
    ),
    new_markdown_cell(
        "## 1. Your spiking network\n"
        "A SpikingJelly network in multi-step mode: it takes the whole exposure `[T, batch, C, H, W]` at once. "
        "The LIF neurons use `tau=10` without input decay, i.e. the membrane decays by 0.9 per step, as in the "
        "paper. `Network` finds out how the module handles time and lists every layer it can probe."
    ),
    new_code_cell(
        "from spikingjelly.activation_based import functional, layer, neuron\n\n"
        "def lif():\n"
        "    return neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None)\n\n"
        "class MySNN(nn.Module):\n"
        "    \"\"\"28x28 grey digits -> 10 classes; two conv-LIF stages and a LIF readout.\"\"\"\n\n"
        "    def __init__(self, num_classes=10):\n"
        "        super().__init__()\n"
        "        self.conv1, self.sn1 = layer.Conv2d(1, 8, 3, padding=1), lif()\n"
        "        self.pool1 = layer.MaxPool2d(2)\n"
        "        self.conv2, self.sn2 = layer.Conv2d(8, 16, 3, padding=1), lif()\n"
        "        self.pool2 = layer.MaxPool2d(2)\n"
        "        self.flat = layer.Flatten()\n"
        "        self.fc, self.sn_out = layer.Linear(16 * 7 * 7, num_classes), lif()\n"
        "        functional.set_step_mode(self, 'm')\n\n"
        "    def forward(self, x):\n"
        "        x = self.pool1(self.sn1(self.conv1(x * 4)))\n"
        "        x = self.pool2(self.sn2(self.conv2(x)))\n"
        "        return self.sn_out(self.fc(self.flat(x)))\n\n"
        "network = Network(MySNN(), input_shape=(1, 28, 28), T=20, classes=[str(i) for i in range(10)], name='my-snn')\n"
        "print(network)\n"
        "for info in network.layers().values():\n"
        "    print(' ', info.describe())"
    ),
    new_markdown_cell(
        "Weights from elsewhere load with `weights_only=True` (tensors only, never pickled code); a file that does "
        "not fit says which keys are missing, unexpected or of the wrong shape:"
    ),
    new_code_cell(
        "from tempfile import mkdtemp\n"
        "from mango_widgets import WeightsError\n"
        "from mango_widgets.models.checkpoints import load_state_dict\n\n"
        "folder = mkdtemp()\n"
        "torch.save(network.module.state_dict(), f'{folder}/mine.pt')\n"
        "load_state_dict(MySNN(), f'{folder}/mine.pt')   # fits\n"
        "torch.save(MySNN(num_classes=5).state_dict(), f'{folder}/other.pt')\n"
        "try:\n"
        "    load_state_dict(MySNN(), f'{folder}/other.pt')\n"
        "except WeightsError as error:\n"
        "    print(error)"
    ),
    new_markdown_cell(
        "## 2. Your generator: a function and its search space\n"
        "A generator maps a point of a discrete grid to an image in [0, 1]. Here, a plain function draws an "
        "oriented grating through a soft window; six latent axes (orientation, spatial frequency, phase, "
        "window x, y and width) with 16 points each on [0, 1] make the search space."
    ),
    new_code_cell(
        "yy, xx = torch.meshgrid(torch.linspace(-1, 1, 28), torch.linspace(-1, 1, 28), indexing='ij')\n\n"
        "def gratings(z):\n"
        "    \"\"\"z [B, 6] in [0, 1] -> images [B, 1, 28, 28] in [0, 1].\"\"\"\n"
        "    theta, freq, phase, cx, cy, width = (z[:, i, None, None] for i in range(6))\n"
        "    theta = theta * np.pi\n"
        "    u = xx * torch.cos(theta) + yy * torch.sin(theta)\n"
        "    wave = 0.5 + 0.5 * torch.cos(2 * np.pi * (1 + 5 * freq) * u + 2 * np.pi * phase)\n"
        "    window = torch.exp(-((xx - (2 * cx - 1)) ** 2 + (yy - (2 * cy - 1)) ** 2) / (0.05 + 0.6 * width) ** 2)\n"
        "    return (wave * window).unsqueeze(1)\n\n"
        "grating_generator = Generator(gratings, LatentGrid(d=6, n=16, low=0.0, high=1.0), image_shape=(1, 28, 28),\n"
        "                              name='gratings')\n"
        "samples = grating_generator(grating_generator.grid.random(6, np.random.default_rng(0)))\n"
        "fig, axes = plt.subplots(1, 6, figsize=(9, 1.7))\n"
        "for ax, image in zip(axes, samples):\n"
        "    ax.imshow(image[0], cmap='gray', vmin=0, vmax=1)\n"
        "    ax.axis('off')"
    ),
    new_markdown_cell(
        "## 3. The most exciting grating of one neuron\n"
        "Unit 3 of the second spiking layer; PROTES (TT preset) asks for grid points and is told the unit's spike "
        "rate, as it would be for a living neuron."
    ),
    new_code_cell(
        "objective = Objective(grating_generator, network, 'sn2:3')\n"
        "search = Search(objective, 'tt', budget=BUDGET, seed=0).run()\n"
        "random_values = objective.evaluate(grating_generator.grid.random(100, np.random.default_rng(1)))\n"
        "print(search)\n"
        "print(f'MEI {search.mei.activation:.3f} vs random gratings: mean {random_values.mean():.3f}')\n"
        "assert search.mei.activation >= random_values.mean()\n"
        "fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={'width_ratios': [1, 2.2]})\n"
        "ax_img.imshow(search.mei.image[0], cmap='gray', vmin=0, vmax=1)\n"
        "ax_img.set_title(f'MEI, rate {search.mei.activation:.3f}')\n"
        "ax_img.axis('off')\n"
        "plot_activation_curve(ax_curve, search.history.values, label='TT')\n"
        "fig.tight_layout()"
    ),
    new_markdown_cell(
        "## 4. A discrete generator: indices pick entries directly\n"
        "With `takes_indices=True` the generator gets the integer grid indices instead of latent values, as a "
        "VQ-VAE picks one of 512 codebook entries at each of its 64 positions (`zoo.make_generator('vqvae28')`). "
        "Here each of 16 tiles (a 4x4 layout) picks one of 8 stroke patterns:"
    ),
    new_code_cell(
        "patterns = torch.zeros(8, 7, 7)\n"
        "patterns[1, 3, :] = 1; patterns[2, :, 3] = 1; patterns[3] = torch.eye(7); patterns[4] = torch.eye(7).flip(1)\n"
        "patterns[5, 1:6, 1:6] = 1; patterns[6, 3, :] = 1; patterns[6, :, 3] = 1; patterns[7] = 0.5\n\n"
        "def tiles(indices):\n"
        "    \"\"\"indices [B, 16] in 0..7 -> images [B, 1, 28, 28].\"\"\"\n"
        "    chosen = patterns[indices]                      # [B, 16, 7, 7]\n"
        "    grid = chosen.view(-1, 4, 4, 7, 7).permute(0, 1, 3, 2, 4)\n"
        "    return grid.reshape(-1, 1, 28, 28)\n\n"
        "tile_generator = Generator(tiles, LatentGrid(d=16, n=8), image_shape=(1, 28, 28), takes_indices=True, name='tiles')\n"
        "tile_search = Search(Objective(tile_generator, network, 'sn2:3'), 'tt-b', budget=BUDGET, seed=0).run()\n"
        "print(tile_search)\n"
        "plt.figure(figsize=(2, 2)); plt.imshow(tile_search.mei.image[0], cmap='gray', vmin=0, vmax=1); plt.axis('off');"
    ),
    new_markdown_cell(
        "## 5. Into the zoo: train, save and load by name\n"
        "Registering the network gives it a name that `make_network`, `mango train` and `zoo.load` understand. "
        "The entry says what input it takes, its default T and which dataset's class names and normalisation "
        "it uses (the offline MNIST subset here)."
    ),
    new_code_cell(
        "from mango_widgets.models import zoo\n"
        "from mango_widgets.models.training.train import parse_args, train\n\n"
        "zoo.register_network(zoo.NetworkEntry('my-snn', MySNN, input_shape=(1, 28, 28), T=20, dataset='mnist-subset',\n"
        "                                      description='the tutorial SNN'), replace=True)\n"
        "run = mkdtemp()\n"
        "metrics = train(parse_args(['--model', 'my-snn', '--epochs', '1', '--T', '5' if FAST else '20',\n"
        "                            '--limit', '256' if FAST else '4000', '--test-limit', '200',\n"
        "                            '--batch-size', '32', '--out', run]))\n"
        "metrics"
    ),
    new_code_cell(
        "trained = zoo.load(f'{run}/model.pt')      # weights + JSON sidecar, one call\n"
        "print(trained, trained.preprocess)\n"
        "generator = zoo.make_generator('dcgan28', width=32)   # a zoo generator (random weights here)\n"
        "zoo_search = Search(Objective(generator, trained, 'sn2:3'), 'random', budget=BUDGET, seed=0).run()\n"
        "print(zoo_search)\n"
        "sorted(os.listdir(run))"
    ),
]


def main() -> None:
    notebook = new_notebook(cells=CELLS, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    path = ROOT / "tutorials" / "bring_your_own_model.ipynb"
    nbformat.write(notebook, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
