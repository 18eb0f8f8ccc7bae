"""TTOpt (the ``ttopt`` package) made steppable.

TTOpt's maximum-volume cross sweeps own their loop and call ``f(I)`` for each batch. Its
loop runs here in a worker thread whose ``f`` hands the batch to ``ask()`` and waits for
``tell()``: the caller keeps control, one batch at a time. TTOpt's batches follow its sweeps,
so their sizes vary (rank x n x rank points per core visit).
"""
from __future__ import annotations

import queue
import threading
from typing import Optional

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError

_DONE = object()


class TTOptOptimizer(Optimizer):
    """TTOpt maximisation with maximum TT-rank ``rank``; ``quantize`` uses its QTT grid (n = 2**q)."""

    budget_aware = True  # its sweeps are planned for ``evals = budget``

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, rank: int = 4, quantize: bool = True, fs_opt: float = 1.0):
        super().__init__(grid, seed, budget)
        if int(rank) < 1:
            raise ConfigError(f"TTOpt needs rank >= 1, got {rank}")
        if quantize:
            grid.quantized()  # raises a clear error unless n is a power of two
        self.rank, self.quantize, self.fs_opt = int(rank), bool(quantize), float(fs_opt)
        self._requests: queue.Queue = queue.Queue()  # unbounded: the worker never blocks on it
        self._replies: queue.Queue = queue.Queue(maxsize=1)
        self._thread: Optional[threading.Thread] = None
        self._finished = False

    def _settings(self) -> dict:
        return {"rank": self.rank, "quantize": self.quantize, "fs_opt": self.fs_opt}

    def _f(self, indices):
        """Called by TTOpt in the worker thread: hand the batch over and wait for its values."""
        self._requests.put(np.asarray(indices, dtype=np.int64))
        return self._replies.get()  # None (from close) makes TTOpt stop

    def _run(self) -> None:
        from ttopt import TTOpt

        grid = self.grid
        size = {"p": 2, "q": int(np.log2(grid.n))} if self.quantize else {"n": grid.n}
        try:
            solver = TTOpt(self._f, d=grid.d, evals=self.budget or 10**9, is_func=False, is_vect=True, with_wrn=False, **size)
            solver.optimize(rank=self.rank, seed=self.seed, fs_opt=self.fs_opt, is_max=True)
        except BaseException as error:  # report it to the asking thread
            self._requests.put(error)
        finally:
            self._requests.put(_DONE)

    def _ask(self) -> np.ndarray:
        if self._finished:
            raise ConfigError("TTOpt has finished its sweeps (its evaluation budget is used up); start a new search")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ttopt-sweeps", daemon=True)
            self._thread.start()
        item = self._requests.get()
        if item is _DONE or isinstance(item, BaseException):
            self._finished = True
            if isinstance(item, BaseException):
                raise item
            raise ConfigError("TTOpt has finished its sweeps (its evaluation budget is used up); start a new search")
        return item

    def _tell(self, indices, values) -> None:
        self._replies.put(np.asarray(values, dtype=np.float64))

    def close(self) -> None:
        """Stop the worker thread (TTOpt ends when its ``f`` returns None)."""
        if self._thread is not None and self._thread.is_alive() and not self._finished:
            self._pending = None
            try:
                self._replies.put_nowait(None)
            except queue.Full:  # a reply is already waiting; TTOpt stops at its next request
                pass
            self._thread.join(timeout=5)
        self._finished = True


def register_all(register) -> None:
    register("ttopt", TTOptOptimizer, "TTOpt: TT cross / maximum-volume sweeps (rank, quantize)")
