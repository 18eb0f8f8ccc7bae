"""Progress displays for a sweep: a tqdm bar for terminals, the ipywidgets panel in Jupyter.

Both only observe :class:`~.runner.SweepEvent`s sent by the driver; they never compute.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

from mango_widgets.errors import ConfigError

CHOICES = ("auto", "bar", "widget", "none")


class ProgressBar:
    """A tqdm bar over the cells this run computes, with failures and the best activation so far."""

    def __init__(self, file=None):
        self.file = file
        self._bar = None

    def __call__(self, event) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=event.to_run, unit="cell", desc="sweep", file=self.file or sys.stderr, dynamic_ncols=True)
        self._bar.update(event.finished - self._bar.n)
        if event.cell is not None:
            best = max((leader.best for leader in event.leaders), default=None)
            postfix = {"failed": event.failed}
            if best is not None:
                postfix["best"] = f"{best:.3f}"
            self._bar.set_postfix(postfix, refresh=False)
        if event.state in ("finished", "stopped", "failed"):
            self._bar.close()


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (where widgets can be shown)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(progress) -> Optional[Callable]:
    """The progress handler for ``progress``: "auto", "bar", "widget", None/"none"/False, or a callable."""
    if callable(progress):
        return progress
    if progress in (None, False, "none"):
        return None
    if progress not in CHOICES:
        raise ConfigError(f"progress must be one of {', '.join(CHOICES)} or a callable, got {progress!r}")
    if progress == "widget" or (progress == "auto" and in_jupyter()):
        from IPython.display import display

        from mango_widgets.widgets.sweep_progress import SweepProgress

        widget = SweepProgress()
        display(widget)
        return widget.observe_event
    return ProgressBar()
