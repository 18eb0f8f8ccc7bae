"""Progress of a sweep: a tqdm bar (a text bar in a terminal, tqdm's own bar in Jupyter) or any callable.

The engine never imports the UI: a richer display, such as
:class:`mango_widgets.widgets.SweepProgress`, is passed in as a callable (``progress=widget.observe_event``).
Displays only observe :class:`~.runner.SweepEvent`s sent by the driver; they never compute.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

from mango_widgets.errors import ConfigError

CHOICES = ("auto", "bar", "none")


class ProgressBar:
    """A tqdm bar over the cells this run computes, with failures and the best activation so far."""

    def __init__(self, file=None, notebook: bool = False):
        self.file = file
        self.notebook = notebook
        self._bar = None

    def __call__(self, event) -> None:
        if self.notebook:
            from tqdm.auto import tqdm
        else:
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
    """The progress handler for ``progress``: "auto" (a bar; tqdm's notebook bar inside Jupyter), "bar"
    (a text bar), None/"none"/False, or a callable taking :class:`~.runner.SweepEvent` (e.g. a widget's
    ``observe_event``)."""
    if callable(progress):
        return progress
    if progress in (None, False, "none"):
        return None
    if progress not in CHOICES:
        raise ConfigError(
            f"progress must be one of {', '.join(CHOICES)} or a callable taking sweep events, got {progress!r}; "
            "for the live widget pass progress=SweepProgress().observe_event (from mango_widgets.widgets)"
        )
    return ProgressBar(notebook=progress == "auto" and in_jupyter())
