"""`mango specializations`: the paper's section 4 on the demo models, from one command.

MEIs of every spiking layer's units (evenly spaced, ``--units`` per layer) at every saved
epoch with TT, TT-s and TT-b, each epoch warm-started from the previous one; a cold-vs-warm
check of the queries warm starts save; then the summaries (selectivity heatmaps, entropy,
activation vs accuracy, stable/labile fractions, diversity, complexity) as JSON and figures.
Resumable: rerun the same command and finished searches are skipped.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from mango_widgets.studies.epoch_tracking import (
    EpochTracking,
    append_record,
    check_epochs,
    load_folder,
    load_records,
    records_table,
    warm_start_saving,
)

DEFAULT_METHODS = ("tt", "tt-s", "tt-b")


def spiking_layers(network) -> List[str]:
    """Spiking layers of a network, shallow to deep (the layers the paper studies)."""
    return [info.name for info in network.layers().values() if info.spiking]


def choose_units(units_in_layer: int, count: int) -> List[int]:
    """``count`` units spread evenly over a layer (all of them when the layer is smaller)."""
    if count >= units_in_layer:
        return list(range(units_in_layer))
    return sorted({int(u) for u in np.linspace(0, units_in_layer - 1, count).round()})


def plan_targets(network, layers: Optional[Sequence[str]], units: int) -> List[str]:
    layers = list(layers) if layers else spiking_layers(network)
    return [f"{name}:{u}" for name in layers for u in choose_units(network.layer(name).units, units)]


def _track(job: dict) -> int:
    """Worker: one EpochTracking over a chunk of targets (one thread, own records file)."""
    import torch

    from mango_widgets.models.bundled import demo_accuracy, demo_generator, demo_network

    torch.set_num_threads(1)
    tracking = EpochTracking(lambda e: demo_network(epoch=e, T=job["T"]), demo_generator(), job["targets"], job["epochs"],
                             methods=job["methods"], budget=job["budget"], seed=job["seed"], folder=job["folder"],
                             accuracy=demo_accuracy())
    count = tracking.pending()
    tracking.run(on_record=lambda r: print(f"epoch {r['epoch']:>3} {r['target']:>10} {r['method']:>5}: "
                                           f"{r['status']} {r['best']:.3f} class {r['top_class']}", flush=True))
    return count


def _warm_check(job: dict) -> dict:
    import torch

    from mango_widgets.models.bundled import demo_generator, demo_network

    torch.set_num_threads(1)
    return warm_start_saving(lambda e: demo_network(epoch=e, T=job["T"]), demo_generator(), job["target"], job["epoch"],
                             job["start"], method=job["method"], budget=job["budget"], seed=job["seed"])


def run_tracking(args, targets: List[str], epochs: List[int]) -> None:
    chunks = [targets[i::args.workers] for i in range(args.workers)]
    jobs = [{"targets": chunk, "epochs": epochs, "methods": args.methods, "budget": args.budget, "seed": args.seed,
             "folder": str(args.out / "records"), "T": args.T} for chunk in chunks if chunk]
    if args.workers == 1:
        _track(jobs[0])
        return
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        pool.map(_track, jobs)


def run_warm_check(args, records: List[dict], epochs: List[int]) -> List[dict]:
    """Cold vs warm searches (TT-b) at a few epochs for a few targets spread over the layers."""
    path = args.out / "warm_start.jsonl"
    done = {(r["target"], r["epoch"]) for r in load_records(path)} if path.exists() else set()
    table = records_table(records)
    candidates = table[(table["method"] == "tt-b") & table["mei_index"].notna()]
    targets = list(dict.fromkeys(candidates["target"]))
    picked = [targets[int(i)] for i in np.linspace(0, len(targets) - 1, min(args.warm_targets, len(targets))).round()]
    warm_epochs = epochs[1:][:: max(1, (len(epochs) - 1) // 3)]
    jobs = []
    for target in dict.fromkeys(picked):
        for epoch in warm_epochs:
            earlier = candidates[(candidates["target"] == target) & (candidates["epoch"] < epoch)]
            if earlier.empty or (target, epoch) in done:
                continue
            start = earlier.sort_values("epoch").iloc[-1]["mei_index"]
            jobs.append({"target": target, "epoch": epoch, "start": start, "method": "tt-b", "budget": args.budget,
                         "seed": args.seed + 1000, "T": args.T})
    if args.workers == 1:
        for job in jobs:
            append_record(path, _warm_check(job))
    else:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            for result in pool.imap_unordered(_warm_check, jobs):
                append_record(path, result)
    return load_records(path) if path.exists() else []


def main(argv: Optional[Sequence[str]] = None) -> Path:
    from mango_widgets.models.bundled import demo_epochs, demo_network

    parser = argparse.ArgumentParser(prog="mango specializations", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=16, help="units per layer (evenly spaced; default 16)")
    parser.add_argument("--layers", nargs="*", default=None, help="layers (default: every spiking layer)")
    parser.add_argument("--epochs", nargs="*", type=int, default=None, help="epochs (default: every saved epoch)")
    parser.add_argument("--methods", nargs="*", default=list(DEFAULT_METHODS))
    parser.add_argument("--budget", type=int, default=300, help="queries per search (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--T", type=int, default=None, help="time steps (default: as trained)")
    parser.add_argument("--workers", type=int, default=1, help="processes side by side, one thread each")
    parser.add_argument("--warm-targets", type=int, default=10, help="targets in the cold-vs-warm check (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("results/specializations"))
    parser.add_argument("--figures", type=Path, default=None, help="folder for the figures (default: OUT/figures)")
    args = parser.parse_args(argv)
    epochs = check_epochs(args.epochs or demo_epochs(), demo_epochs())
    network = demo_network(T=args.T)
    targets = plan_targets(network, args.layers, args.units)
    print(f"{len(targets)} units x {len(epochs)} epochs x {len(args.methods)} methods, budget {args.budget}; out {args.out}")
    run_tracking(args, targets, epochs)
    records = load_folder(args.out / "records")
    warm = run_warm_check(args, records, epochs) if args.warm_targets > 0 and "tt-b" in args.methods else []
    from mango_widgets.studies.specialization_report import write_report

    summary = write_report(records, warm, network, args.out, args.figures or args.out / "figures",
                           layers=list(dict.fromkeys(t.rsplit(":", 1)[0] for t in targets)))
    print(json.dumps(summary["findings"], indent=1))
    return args.out


if __name__ == "__main__":
    main()
