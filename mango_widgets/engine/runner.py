"""Running a sweep or plan: its cells searched inline or on Dask, each result written as it finishes.

The driver (this process) is the only writer of the result store: it submits cells to the
Dask workers a few at a time (a window of about two per worker thread, so a killed run has
little in flight and a huge sweep does not flood the scheduler), takes results in completion
order and commits each one in its own transaction before asking for the next. Rerunning the
same sweep skips the cells already done; ``retry_failed=True`` reruns the failed ones.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from mango_widgets.engine.cluster import DEFAULT_DASHBOARD
from mango_widgets.engine.plan import ReadyQueue
from mango_widgets.engine.spec import Cell
from mango_widgets.engine.store import ResultStore
from mango_widgets.engine.worker import PLUGIN_NAME, ModelCache, run_cell
from mango_widgets.errors import ConfigError
from mango_widgets.records.search_record import failure_record

#: ``client=INLINE`` runs the cells one after another in this process (no Dask; for debugging)
INLINE = "inline"


@dataclass(frozen=True)
class Leader:
    """The best activation found so far for one layer and method."""

    layer: str
    method: str
    best: float
    target: str
    epoch: int


@dataclass(frozen=True)
class SweepEvent:
    """Progress of a sweep run, sent after every finished cell (and at start and end)."""

    total: int  # cells in the sweep
    skipped: int  # already in the store when the run began (done, or failed and not retried)
    to_run: int  # cells this run computes
    done: int  # finished in this run
    failed: int  # failed in this run
    elapsed: float
    state: str  # "starting", "running", "finished", "stopped"
    cell: Optional[Cell] = None  # the cell that just finished (None for start/end events)
    status: Optional[str] = None  # its status
    best: Optional[float] = None  # its best activation
    error: Optional[str] = None  # its error, if it failed
    leaders: Tuple[Leader, ...] = ()  # best activation so far per (layer, method), this run

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def cells_per_second(self) -> float:
        return self.finished / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class SweepReport:
    """What a run did: counts, time, and where the results are."""

    store: Path
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    state: str = "starting"
    wall_seconds: float = 0.0
    run_id: Optional[int] = None
    workers: Optional[int] = None

    def __str__(self) -> str:
        return (
            f"sweep {self.state}: {self.done} cells done, {self.failed} failed, {self.skipped} already in the store, "
            f"{self.total - self.skipped - self.done - self.failed} not run; {self.wall_seconds:.1f} s; results in {self.store}"
        )

    def results(self, status: Optional[str] = None, **equal):
        """The store's results as a DataFrame (all cells of every run, not only this one)."""
        return ResultStore(self.store, create=False).to_dataframe(status=status, **equal)


def default_workers() -> int:
    """Workers of the local cluster: one per core (each runs one single-threaded search at a time)."""
    return max(1, os.cpu_count() or 1)


def make_run(plan, client, workers, progress, retry_failed, callbacks, dashboard_address=DEFAULT_DASHBOARD) -> SweepRun:
    """A :class:`SweepRun` of a sweep or a :class:`~.plan.Plan`, with its progress display."""
    from mango_widgets.engine.progress import make_progress

    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise ConfigError(f"workers must be a positive number of worker processes, got {workers!r}")
    if workers is not None and client is not None:
        raise ConfigError("give either workers= (for a new local cluster) or client= (an existing one), not both")
    handlers = list(callbacks)
    display = make_progress(progress)
    if display is not None:
        handlers.append(display)
    run = SweepRun(plan, client, workers, retry_failed, handlers)
    run.dashboard_address = dashboard_address
    return run


@dataclass
class _Tally:
    """Counts and leaders of a run, updated by the driver only."""

    total: int
    skipped: int
    to_run: int
    done: int = 0
    failed: int = 0
    leaders: Dict[Tuple[str, str], Leader] = field(default_factory=dict)

    def add(self, cell: Cell, record: dict) -> None:
        if record["status"] == "done":
            self.done += 1
        else:
            self.failed += 1
        best = record.get("best")
        if best is not None:
            key = (cell.layer, cell.method)
            if key not in self.leaders or best > self.leaders[key].best:
                self.leaders[key] = Leader(cell.layer, cell.method, float(best), cell.target, cell.epoch)


class SweepRun:
    """One run of a sweep or plan: submits cells (a warm cell once the cell it starts from is done),
    writes results, reports progress; ``stop()`` from any thread."""

    def __init__(self, sweep, client, workers: Optional[int], retry_failed: bool, callbacks: List[Callable]):
        self.sweep = sweep
        self.client = client
        self.workers = workers
        self.retry_failed = retry_failed
        self.callbacks = callbacks
        self.report: Optional[SweepReport] = None
        self.error: Optional[BaseException] = None
        self.dashboard_address: Optional[str] = DEFAULT_DASHBOARD  # of a cluster this run starts
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._broken_callbacks: set = set()

    @property
    def state(self) -> str:
        return "starting" if self.report is None else self.report.state

    def stop(self) -> None:
        """Stop submitting; cells in flight are cancelled, finished ones are already stored."""
        self._stop.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self._done.wait(timeout)

    def start(self) -> SweepRun:
        self._thread = threading.Thread(target=self._run_in_thread, name="mango-sweep", daemon=True)
        self._thread.start()
        return self

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as error:  # kept for the caller; the store already has every finished cell
            self.error = error

    def run(self) -> SweepReport:
        try:
            return self._run()
        finally:
            self._done.set()

    def _run(self) -> SweepReport:
        sweep = self.sweep
        cells = sweep.cells()
        store = ResultStore(sweep.store)
        try:
            skip = store.done_keys() if self.retry_failed else store.keys()
            todo = [cell for cell in cells if cell.key not in skip]
            tally = _Tally(total=len(cells), skipped=len(cells) - len(todo), to_run=len(todo))
            report = self.report = SweepReport(sweep.store, tally.total, tally.skipped)
            started = time.perf_counter()
            report.run_id = store.begin_run(sweep.to_dict())
            self._emit(tally, started, "starting")
            report.state = "running"

            queue = ReadyQueue(todo, sweep.dependencies(), store.start_index)

            def on_record(cell: Cell, record: dict) -> None:
                store.put(cell, record, run_id=report.run_id)
                queue.finished(cell, record)
                tally.add(cell, record)
                report.done, report.failed = tally.done, tally.failed
                report.wall_seconds = time.perf_counter() - started
                self._emit(tally, started, "running", cell, record)

            try:
                if todo:
                    self._execute(queue, on_record, report)
                report.state = "stopped" if self._stop.is_set() and tally.done + tally.failed < len(todo) else "finished"
            except KeyboardInterrupt:
                report.state = "stopped"
            finally:
                report.wall_seconds = time.perf_counter() - started
                if report.state not in ("finished", "stopped"):
                    report.state = "failed"
                store.end_run(report.run_id, report.state, tally.done, tally.failed)
                self._emit(tally, started, report.state)
            return report
        finally:
            store.close()

    # ------------------------------------------------------------ executors
    def _execute(self, queue: ReadyQueue, on_record: Callable, report: SweepReport) -> None:
        plan = self.sweep
        if isinstance(self.client, str) and self.client == INLINE:
            report.workers = 1
            cache = ModelCache(plan.max_networks)
            while not self._stop.is_set():
                item = queue.pop()
                if item is None:
                    return
                cell, warm_start = item
                on_record(cell, run_cell(cell, plan.source_for(cell), cache=cache, keep_indices=plan.keep_indices,
                                         warm_start=warm_start, describe=plan.describe))
            return
        self._execute_dask(queue, on_record, report)

    def _execute_dask(self, queue: ReadyQueue, on_record: Callable, report: SweepReport) -> None:
        from distributed import Client, as_completed

        from mango_widgets.engine.cluster import start_local_cluster
        from mango_widgets.engine.plugin import ModelCachePlugin

        owned = []
        try:
            client = self.client
            if client is None:
                cluster = start_local_cluster(self.workers or default_workers(), self.dashboard_address)
                owned.append(cluster)
                client = Client(cluster)
                owned.insert(0, client)
            elif isinstance(client, str):
                client = Client(client)
                owned.append(client)
            client.register_plugin(ModelCachePlugin(self.sweep.max_networks), name=PLUGIN_NAME)
            plan = self.sweep
            in_flight: Dict[object, Cell] = {}
            completed = as_completed()
            window, window_checked = 0, -1e9

            def fill() -> None:
                nonlocal window, window_checked
                if time.monotonic() - window_checked > 5:  # the cluster may grow (adaptive SLURM jobs)
                    threads = sum(client.nthreads().values())
                    report.workers = len(client.nthreads())
                    window, window_checked = max(4, 2 * threads), time.monotonic()
                while len(in_flight) < window and not self._stop.is_set():
                    item = queue.pop()  # None: all submitted, or the rest waits for cells in flight
                    if item is None:
                        return
                    cell, warm_start = item
                    future = client.submit(run_cell, cell, plan.source_for(cell), keep_indices=plan.keep_indices,
                                           warm_start=warm_start, describe=plan.describe, pure=False,
                                           key=f"mango-cell-{uuid.uuid4().hex}")
                    in_flight[future] = cell
                    completed.add(future)

            fill()
            try:
                for future in completed:
                    cell = in_flight.pop(future)
                    try:
                        record = future.result()
                    except Exception as error:  # the worker died or the task could not run: record it
                        record = failure_record(error, where="on the Dask worker: ")
                    future.release()
                    on_record(cell, record)
                    if self._stop.is_set():
                        break
                    fill()
            finally:
                for future in list(in_flight):
                    future.cancel()
        finally:
            for thing in owned:
                try:
                    thing.close()
                except Exception as error:  # closing must not hide what happened before
                    warnings.warn(f"closing the Dask {type(thing).__name__} failed: {error}", RuntimeWarning, stacklevel=2)

    # ---------------------------------------------------------------- events
    def _emit(self, tally: _Tally, started: float, state: str, cell: Optional[Cell] = None, record: Optional[dict] = None) -> None:
        if not self.callbacks:
            return
        event = SweepEvent(
            total=tally.total, skipped=tally.skipped, to_run=tally.to_run, done=tally.done, failed=tally.failed,
            elapsed=time.perf_counter() - started, state=state, cell=cell,
            status=None if record is None else record["status"],
            best=None if record is None else record.get("best"),
            error=None if record is None else record.get("error"),
            leaders=tuple(sorted(tally.leaders.values(), key=lambda leader: (leader.layer, leader.method))),
        )
        for callback in self.callbacks:
            if id(callback) in self._broken_callbacks:
                continue
            try:
                callback(event)
            except Exception as error:  # a broken display must not cost computed results
                self._broken_callbacks.add(id(callback))
                warnings.warn(f"sweep progress callback {callback!r} failed and is switched off: {error}", RuntimeWarning, stacklevel=2)
