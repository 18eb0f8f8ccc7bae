"""Load plotly's widget code in the browser once per page, before any figure needs it.

anywidget (0.11) gives a widget model 2 s to load its JavaScript module, and every plotly
``FigureWidget`` carries its own 5 MB copy of plotly.js, which the browser imports again for
each figure: on a busy 2-core machine one import takes 2-4 s, so a figure fails to initialise
("[anywidget] Failed to initialize model.") and stays empty. In the app, the server serves the
bundle at one address (:data:`PLOTLY_PATH_ENV`); a :class:`PlotlyLoader` imports it as soon as
the page has loaded and tells the kernel; figures (:class:`FigureSlot`) open their widget only
then, with a few-line module that re-exports the already loaded bundle. Without the app's
server, figures carry plotly's own module as usual.
"""
from __future__ import annotations

import html
import json
import os
import threading
import time
from typing import Callable, List, Optional

import anywidget
import ipywidgets as widgets
from traitlets import Bool, Unicode

#: set by the app (``mango app``) for its kernels: where the server serves plotly's widget bundle,
#: relative to the server's base URL
PLOTLY_PATH_ENV = "MANGO_PLOTLY_MODULE"
#: the address the app serves the bundle at (relative to the base URL)
PLOTLY_PATH = "mango/static/plotly/widgetbundle.js"

#: JavaScript: the bundle's absolute address in this page (the page's base URL + ``path``)
_URL_JS = """function bundleUrl(path) {
  let base = "/";
  try { base = JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/"; } catch (e) {}
  return new URL(base.replace(/\\/*$/, "/") + path, window.location.origin).href;
}
"""

LOADER_ESM = _URL_JS + """export default {
  initialize({ model }) {
    // not awaited: the import may take seconds, longer than anywidget waits for initialize
    import(bundleUrl(model.get("path"))).then(
      () => { model.set("loaded", true); model.save_changes(); },
      (error) => { model.set("error", String(error)); model.save_changes(); });
  },
};
"""


def served_plotly_path() -> Optional[str]:
    """The bundle's path on the app's server, or None outside the app (figures then carry plotly's module)."""
    return os.environ.get(PLOTLY_PATH_ENV) or None


def figure_module(path: str) -> str:
    """A figure's module: import the served bundle (the loader already has: the page's module map
    returns it at once) and re-export it."""
    return _URL_JS + f"const plotly = await import(bundleUrl({json.dumps(path)}));\nexport default plotly.default;\n"


class PlotlyLoader(anywidget.AnyWidget):
    """Imports the served plotly bundle in the page; ``loaded`` turns True when the page has it,
    ``error`` holds the browser's message when it could not. Shows nothing."""

    _esm = LOADER_ESM
    path = Unicode("").tag(sync=True)
    loaded = Bool(False).tag(sync=True)
    error = Unicode("").tag(sync=True)

    def __init__(self, path: str, **kwargs):
        super().__init__(path=path, **kwargs)
        self.add_class("mango-plotly-loader")
        self._waiting: List[Callable[[], None]] = []
        self.observe(self._on_loaded, "loaded")

    def when_loaded(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the page has the bundle (now, if it already has)."""
        if self.loaded:
            callback()
        else:
            self._waiting.append(callback)

    def _on_loaded(self, change) -> None:
        if change["new"]:
            waiting, self._waiting = self._waiting, []
            for callback in waiting:
                callback()


def make_loader() -> Optional[PlotlyLoader]:
    """A loader when running in the app (its server serves the bundle), else None."""
    path = served_plotly_path()
    return PlotlyLoader(path) if path else None


class FigureSlot(widgets.Box):
    """Where a figure goes: the figure itself, or (in the app) a note until the page has loaded plotly,
    then the figure, whose widget opens only then."""

    def __init__(self, figure, loader: Optional[PlotlyLoader] = None, what: str = "the plot", **kwargs):
        self.figure, self.loader = figure, loader
        self.note = widgets.HTML(f"<span class='mango-note-small'>⏳ loading the plotting library for {html.escape(what)}…</span>")
        self.note.add_class("mango-figure-loading")
        self._spacer = widgets.HTML("", layout=widgets.Layout(height="0px", margin="0px"))
        super().__init__([figure] if figure.comm is not None else [self.note], **kwargs)
        if figure.comm is None and loader is not None:
            loader.observe(self._failed, "error")
            loader.when_loaded(self._open)

    def _open(self) -> None:
        from mango_widgets.widgets.figures import open_figure

        open_figure(self.figure)
        self.children = [self.figure]
        threading.Thread(target=self._watch_view, daemon=True, name="mango-figure-watch").start()

    def _watch_view(self, stale_s: float = 4.0, redraws: int = 20, poll_s: float = 1.0) -> None:
        """Replace a page's figure view that stopped drawing. On a loaded machine a view sometimes never
        draws, or draws once and then applies no further update (no error in the console; seen in about
        one app start in five on 2 cores). A healthy view answers every update with a report; when the
        latest update has gone unanswered for ``stale_s`` (or the first draw never came), the box shows the
        figure again behind an empty spacer: the page makes a new view, which draws the figure's current state."""
        figure = self.figure
        since = time.monotonic()
        while redraws > 0 and figure.comm is not None:
            time.sleep(poll_s)
            now = time.monotonic()
            pushed, answered = getattr(figure, "_last_push", 0.0), getattr(figure, "_last_report", 0.0)
            never_drawn = not figure._drawn and now - since > stale_s
            stuck = figure._drawn and pushed > answered and now - pushed > stale_s
            if never_drawn or stuck:
                redraws -= 1
                since = now
                figure._last_report = now  # the new view's first draw answers for the state it draws
                # a change at the first position makes the page build a new view of the figure; an empty
                # spacer in front (or taken away again) does so without moving anything on the page
                self.children = [self.figure] if self.children[0] is self._spacer else [self._spacer, self.figure]

    def _failed(self, change) -> None:
        if change["new"] and not self.loader.loaded:
            self.note.value = (f"<span style='color:#b00020'>the browser could not load the plotting library: "
                               f"{html.escape(change['new'])}</span>")
