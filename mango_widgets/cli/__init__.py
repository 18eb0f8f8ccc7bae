"""The ``mango`` command line: list layers and methods, run a search, retrain the demo models."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from mango_widgets.errors import reports_errors


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epoch", type=int, default=None, help="demo SNN checkpoint epoch (default: last)")
    parser.add_argument("--T", type=int, default=None, help="time steps of exposure (default: as trained)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mango", description="Most exciting images of SNN neurons by black-box search.")
    sub = parser.add_subparsers(dest="command", required=True)

    layers = sub.add_parser("layers", help="list the probe-able layers of the demo SNN with their unit counts")
    _model_args(layers)

    sub.add_parser("methods", help="list the optimization methods")

    search = sub.add_parser("search", help="find the MEI of one neuron of the demo SNN")
    _model_args(search)
    search.add_argument("--layer", default="lif3", help="dotted layer name (see `mango layers`)")
    search.add_argument("--unit", type=int, default=0, help="unit (channel) index in the layer")
    search.add_argument("--class", dest="class_index", type=int, default=None, help="maximise an output class instead")
    search.add_argument("--method", default="auto",
                        help="optimization method (see `mango methods`; auto: the benchmark's pick for the budget)")
    search.add_argument("--budget", type=int, default=2000, help="number of queries")
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--spacing", default="uniform", choices=("uniform", "normal"), help="latent grid spacing")
    search.add_argument("--threads", type=int, default=None, help="torch threads (default: $MANGO_THREADS or all cores)")
    search.add_argument("--out", default="results/search", help="output folder (checked before the search starts)")
    search.add_argument("--overwrite", action="store_true", help="replace an earlier run's results in --out (refused otherwise)")
    search.add_argument("--save-every", type=float, default=10.0, help="seconds between partial saves while running")

    # these hand all their arguments to their own parsers (see PASS_THROUGH in main)
    sub.add_parser("app", help="serve the widgets as a Voila web app on the demo models (mango app --help)", add_help=False)
    sub.add_parser("train", help="train a zoo network or generator (mango train --help)", add_help=False)
    sub.add_parser("train-demo", help="retrain the bundled demo SNN and generator (mango train-demo --help)", add_help=False)
    sub.add_parser("train-long", add_help=False,
                   help="train a recipe (demo SNN, spiking ResNet18) for many epochs, resumable, sha256 manifest (mango train-long --help)")
    sub.add_parser("closed-loop", add_help=False,
                   help="serve stimuli to a presentation program through a folder (mango closed-loop --help)")
    sub.add_parser("specializations", add_help=False,
                   help="replaced by `mango reproduce` (says how)")
    sub.add_parser("reproduce", add_help=False,
                   help="the paper's figures and claims, measured cleanly, resumable (mango reproduce --help)")
    sub.add_parser("sweep", add_help=False,
                   help="MEIs of many neurons x epochs x methods on Dask into a resumable store (mango sweep --help)")
    return parser


#: subcommands whose arguments go unparsed to another entry point: name -> "module:function"
PASS_THROUGH = {
    "app": "mango_widgets.widgets.app:main",
    "train": "mango_widgets.models.training.train:main",
    "train-demo": "mango_widgets.models.training.bundled:main",
    "train-long": "mango_widgets.models.training.long_run:main",
    "closed-loop": "mango_widgets.studies.closed_loop.file_adapter:main",
    "specializations": "mango_widgets.cli.reproduce:replaced_specializations",
    "sweep": "mango_widgets.cli.sweep:main",
    "reproduce": "mango_widgets.cli.reproduce:main",
}


def _layers(args) -> None:
    from mango_widgets.models.bundled import demo_network

    network = demo_network(epoch=args.epoch, T=args.T)
    print(f"{network.name}: time mode {network.time_mode}, T={network.T}, input {network.input_shape}")
    print(f"  ({network.time_mode_reason})")
    for info in network.layers().values():
        print(f"  {info.name:<10} {info.units:>5} units  {info.module_type:<10} {'spiking' if info.spiking else 'analog'}")


def _methods() -> None:
    from mango_widgets.core.optimizers import available

    for name, description in available().items():
        print(f"  {name:<12} {description}")


@reports_errors
def main(argv: Optional[List[str]] = None) -> int:
    """The ``mango`` command: a pass-through subcommand's own entry point, or layers / methods / search."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in PASS_THROUGH:
        import importlib

        module, _, function = PASS_THROUGH[argv[0]].partition(":")
        return getattr(importlib.import_module(module), function)(argv[1:]) or 0
    args = _parser().parse_args(argv)
    try:
        if args.command == "layers":
            _layers(args)
        elif args.command == "methods":
            _methods()
        elif args.command == "search":
            from mango_widgets.cli.search import run_search

            return run_search(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
