"""Draw docs/mei_examples.png: TT-b MEIs of two units in each hidden spiking layer of the demo SNN.

Run: .venv/bin/python tools/make_mei_figure.py [--budget 2000]
"""
import argparse
from pathlib import Path

from matplotlib.figure import Figure

from mango_widgets import Objective, Search
from mango_widgets.models.bundled import demo_generator, demo_network

TARGETS = ["lif1:3", "lif1:9", "lif2:5", "lif2:20", "lif3:7", "lif3:40", "lif4:13", "lif4:19"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "mei_examples.png"))
    args = parser.parse_args(argv)
    generator, network = demo_generator(), demo_network()
    figure = Figure(figsize=(2 * len(TARGETS) / 2, 4.6), dpi=110)
    axes = figure.subplots(2, len(TARGETS) // 2)
    for ax, target in zip(axes.flat, TARGETS):
        search = Search(Objective(generator, network, target), "tt-b", budget=args.budget, seed=0).run()
        probabilities = network.class_probabilities(generator(search.mei.index[None]))[0]
        ax.imshow(search.mei.image[0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{target}\nact {search.mei.activation:.2f}, '{int(probabilities.argmax())}'", fontsize=9)
        ax.axis("off")
        print(target, search.mei.activation, search.history.summary())
    figure.tight_layout()
    figure.savefig(args.out)


if __name__ == "__main__":
    main()
