"""Searches off the UI thread, progress onto the UI in throttled batches.

A :class:`LiveRun` starts searches in their own worker threads (``Search.start``), all at
once (a race) or one after another, and owns one writer thread. The searches' callbacks
(already throttled by the Search: every ``every_seconds`` / ``every_queries``) only mark
a search as changed; the writer wakes up, waits until ``min_interval`` has passed since its
previous write, and calls ``write(changed, final)`` once for all changed searches. So the
UI gets at most one batched write per ``min_interval`` however many searches run, the
workers never wait for the UI, and the kernel's main thread stays free for clicks.

The writer also notices searches that ended without a final event, starts the next search
of a sequential run, and makes a last ``final=True`` write when everything has ended.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from mango_widgets.core.search import Search, SearchEvent


@dataclass
class WriteStats:
    """When the UI was written: seconds since the run started, how long each write took,
    and the queries made by then (all searches together)."""

    times: List[float] = field(default_factory=list)
    durations: List[float] = field(default_factory=list)
    queries: List[int] = field(default_factory=list)

    def add(self, at: float, duration: float, queries: int) -> None:
        self.times.append(at)
        self.durations.append(duration)
        self.queries.append(queries)

    def summary(self) -> dict:
        count = len(self.times)
        gaps = [b - a for a, b in zip(self.times, self.times[1:])]
        return {
            "writes": count,
            "mean_interval_s": sum(gaps) / len(gaps) if gaps else None,
            "min_interval_s": min(gaps) if gaps else None,
            "mean_write_s": sum(self.durations) / count if count else None,
            "max_write_s": max(self.durations) if count else None,
            "queries": self.queries[-1] if count else 0,
        }


class LiveRun:
    """One run of the UI: a group of searches and the thread that writes their progress.

    Build the searches with ``callbacks=[live.notify]``, then ``live.start(searches)``.
    ``write(changed: list of Search, final: bool)`` is called in the writer thread; it must
    only format and assign widget values.
    """

    def __init__(
        self,
        write: Callable[[List[Search], bool], None],
        concurrent: bool = True,
        min_interval: float = 0.2,
        poll: float = 0.25,
        on_error: Optional[Callable[[BaseException], None]] = None,
    ):
        self.write = write
        self.concurrent = concurrent
        self.min_interval = float(min_interval)
        self.poll = float(poll)
        self.on_error = on_error
        self.searches: List[Search] = []
        self.stats = WriteStats()
        self.stop_requested_at: Optional[float] = None
        self.ended_at: Optional[float] = None
        self._started: List[Search] = []
        self._ended: Set[int] = set()
        self._dirty: Set[int] = set()
        self._timelines: Dict[int, List[Tuple[int, float]]] = {}
        self._lock = threading.Lock()
        self._control = threading.Lock()  # orders stop() against starting the next search
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stopping = False
        self._t0 = 0.0
        self._last_write = -float("inf")
        self._thread: Optional[threading.Thread] = None

    # -------------------------------------------------------------- control
    def start(self, searches: Sequence[Search]) -> LiveRun:
        """Start the searches (all, or the first of a sequential run) and the writer thread."""
        if self._thread is not None:
            raise RuntimeError("this LiveRun was already started")
        self.searches = list(searches)
        self._t0 = time.perf_counter()
        for search in self.searches if self.concurrent else self.searches[:1]:
            self._launch(search)
        self._thread = threading.Thread(target=self._pump, name="mango-ui-writer", daemon=True)
        self._thread.start()
        return self

    def notify(self, event: SearchEvent) -> None:
        """A Search callback (runs in the search's worker thread): mark it changed, wake the writer."""
        with self._lock:
            self._dirty.add(id(event.search))
            self._timelines.setdefault(id(event.search), []).append((int(event.queries), float(event.elapsed)))
        self._wake.set()

    def timeline(self, search: Search) -> List[Tuple[int, float]]:
        """(queries done, seconds since the search started) at each event the search sent."""
        with self._lock:
            return list(self._timelines.get(id(search), ()))

    def stop(self) -> None:
        """Stop every running search after its current batch; searches not yet started never start."""
        with self._control:
            if self.stop_requested_at is None:
                self.stop_requested_at = time.perf_counter()
            self._stopping = True
            for search in self._started:
                search.stop()
        self._wake.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until every search has ended and the final UI write is done; True if so."""
        return self._idle.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._idle.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopping

    # ---------------------------------------------------------- the writer
    def _launch(self, search: Search) -> None:
        self._started.append(search)
        search.start()

    def _all_ended(self) -> bool:
        for search in self._started:
            if id(search) not in self._ended and search.wait(0):
                self._ended.add(id(search))
                with self._lock:
                    self._dirty.add(id(search))
        return len(self._ended) == len(self._started)

    def _pump(self) -> None:
        try:
            while True:
                self._wake.wait(self.poll)
                self._wake.clear()
                pause = self._last_write + self.min_interval - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                ended = self._all_ended()
                with self._control:
                    if ended and not self._stopping and len(self._started) < len(self.searches):
                        self._launch(self.searches[len(self._started)])  # sequential: the next search
                        ended = False
                with self._lock:
                    dirty, self._dirty = self._dirty, set()
                if dirty or ended:
                    self._write([s for s in self.searches if id(s) in dirty], final=ended)
                if ended:
                    self.ended_at = time.perf_counter()
                    return
        finally:
            self._idle.set()

    def _write(self, changed: List[Search], final: bool) -> None:
        start = time.perf_counter()
        try:
            self.write(changed, final)
        except Exception as error:  # a formatting bug must not kill the run or hide its end
            if self.on_error is not None:
                self.on_error(error)
        end = time.perf_counter()
        self._last_write = end
        self.stats.add(start - self._t0, end - start, sum(s.queries for s in self.searches))


class LiveControls:
    """Stop and wait for a widget's current :class:`LiveRun` (held in ``self.live``)."""

    live: Optional[LiveRun] = None

    def stop(self) -> None:
        """Stop the run: each search ends after its current batch, keeping what it found."""
        if self.live is not None:
            self.live.stop()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the run has ended and the UI shows its final state; True if so."""
        return True if self.live is None else self.live.wait(timeout)
