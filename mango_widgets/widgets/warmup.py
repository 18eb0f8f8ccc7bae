"""Heavy imports and first compilations in a background thread while the page loads.

A fresh kernel spends seconds importing jax/protes and nevergrad and compiling PROTES' kernels on
the first Run. :class:`Warmup` does that work at start, in order, in one daemon thread, and
shows where it is ("loading optimizers…", then how long it took); a Run clicked meanwhile shows
that it waits for it instead of freezing silently.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np

from mango_widgets.core.space import LatentGrid
from mango_widgets.widgets.methods import DEFAULT_METHODS, DEFAULT_OVERVIEW_METHOD

Step = Tuple[str, Callable[[], object]]

#: the default method, then one method of each other family likely to be ticked next (PROTES compiles its
#: kernels on first use, nevergrad is a slow import)
WARM_METHODS = tuple(dict.fromkeys(DEFAULT_METHODS + (DEFAULT_OVERVIEW_METHOD, "tt-b", "portfolio")))


def warm_optimizers(grid: LatentGrid, methods: Sequence[str] = WARM_METHODS) -> None:
    """Import each method's library and run one ask/tell on ``grid`` (PROTES compiles its kernels here)."""
    from mango_widgets.core.optimizers import make_optimizer

    for method in methods:
        optimizer = make_optimizer(method, grid, seed=0, budget=100)
        indices = optimizer.ask()
        optimizer.tell(indices, np.zeros(len(indices)))
        optimizer.close()


def warm_plots() -> None:
    """Import plotly's FigureWidget (it pulls in anywidget and jsonschema: seconds on a cold disk)."""
    import plotly.graph_objects as go

    go.FigureWidget  # noqa: B018 - the attribute access is the import


class Warmup:
    """Run ``steps`` (label, function) one after another in a daemon thread; ``indicator`` shows progress."""

    def __init__(self, steps: Sequence[Step]):
        self.steps: List[Step] = list(steps)
        self.seconds: Dict[str, float] = {}
        self.errors: Dict[str, BaseException] = {}
        self.current: Optional[str] = None
        self._done: Dict[str, threading.Event] = {label: threading.Event() for label, _ in self.steps}
        self._thread: Optional[threading.Thread] = None
        self._t0 = 0.0
        self.indicator = widgets.HTML("")
        self.indicator.add_class("mango-warmup")

    def start(self) -> Warmup:
        if self._thread is None:
            self._t0 = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="mango-warmup", daemon=True)
            self._thread.start()
        return self

    def wait(self, label: Optional[str] = None, timeout: Optional[float] = None) -> bool:
        """Block until step ``label`` (default: every step) has ended; True if so (at once if never started)."""
        if self._thread is None:
            return True
        events = [self._done[label]] if label is not None else list(self._done.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for event in events:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not event.wait(left):
                return False
        return True

    def done(self, label: str) -> bool:
        """True once step ``label`` has ended, or when the warm-up was never started (nothing to wait for)."""
        return self._thread is None or (label in self._done and self._done[label].is_set())

    def _run(self) -> None:
        for label, function in self.steps:
            self.current = label
            self._show()
            start = time.perf_counter()
            try:
                function()
            except Exception as error:  # a failed warm-up only costs time later; say so
                self.errors[label] = error
            self.seconds[label] = time.perf_counter() - start
            self._done[label].set()
        self.current = None
        self._show()

    def _show(self) -> None:
        if self.current is not None:
            self.indicator.value = (f"<span class='mango-note-small'>⏳ loading {html.escape(self.current)}… "
                                    "(in the background: the first Run waits for it)</span>")
            return
        failed = "; ".join(f"{label}: {type(e).__name__}: {e}" for label, e in self.errors.items())
        total = time.perf_counter() - self._t0
        self.indicator.value = (f"<span class='mango-note-small'>✓ ready (loaded {', '.join(self.seconds)} in {total:.1f} s)</span>"
                                if not failed else f"<span style='color:#b00020'>warm-up failed ({html.escape(failed)}); "
                                                   "the first Run will load what it needs</span>")
