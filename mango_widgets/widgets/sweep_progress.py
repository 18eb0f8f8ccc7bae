"""Live progress of a sweep in a notebook: cells done and failed, speed, and the best activations so far.

It only observes the :class:`~mango_widgets.engine.runner.SweepEvent`s the sweep's driver
sends (``Sweep.run(progress="widget")`` wires it, or pass ``widget.observe_event`` as a
callback); writes are batched and at most one per ``min_interval`` seconds, except the
first and the last.
"""
from __future__ import annotations

import html
import time

import ipywidgets as widgets

FINAL_STATES = ("finished", "stopped", "failed")


class SweepProgress(widgets.VBox):
    """Progress bar, counts and a table of the best activation per layer and method."""

    def __init__(self, min_interval: float = 0.25):
        self.min_interval = float(min_interval)
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="cells", bar_style="info",
                                       layout=widgets.Layout(width="60%"))
        self.counts = widgets.Label(value="starting...")
        self.last_error = widgets.HTML(value="")
        self.leaders = widgets.HTML(value="")
        self._last_write = -1e9
        self._unshown_error = None  # a failure that arrived between two writes
        self.writes = 0
        super().__init__([widgets.HBox([self.bar, self.counts]), self.leaders, self.last_error])

    def observe_event(self, event) -> None:
        """Show a sweep event (throttled; start and end events always shown)."""
        now = time.monotonic()
        final = event.state in FINAL_STATES
        if not final and event.state != "starting" and now - self._last_write < self.min_interval:
            if event.error:
                self._unshown_error = event
            return
        self._write(event, final)
        self._last_write = now

    def _write(self, event, final: bool) -> None:
        with self.hold_sync():
            self.bar.max = max(1, event.to_run)
            self.bar.value = event.finished
            self.bar.bar_style = ("success" if event.failed == 0 else "warning") if final else "info"
            rate = event.cells_per_second
            remaining = event.to_run - event.finished
            eta = f", about {remaining / rate:.0f} s left" if rate > 0 and remaining and not final else ""
            self.counts.value = (
                f"{event.state}: {event.done} done, {event.failed} failed of {event.to_run} "
                f"({event.skipped} already stored); {rate:.2f} cells/s{eta}"
            )
            self.leaders.value = self._table(event.leaders)
            failure = event if event.error else self._unshown_error
            if failure is not None:
                where = failure.cell.key if failure.cell is not None else ""
                self.last_error.value = (
                    f"<span style='color:#b00'>last failure: {html.escape(where)}: {html.escape(str(failure.error))}</span>"
                )
                self._unshown_error = None
        self.writes += 1

    @staticmethod
    def _table(leaders) -> str:
        if not leaders:
            return ""
        methods = sorted({leader.method for leader in leaders})
        layers = sorted({leader.layer for leader in leaders})
        best = {(leader.layer, leader.method): leader for leader in leaders}
        head = "".join(f"<th style='padding:2px 8px'>{html.escape(m)}</th>" for m in methods)
        rows = []
        for layer in layers:
            cells = []
            for method in methods:
                leader = best.get((layer, method))
                text = "" if leader is None else (
                    f"{leader.best:.3f} <small>({html.escape(leader.target)} @ epoch {leader.epoch})</small>"
                )
                cells.append(f"<td style='padding:2px 8px'>{text}</td>")
            rows.append(f"<tr><th style='padding:2px 8px;text-align:left'>{html.escape(layer)}</th>{''.join(cells)}</tr>")
        return (
            "<b>best activation so far</b><table style='border-collapse:collapse'>"
            f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
        )
