"""``mango reproduce``: the paper's figures and claims from one resumable command.

Examples::

  mango reproduce --scale ci --out /tmp/ci                      # seconds: the whole chain, tiny
  mango reproduce --scale demo --workers 2                      # the committed study (docs/reproduction.md)
  mango reproduce --resume --out benchmarks/results/reproduction     # continue it, or refresh its report
  mango reproduce --scale long --out benchmarks/results/reproduction-long   # the 100-epoch checkpoints
  mango reproduce --scale paper --set data_root=/data/cifar --scheduler tcp://host:8786
  mango reproduce --scale demo --set budget=500 --set seeds=5 --dry-run
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from mango_widgets.errors import MangoError
from mango_widgets.studies.reproduction.config import SCALES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mango reproduce",
        description="Reproduce the paper's selectivity study: cold searches with seeds, warm starts with equal-budget "
        "controls, a random-image baseline, a second generator; then claims with intervals and the figures.",
    )
    parser.add_argument("--scale", choices=SCALES, default=None,
                        help="ci: tiny, for tests; demo: the committed study on this machine; long: the demo SNN's "
                        "100-epoch run (mango train-long --model demo-snn --epochs 100 first); "
                        "paper: CIFAR-10, spiking ResNet18 T=50, SN-GAN")
    parser.add_argument("--out", default=None, help="study folder (default: results/reproduction-<scale>)")
    parser.add_argument("--set", dest="overrides", action="append", metavar="NAME=VALUE", default=[],
                        help="change a setting, e.g. budget=500, seeds=5, layers='[\"lif1\",\"lif4\"]', data_root=/data "
                        "(values are JSON; repeatable; see mango_widgets.studies.reproduction.config)")
    parser.add_argument("--resume", action="store_true", help="continue the study saved in --out (with any --set changes)")
    where = parser.add_argument_group("where the searches run")
    where.add_argument("--workers", type=int, default=None, help="worker processes of a local Dask cluster (default: one per core)")
    where.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--inline", action="store_true", help="run the searches in this process, without Dask")
    control = parser.add_argument_group("control")
    control.add_argument("--dry-run", action="store_true", help="prepare models and baselines, say how many searches are left, stop")
    control.add_argument("--analyse-only", action="store_true", help="no searches: recompute the report from what is stored")
    control.add_argument("--no-analysis", action="store_true", help="searches only; no report")
    control.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``mango reproduce``: 0 done, 1 some searches failed, 130 stopped, 2 bad arguments."""
    from mango_widgets.engine.runner import INLINE
    from mango_widgets.runtime.signals import interrupt_on_sigterm
    from mango_widgets.studies.reproduction.config import load_config, parse_overrides, preset, with_overrides
    from mango_widgets.studies.reproduction.run import analyse_study, prepare, reproduce

    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    log = lambda message: print(message, flush=True)  # noqa: E731 (logs go to files in background runs)
    if args.inline and args.scheduler:
        print("error: --inline and --scheduler exclude each other", file=sys.stderr)
        return 2
    try:
        overrides = parse_overrides(args.overrides)
        if args.resume:
            if args.out is None:
                print("error: --resume needs --out, the study folder", file=sys.stderr)
                return 2
            config = load_config(args.out)
            config = with_overrides(config, **overrides) if overrides else config
            if args.scale and args.scale != config.scale:
                print(f"error: {args.out} holds a {config.scale!r} study, not {args.scale!r}", file=sys.stderr)
                return 2
        else:
            if args.scale is None:
                print(f"error: give --scale {'|'.join(SCALES)} (or --resume --out FOLDER)", file=sys.stderr)
                return 2
            config = preset(args.scale, args.out or f"results/reproduction-{args.scale}", **overrides)
        if args.dry_run or args.analyse_only:
            sources, study, plan = prepare(config, log, resume=args.resume)
            pending = len(plan.pending())
            print(f"{len(plan)} searches planned ({len(plan.dependencies())} warm), {pending} to run, "
                  f"{len(plan) - pending} in {plan.store}")
            if args.analyse_only:
                analyse_study(config, sources, study, log)
            return 0
        client = INLINE if args.inline else args.scheduler
        with interrupt_on_sigterm():  # SIGTERM stops it like Ctrl-C: finished cells stay stored
            report, _ = reproduce(config, client=client, workers=args.workers, progress=None if args.no_progress else "bar",
                                  log=log, analyse=not args.no_analysis, resume=args.resume)
    except MangoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if report is None or (report.state == "finished" and not report.failed):
        return 0
    return 130 if report.state == "stopped" else 1


def replaced_specializations(argv: Optional[List[str]] = None) -> int:
    """``mango specializations`` (the retired study) says what replaced it."""
    print("`mango specializations` was replaced by `mango reproduce --scale demo` (cold searches with seeds, warm starts "
          "with equal-budget controls, a random-image baseline; see docs/reproduction.md). The retired study's records "
          "stay readable with mango_widgets.studies.legacy.read_legacy.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
