"""``mango sweep``: run a sweep of searches on Dask into a result store, resumably.

Examples::

  mango sweep --layers lif1 lif2 --units 0-7 --epochs 1,6,12 --methods tt-b tt-s tt --budget 2000 --store results/sweep
  mango sweep --store results/sweep --resume                # run the stored sweep again: finished cells are skipped
  mango sweep --store results/sweep --resume --retry-failed # ... and rerun the failed ones
  mango sweep ... --scheduler tcp://10.0.0.5:8786           # on an existing Dask cluster
  mango sweep --store results/sweep --status                # counts, and the failures with their errors
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from mango_widgets.engine.cluster import DEFAULT_DASHBOARD
from mango_widgets.errors import MangoError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mango sweep",
        description="Search the MEI of every cell of layers x units x epochs x methods x seeds on Dask; "
        "results go into a crash-safe SQLite store, and a rerun skips the finished cells.",
    )
    what = parser.add_argument_group("the sweep")
    what.add_argument("--network", default="demo", help="model source (default: the bundled demo SNN and generator)")
    what.add_argument("--layers", nargs="+", help="layer names (see `mango layers`)")
    what.add_argument("--units", default="all", help="units: 'all', '0-7', '0,3,5' (default: all)")
    what.add_argument("--epochs", default="all", help="checkpoint epochs: 'all', 'last', '1-12', '1,6,12' (default: all)")
    what.add_argument("--methods", nargs="+", default=["tt-b"], help="optimization methods (see `mango methods`)")
    what.add_argument("--seeds", default="0", help="seeds: '0', '0-4', '0,7' (default: 0)")
    what.add_argument("--budget", type=int, default=2000, help="queries per search (default: 2000)")
    what.add_argument("--T", type=int, default=None, help="time steps of exposure (default: as trained)")
    what.add_argument("--spacing", default="uniform", choices=("uniform", "normal"), help="latent grid spacing")
    what.add_argument("--values-only", action="store_true", help="store each query's value but not its grid index")
    where = parser.add_argument_group("where it runs")
    where.add_argument("--store", default="results/sweep", help="result store folder (default: results/sweep)")
    where.add_argument("--workers", type=int, default=None, help="worker processes of the local cluster (default: one per core)")
    where.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--inline", action="store_true", help="run in this process without Dask (for debugging)")
    where.add_argument("--dashboard-address", default=DEFAULT_DASHBOARD,
                       help=f"where the Dask dashboard of the local cluster listens (default {DEFAULT_DASHBOARD}: this machine "
                            "only, a free port; e.g. 0.0.0.0:8787 exposes it to the network; 'none': no dashboard)")
    control = parser.add_argument_group("control")
    control.add_argument("--resume", action="store_true",
                         help="run the sweep last recorded in --store again (no other sweep options needed)")
    control.add_argument("--retry-failed", action="store_true", help="also rerun cells that failed before")
    control.add_argument("--dry-run", action="store_true", help="only say how many cells there are and how many are left")
    control.add_argument("--status", action="store_true", help="print what the store holds (and its failures) and exit")
    control.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _status(store_path: str) -> None:
    from mango_widgets.engine.store import ResultStore

    store = ResultStore(store_path, create=False)
    counts = store.counts()
    print(f"{store.path}: {counts.get('done', 0)} done, {counts.get('failed', 0)} failed; database check: {store.integrity()}")
    failed = store.to_dataframe(status="failed")
    for row in failed.head(20).itertuples():
        print(f"  failed {row.key}: {row.error}")
    if len(failed) > 20:
        print(f"  ... and {len(failed) - 20} more failures (load_results(store, status='failed'))")


def main(argv: Optional[List[str]] = None) -> int:
    from mango_widgets.engine.runner import INLINE
    from mango_widgets.engine.sweep import Sweep
    from mango_widgets.records.run_folder import check_folder_could_be_written
    from mango_widgets.runtime.signals import interrupt_on_sigterm

    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if args.status:
            _status(args.store)
            return 0
        if args.resume:
            sweep = Sweep.resume(args.store)
        elif not args.layers:
            print("error: give --layers (and the other sweep options), or --resume to rerun the sweep stored in --store", file=sys.stderr)
            return 2
        else:
            sweep = Sweep(
                layers=args.layers, units=args.units, epochs=args.epochs, methods=args.methods, seeds=args.seeds,
                budget=args.budget, T=args.T, spacing=args.spacing, network=args.network, store=args.store,
                keep_indices=not args.values_only,
            )
        if args.dry_run:
            check_folder_could_be_written(sweep.store, what="result store")
            cells, pending = sweep.cells(), sweep.pending(retry_failed=args.retry_failed)
            print(f"{len(cells)} cells, {len(pending)} to run, {len(cells) - len(pending)} already in {sweep.store}")
            return 0
        if args.inline and args.scheduler:
            print("error: --inline and --scheduler exclude each other", file=sys.stderr)
            return 2
        client = INLINE if args.inline else args.scheduler
        with interrupt_on_sigterm():  # a batch system's SIGTERM stops it like Ctrl-C: finished cells stay stored
            report = sweep.run(
                client=client, workers=args.workers, progress=None if args.no_progress else "bar",
                retry_failed=args.retry_failed,
                dashboard_address=None if args.dashboard_address.lower() == "none" else args.dashboard_address,
            )
    except MangoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report)
    if report.failed:
        print(f"{report.failed} cells failed: `mango sweep --store {report.store} --status` shows why; "
              f"`--resume --retry-failed` reruns them")
    return 0 if report.state == "finished" and not report.failed else 130 if report.state == "stopped" else 1


if __name__ == "__main__":
    sys.exit(main())
