"""A search: drives an optimizer's ask/tell against an objective until the budget.

It runs blocking (``run``) or in a worker thread (``start``), honours ``stop()`` from any
thread within one batch, reports throttled progress events to callbacks, and always keeps
its history: a stopped, interrupted or failed search still has every query it made and
the best image found so far.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

import numpy as np

from mango_widgets.core.driver import DEFAULT_METHOD, Driver
from mango_widgets.core.history import MEI, History
from mango_widgets.core.objective import Objective
from mango_widgets.core.optimizers import Optimizer
from mango_widgets.errors import ConfigError, whole_number
from mango_widgets.runtime.threads import default_threads, torch_threads

STATES = ("ready", "running", "finished", "stopped", "failed")


@dataclass(frozen=True)
class SearchEvent:
    """A progress report: sent at most every ``every_seconds`` / ``every_queries``, and at the end."""

    search: Search
    queries: int
    budget: int
    best_value: float
    elapsed: float
    state: str
    first_new: int  # queries first_new.. are new since the previous event

    @property
    def queries_per_second(self) -> float:
        return self.queries / self.elapsed if self.elapsed > 0 else 0.0


class Throttle:
    """Lets an event through when enough queries or enough time passed since the last one."""

    def __init__(self, every_seconds: Optional[float] = 0.25, every_queries: Optional[int] = None):
        self.every_seconds = every_seconds
        self.every_queries = every_queries
        self._last_time = -np.inf
        self._last_queries = 0

    def due(self, queries: int, now: float) -> bool:
        by_time = self.every_seconds is not None and now - self._last_time >= self.every_seconds
        by_count = self.every_queries is not None and queries - self._last_queries >= self.every_queries
        return by_time or by_count

    def mark(self, queries: int, now: float) -> int:
        """Record that an event was sent; return the first query it did not cover before."""
        first_new, self._last_queries, self._last_time = self._last_queries, queries, now
        return first_new


class Search:
    """Maximise ``objective`` with ``method`` (an optimizer instance or a registry name) in ``budget`` queries.

    ``repeats`` shows each candidate that many times and tells the optimizer the mean (each
    showing counts against the budget); ``retest`` re-measures the final MEI that many extra
    times and reports mean and standard error (for noisy objectives). Parameters of a method
    given by name go in ``optimizer_params`` or as extra keywords, e.g.
    ``Search(objective, "nevergrad", optimizer="CMA")`` or ``optimizer_params={"optimizer": "CMA"}``
    (``Search(objective, optimizer="tt-b")``, without a method, still names the method).
    """

    def __init__(
        self,
        objective: Objective,
        method: Union[str, Optimizer, None] = None,
        budget: int = 2000,
        seed: int = 0,
        callbacks: Iterable[Callable[[SearchEvent], None]] = (),
        every_seconds: Optional[float] = 0.25,
        every_queries: Optional[int] = None,
        threads: Optional[int] = -1,
        repeats: int = 1,
        retest: int = 0,
        optimizer_params: Optional[dict] = None,
        **params,
    ):
        if method is None:  # the older spelling Search(objective, optimizer="tt-b")
            method = params.pop("optimizer", DEFAULT_METHOD)
        optimizer_params = {**(optimizer_params or {}), **params}
        if method == "auto":  # auto picks by what it is told: a noisy objective is re-measured
            optimizer_params.setdefault("noisy", objective.noise is not None)
        retest = whole_number(retest, "retest", minimum=0, fix="the MEI is re-measured a whole number of times")
        if threads is not None and threads != -1:
            threads = whole_number(threads, "threads", minimum=1, fix="use None to leave torch's setting, or -1 for the default")
        self.objective = objective
        self.driver = Driver(objective.grid, method, budget=budget, seed=seed, repeats=repeats, **optimizer_params)
        self.optimizer = self.driver.optimizer
        self.budget, self.seed, self.repeats, self.retest = self.driver.budget, self.driver.seed, self.driver.repeats, retest
        self.callbacks = list(callbacks)
        self.throttle = Throttle(every_seconds, every_queries)
        self.threads = default_threads() if threads == -1 else threads
        self.history = History(objective.grid.d)
        self.state = "ready"
        self.error: Optional[BaseException] = None
        self.mei: Optional[MEI] = None
        self.interrupted = False  # True when a KeyboardInterrupt (Ctrl-C, SIGTERM) stopped the run
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._started = 0.0

    def __repr__(self) -> str:
        return (
            f"Search({self.optimizer.name!r}, target={self.objective.target}, state={self.state!r}, "
            f"queries={self.queries}/{self.budget}, best={self.history.best_value:.4g})"
        )

    # ------------------------------------------------------------- control
    def run(self) -> Search:
        """Run to the budget (or until stopped) in this thread; returns self.

        A failure is raised after the history and the MEI so far are saved on the search;
        Ctrl-C stops the search and keeps what it found.
        """
        if self.state != "ready":
            raise ConfigError(f"this search is already {self.state}; make a new Search to run again")
        self.state = "running"
        self._started = time.perf_counter()
        try:
            with torch_threads(self.threads):
                self._loop()
            self.state = "stopped" if self._stop.is_set() and self._candidates_left() else "finished"
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM where the caller maps it): the caller may end too
            self.state, self.interrupted = "stopped", True
        except BaseException as error:  # keep the history, then tell the caller
            self.state = "failed"
            self.error = error
        finally:
            self._finish()
        if self.error is not None and self._thread is None:
            raise self.error
        return self

    def start(self) -> Search:
        """Run in a daemon worker thread and return at once; see ``wait``, ``stop``, ``state``."""
        if self.state != "ready" or self._thread is not None:
            raise ConfigError(f"this search was already started (state {self.state!r})")
        self._thread = threading.Thread(target=self.run, name=f"mango-search-{self.optimizer.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the search to end after the current batch (safe from any thread)."""
        self._stop.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the search has ended; True if it has."""
        return self._done.wait(timeout)

    @property
    def running(self) -> bool:
        return self.state == "running"

    # ------------------------------------------------------------ the loop
    @property
    def queries(self) -> int:
        """Objective calls spent so far, repeats included (the budget counts these)."""
        return self.driver.queries

    def _loop(self) -> None:
        history, objective, repeats = self.history, self.objective, self.repeats

        def evaluate(shown: np.ndarray) -> np.ndarray:
            start = time.perf_counter()
            if repeats == 1:
                values = objective(shown)
            else:
                values = objective(np.repeat(shown, repeats, axis=0)).reshape(-1, repeats).mean(1)
            history.objective_seconds += time.perf_counter() - start
            return values

        def record(batch, values) -> None:
            history.append(batch.shown, values)
            history.optimizer_seconds = self.driver.optimizer_seconds
            history.wall_seconds = time.perf_counter() - self._started
            self._emit(force=False)

        self.driver.run(evaluate, on_batch=record, should_stop=self._stop.is_set)

    def _candidates_left(self) -> int:
        """How many more candidates the budget pays for (each costs ``repeats`` queries)."""
        return 0 if self.driver.exhausted else self.driver.candidates_left

    def _emit(self, force: bool) -> None:
        now = time.perf_counter()
        queries = self.queries
        if not self.callbacks or not (force or self.throttle.due(queries, now)):
            return
        first_new = self.throttle.mark(queries, now)
        event = SearchEvent(self, queries, self.budget, self.history.best_value, now - self._started, self.state, first_new)
        for callback in self.callbacks:
            callback(event)

    def _finish(self) -> None:
        self.history.wall_seconds = time.perf_counter() - self._started
        self.history.optimizer_seconds = self.driver.optimizer_seconds
        try:
            self.driver.close()
            self.mei = self._make_mei()
            self._emit(force=True)
        except KeyboardInterrupt:  # a second Ctrl-C while finishing: the search is already stopped
            self.state = "stopped" if self.state == "running" else self.state
        except BaseException as error:  # a failing final event must not hide the first error
            if self.error is None:
                self.state, self.error = "failed", error
        finally:
            self._done.set()

    def mei_so_far(self) -> Optional[MEI]:
        """The best image found so far (the final MEI once the search has ended; no re-test);
        safe to call from a progress callback, e.g. to save partial results."""
        if self.mei is not None:
            return self.mei
        index = self.history.best_index
        if index is None:
            return None
        return MEI(
            index=index,
            latent=self.objective.grid.to_latent(index[None])[0],
            image=self.objective.images(index[None])[0].cpu().numpy(),
            activation=self.history.best_value,
            query=self.history.best_query,
        )

    def _make_mei(self) -> Optional[MEI]:
        index = self.history.best_index
        if index is None:
            return None
        try:
            image = self.objective.images(index[None])[0].cpu().numpy()
        except Exception:  # a broken generator must not cost the record of what was found
            if self.error is None:
                raise
            image = None
        mei = MEI(
            index=index,
            latent=self.objective.grid.to_latent(index[None])[0],
            image=image,
            activation=self.history.best_value,
            query=self.history.best_query,
        )
        if self.retest and self.error is None:
            values = self.objective(np.repeat(index[None], self.retest, axis=0))
            mei.retest_mean = float(values.mean())
            mei.retest_sem = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
            mei.retest_count = len(values)
        return mei

    def config(self) -> dict:
        """Plain-JSON description of the search, enough to repeat it."""
        return {
            "method": self.optimizer.name,
            "optimizer_params": self.optimizer.params()["settings"],  # the method describes itself
            "seed": self.seed,
            "budget": self.budget,
            "target": str(self.objective.target),
            "network": self.objective.network.name,
            "T": self.objective.network.T,
            "generator": self.objective.generator.name,
            "grid": self.objective.grid.to_dict(),
            "threads": self.threads,
            "repeats": self.repeats,
            "retest": self.retest,
            "noise": None if self.objective.noise is None else {"poisson_scale": self.objective.noise.scale},
        }
