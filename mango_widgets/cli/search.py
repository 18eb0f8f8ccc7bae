"""``mango search``: one MEI search on the demo models, saved as it goes and never lost.

Everything that can be wrong with the arguments is found before the first query: the models,
target, method and budget are built, then the output folder is checked (not a file, writable,
no earlier run's files unless ``--overwrite``). While the search runs, its results are saved
atomically every ``--save-every`` seconds with the best image so far; SIGTERM stops it like
Ctrl-C, and the final save cannot be cut short by either.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

#: exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)
INTERRUPTED = 130


def run_search(args) -> int:
    """Run the search ``args`` describe (see ``mango search --help``); returns the exit status."""
    from mango_widgets.errors import ConfigError
    from mango_widgets.records.run_folder import check_folder_for_a_run
    from mango_widgets.runtime.signals import interrupt_on_sigterm
    from mango_widgets.runtime.threads import default_threads, torch_threads

    if not args.save_every > 0:
        raise ConfigError(f"--save-every must be a number of seconds > 0, got {args.save_every}")
    check_folder_for_a_run(args.out, overwrite=args.overwrite)  # at once, before models load
    threads = default_threads() if args.threads is None else args.threads
    with interrupt_on_sigterm() as guard, torch_threads(threads):
        search, target, bar = _prepare(args, threads)
        try:
            search.run()
        except Exception:  # kept on search.error: saved with the partial results, reported below
            pass
        finally:
            with guard.deferred():
                bar.close()
                out = _save_all(search, args, target)
        _report(search, out)
    return INTERRUPTED if search.interrupted else 0 if search.state == "finished" else 1


def _prepare(args, threads):
    """The search (models, target, method, budget all checked) and its checked output folder."""
    from tqdm import tqdm

    from mango_widgets.core.objective import Objective
    from mango_widgets.core.search import Search
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.records.results import save_search
    from mango_widgets.records.run_folder import prepare_folder

    target = f"class:{args.class_index}" if args.class_index is not None else f"{args.layer}:{args.unit}"
    objective = Objective(demo_generator(spacing=args.spacing), demo_network(epoch=args.epoch, T=args.T), target)
    last_save = [time.monotonic()]
    bar = None

    def progress(event):
        bar.update(event.queries - bar.n)
        bar.set_postfix(best=f"{event.best_value:.3f}")
        if event.state == "running" and time.monotonic() - last_save[0] > args.save_every:
            save_search(event.search, args.out)  # atomic, with the best image so far: a killed run keeps it
            last_save[0] = time.monotonic()

    search = Search(objective, args.method, budget=args.budget, seed=args.seed, callbacks=[progress],
                    every_seconds=0.1, threads=threads)
    removed = prepare_folder(args.out, overwrite=args.overwrite)
    if removed:
        print(f"--overwrite: removed the previous run's {', '.join(removed)} from {args.out}")
    bar = tqdm(total=args.budget, unit="q", desc=f"{args.method} {target}")
    return search, target, bar


def _save_all(search, args, target) -> Path:
    from mango_widgets.records.plots import save_activation_curve
    from mango_widgets.records.results import save_search

    out = save_search(search, args.out)
    save_activation_curve(search.history.values, Path(out) / "curve.png", title=f"{args.method} on {target}")
    return out


def _report(search, out: Path) -> None:
    summary = search.history.summary()
    print(
        f"{search.state}{' (interrupted)' if search.interrupted else ''}: {summary['queries']} queries, "
        f"best activation {search.history.best_value:.4f} (query {summary['best_query']}), {summary['wall_seconds']:.1f} s "
        f"(model {summary['objective_seconds']:.1f} s, optimizer {summary['optimizer_seconds']:.1f} s)"
    )
    print(f"method {search.optimizer!r}; {search.optimizer.repeat_rate:.1%} of its asked points repeated earlier ones")
    if search.error is not None:
        print(f"error: {type(search.error).__name__}: {search.error}", file=sys.stderr)
    print(f"results in {out}/ (search.json, history.npz, mei.npz, mei.png, curve.png)")
