"""The ``mango`` command line: list layers and methods, run a search, retrain the demo models."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from mango_widgets.errors import MangoError


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
    search.add_argument("--method", default="tt-b", help="optimization method (see `mango methods`)")
    search.add_argument("--budget", type=int, default=2000, help="number of queries")
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--spacing", default="uniform", choices=("uniform", "normal"), help="latent grid spacing")
    search.add_argument("--threads", type=int, default=None, help="torch threads (default: $MANGO_THREADS or all cores)")
    search.add_argument("--out", default="results/search", help="output folder")
    search.add_argument("--save-every", type=float, default=10.0, help="seconds between partial saves while running")

    # these hand all their arguments to their own parsers (see PASS_THROUGH in main)
    sub.add_parser("app", help="serve the widgets as a Voila web app on the demo models (mango app --help)", add_help=False)
    sub.add_parser("train", help="train a zoo network or generator (mango train --help)", add_help=False)
    sub.add_parser("train-demo", help="retrain the bundled demo SNN and generator (mango train-demo --help)", add_help=False)
    sub.add_parser("closed-loop", help="serve stimuli to a presentation program through a folder (mango closed-loop --help)", add_help=False)
    sub.add_parser("specializations", help="replaced by `mango reproduce` (says how)", add_help=False)
    sub.add_parser("reproduce", help="the paper's figures and claims, measured cleanly, resumable (mango reproduce --help)", add_help=False)
    sub.add_parser("sweep", help="MEIs of many neurons x epochs x methods on Dask into a resumable store (mango sweep --help)", add_help=False)
    return parser


#: subcommands whose arguments go unparsed to another entry point: name -> "module:function"
PASS_THROUGH = {
    "app": "mango_widgets.widgets.app:main",
    "train": "mango_widgets.models.training.train:main",
    "train-demo": "mango_widgets.models.training.bundled:main",
    "closed-loop": "mango_widgets.studies.closed_loop.file_adapter:main",
    "specializations": "mango_widgets.cli.reproduce:replaced_specializations",
    "sweep": "mango_widgets.cli.sweep:main",
    "reproduce": "mango_widgets.cli.reproduce:main",
}


def _layers(args) -> None:
    from mango_widgets.models.bundled import demo_network

    network = demo_network(epoch=args.epoch, T=args.T)
    print(f"{network.name}: time mode {network.time_mode}, T={network.T}, input {network.input_shape}")
    for info in network.layers().values():
        print(f"  {info.name:<10} {info.units:>5} units  {info.module_type:<10} {'spiking' if info.spiking else 'analog'}")


def _methods() -> None:
    from mango_widgets.core.optimizers import available

    for name, description in available().items():
        print(f"  {name:<12} {description}")


def _search(args) -> None:
    from tqdm import tqdm

    from mango_widgets.core.objective import Objective
    from mango_widgets.core.search import Search
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.records.plots import save_activation_curve
    from mango_widgets.records.results import save_search

    target = f"class:{args.class_index}" if args.class_index is not None else f"{args.layer}:{args.unit}"
    objective = Objective(demo_generator(spacing=args.spacing), demo_network(epoch=args.epoch, T=args.T), target)
    bar = tqdm(total=args.budget, unit="q", desc=f"{args.method} {target}")

    last_save = [time.monotonic()]

    def progress(event):
        bar.update(event.queries - bar.n)
        bar.set_postfix(best=f"{event.best_value:.3f}")
        if time.monotonic() - last_save[0] > args.save_every:  # a killed run keeps what it found
            save_search(event.search, args.out)
            last_save[0] = time.monotonic()

    kwargs = {} if args.threads is None else {"threads": args.threads}
    search = Search(objective, args.method, budget=args.budget, seed=args.seed, callbacks=[progress], every_seconds=0.1, **kwargs)
    try:
        search.run()
    finally:
        bar.close()
        out = save_search(search, args.out)
        save_activation_curve(search.history.values, Path(out) / "curve.png", title=f"{args.method} on {target}")
        summary = search.history.summary()
        print(
            f"{search.state}: {summary['queries']} queries, best activation {search.history.best_value:.4f} "
            f"(query {summary['best_query']}), {summary['wall_seconds']:.1f} s "
            f"(model {summary['objective_seconds']:.1f} s, optimizer {summary['optimizer_seconds']:.1f} s)"
        )
        print(f"results in {out}/ (search.json, history.npz, mei.npz, mei.png, curve.png)")


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in PASS_THROUGH:
        import importlib

        module, _, function = PASS_THROUGH[argv[0]].partition(":")
        try:
            return getattr(importlib.import_module(module), function)(argv[1:]) or 0
        except MangoError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    args = _parser().parse_args(argv)
    try:
        if args.command == "layers":
            _layers(args)
        elif args.command == "methods":
            _methods()
        elif args.command == "search":
            _search(args)
    except MangoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
