"""Progress of a run on screen: a bar over all queries, time left, and one status line per method."""
from __future__ import annotations

import html
from typing import Dict, Optional

import ipywidgets as widgets

from mango_widgets.core.search import Search
from mango_widgets.widgets.methods import run_method_name


def rate(search: Search) -> float:
    """Queries per second so far (0 before the first batch)."""
    elapsed = search.history.wall_seconds
    return search.queries / elapsed if elapsed > 0 else 0.0


def seconds_left(searches: Dict[str, Search], concurrent: bool) -> Optional[float]:
    """Rough time to the end of the run from each search's rate so far (None before any rate is known)."""
    rates = [rate(s) for s in searches.values() if rate(s) > 0]
    if not rates:
        return None
    mean_rate = sum(rates) / len(rates)
    left = [(s.budget - s.queries) / (rate(s) or mean_rate) for s in searches.values() if s.state in ("ready", "running")]
    if not left:
        return 0.0
    return max(left) if concurrent else sum(left)


def format_status(name: str, search: Search, waiting: bool = False) -> str:
    """One status line: state, queries, queries per second, best activation, elapsed time."""
    label = html.escape(run_method_name(name, search.optimizer))
    if search.state == "ready":
        return f"<b>{label}</b> {'waiting' if waiting else 'not run'}"
    history = search.history
    best = "—" if history.best_index is None else f"{history.best_value:.4f} (query {history.best_query:,})"
    return (f"<b>{label}</b> {search.state} · {search.queries:,}/{search.budget:,} queries · "
            f"{rate(search):,.0f} q/s · best {best} · {history.wall_seconds:.1f} s")


class RunProgress(widgets.VBox):
    """A bar (queries of all methods together / their budgets), time left, and the status lines."""

    def __init__(self, **kwargs):
        self.bar = widgets.IntProgress(value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="min(420px, 100%)"))
        self.summary = widgets.HTML("")
        self.summary.add_class("mango-progress")
        self._what = ""
        self.status_html = widgets.HTML("Choose a neuron and methods, then Run.")
        self.status_html.add_class("mango-status")
        super().__init__([widgets.HBox([self.bar, self.summary], layout=widgets.Layout(flex_flow="row wrap")),
                          self.status_html], **kwargs)
        self.bar.layout.visibility = "hidden"

    def say(self, text: str) -> None:
        """A one-line state (e.g. 'starting…'); the text is HTML."""
        self.status_html.value = text

    def clear(self, note: str) -> None:
        """No run shown; ``note`` (HTML) says why and what to do."""
        self.bar.layout.visibility = "hidden"
        self.summary.value = ""
        self.status_html.value = f"<div class='mango-opened' style='display:flex;gap:8px;align-items:center'>{note}</div>"

    def begin(self, searches: Dict[str, Search], target: str, label: str) -> None:
        self.bar.max = max(1, sum(s.budget for s in searches.values()))
        self.bar.value = 0
        self.bar.bar_style = "info"
        self.bar.layout.visibility = "visible"
        self._what = f"<b>{html.escape(target)}</b> of {html.escape(label)}"
        self.summary.value = f"{self._what}: starting…"

    def update(self, searches: Dict[str, Search], live, final: bool) -> None:
        done = sum(s.queries for s in searches.values())
        self.bar.value = min(done, self.bar.max)
        elapsed = max((s.history.wall_seconds for s in searches.values()), default=0.0)
        concurrent = live is None or live.concurrent
        if not concurrent:
            elapsed = sum(s.history.wall_seconds for s in searches.values())
        if final:
            failed = any(s.state == "failed" for s in searches.values())
            stopped = any(s.state in ("stopped", "ready") for s in searches.values())
            self.bar.bar_style = "danger" if failed else ("warning" if stopped else "success")
            word = "failed" if failed else ("stopped" if stopped else "done")
            self.summary.value = f"{self._what}: {word}, {done:,} of {self.bar.max:,} queries in {elapsed:.1f} s"
        else:
            left = seconds_left(searches, concurrent)
            eta = "" if left is None else f" · about {left:,.0f} s left"
            self.summary.value = (f"{self._what}: {done / self.bar.max:.0%} · {done:,} of {self.bar.max:,} queries · "
                                  f"{elapsed:.1f} s{eta}")
        waiting = live is not None and not live.stopped
        self.status_html.value = "<br>".join(format_status(name, s, waiting) for name, s in searches.items())
