"""Plotly ``FigureWidget``s whose data always reaches the browser.

plotly 7 + anywidget lose figure data on its way to the browser in three ways:

- a page that connects after the figure was made (Voila, a preheated kernel, a reloaded
  notebook) draws the widget's *state*, which plotly refreshes only when the figure is displayed
  on its own, not inside a Box: traces added or edited before that never arrive;
- plotly opens the widget's comm with an empty figure and sends the figure afterwards;
- each edit travels as a message written into a trait and immediately reset to None; when the
  browser handles two of those writes together, its handler reads None and drops the edit.

- an edit that arrives while plotly.js is still drawing the figure breaks that drawing for good.

So every figure here is made whole (:func:`new_figure`: traces, layout and classes in the first
message; its comm opens last); no edit message is sent before a browser view reports it has drawn
the figure (it draws the state, which every edit keeps current), and its report triggers one
message with the whole figure; a message trait keeps its last message instead of going back to
None; and every edit inside :func:`editing` ends with one message carrying the *whole* figure:
whichever message a browser applies last, it draws the current figure. Trace counts never change
after creation (hide unused traces).
"""
from __future__ import annotations

import functools
import time
from contextlib import contextmanager, nullcontext
from copy import deepcopy
from typing import Callable, Iterator, Sequence

import plotly.graph_objects as go

#: pixels. Fixed: under anywidget a figure is drawn before its box is on the page, so it cannot measure
#: the space it gets (it would fall back to plotly's 700 px); 900 fits a 1,024 px window with margins
FIGURE_WIDTH = 900
#: plotly config of every figure: no plotly logo in the toolbar
CONFIG = {"displaylogo": False}
#: layout keys never re-sent with each edit (they do not change, and the template is large)
STATIC_LAYOUT = ("template",)


def _once_drawn(send: Callable) -> Callable:
    """plotly's edit message ``send``, sent only once a browser view has drawn the figure (before that, nothing:
    not even plotly's edit bookkeeping, since no view would answer it)."""

    @functools.wraps(send)
    def send_once_drawn(figure, *args, **kwargs):
        if figure._drawn:
            send(figure, *args, **kwargs)

    return send_once_drawn


class WholeFigureWidget(go.FigureWidget):
    """A FigureWidget sent whole: comm opened once traces, layout and classes are set; edit messages kept."""

    _open_now = False
    _edit_lock = None
    _quiet = False
    _drawn = False  # a browser view has finished drawing the figure at least once
    _last_push = 0.0  # time.monotonic() of the last whole-figure message sent
    _last_report = 0.0  # time.monotonic() of the last draw report of a view

    # edit messages wait until a view has drawn the figure: one arriving while plotly.js is still drawing
    # breaks the drawing (the view then never answers and never shows later edits); the view draws the
    # state, and the first answer triggers one whole-figure message
    _send_restyle_msg = _once_drawn(go.FigureWidget._send_restyle_msg)
    _send_relayout_msg = _once_drawn(go.FigureWidget._send_relayout_msg)
    _send_addTraces_msg = _once_drawn(go.FigureWidget._send_addTraces_msg)
    _send_deleteTraces_msg = _once_drawn(go.FigureWidget._send_deleteTraces_msg)

    def _send_update_msg(self, *args, **kwargs):
        if self._drawn and not self._quiet:  # inside editing(): the whole figure follows in one message
            super()._send_update_msg(*args, **kwargs)

    def open(self):
        if self._open_now:
            super().open()

    def __setattr__(self, name, value):
        # plotly writes each edit message into a _py2js_* trait, then resets it to None; a browser that handles
        # both writes together reads None and drops the edit, so the trait keeps its last message instead
        if value is None and name.startswith("_py2js_"):
            return
        super().__setattr__(name, value)

    def push_whole(self) -> None:
        """Send every trace's properties and the layout in one update message (a browser drawing it has it all)."""
        if not self._drawn:
            return
        with self._edit_lock or nullcontext():
            data, layout = self._data, self._layout_obj._props
            # every key ever sent goes again: one plotly dropped (set to None, or an empty list) is sent as None,
            # which removes it in the browser too
            self._sent_trace_keys = getattr(self, "_sent_trace_keys", set()) | {k for t in data for k in t} - {"type", "uid"}
            self._sent_layout_keys = getattr(self, "_sent_layout_keys", set()) | set(layout) - set(STATIC_LAYOUT)
            restyle = {key: [trace.get(key) for trace in data] for key in sorted(self._sent_trace_keys)}
            relayout = {key: layout.get(key) for key in sorted(self._sent_layout_keys)}
            self._send_update_msg(deepcopy(restyle), deepcopy(relayout), list(range(len(data))))
            self._last_push = time.monotonic()  # a healthy view answers with a report (see FigureSlot's watch)

    def _view_drawn(self, change) -> None:
        """A view reports a draw (plotly does after each one): the first report triggers one whole-figure message.

        Later reports trigger nothing: every message carries the whole figure and they arrive in order, so
        the view draws the last one anyway. (Answering reports that lag behind, or layout reports, which
        carry no trace edit id, with another message made the view report again: a message ping-pong
        between kernel and page that never ended and kept both busy.)"""
        if change["new"]:
            self._last_report = time.monotonic()
        if change["new"] and not self._drawn:
            self._drawn = True
            self.push_whole()



def new_figure(data: Sequence = (), layout=None, css_class: str = "", lock=None, loader=None) -> WholeFigureWidget:
    """A figure built with all its traces, sent whole in its first message. ``lock``: the one its editors hold.
    ``loader`` (a :class:`~.plotly_loader.PlotlyLoader`): the figure uses the bundle the page loads once and
    stays closed until :func:`open_figure` (a :class:`~.plotly_loader.FigureSlot` opens it when the page has it)."""
    figure = WholeFigureWidget(data=list(data), layout=layout)
    figure._config = dict(CONFIG)
    figure._edit_lock = lock
    if css_class:
        figure.add_class(css_class)
    figure.observe(figure._view_drawn, "_js2py_traceDeltas")
    figure.observe(figure._view_drawn, "_js2py_layoutDelta")
    if loader is not None:
        from mango_widgets.widgets.plotly_loader import figure_module

        figure._esm = figure_module(loader.path)
        sync_state(figure)
        return figure
    open_figure(figure)
    return figure


def open_figure(figure: WholeFigureWidget) -> None:
    """Open the figure's widget (its first message carries its current traces and layout); once only."""
    with figure._edit_lock or nullcontext():
        if figure.comm is None:
            sync_state(figure)
            figure._open_now = True
            figure.open()


def sync_state(figure: go.FigureWidget) -> None:
    """Write the figure's current traces and layout into the state a newly connecting page reads."""
    figure._widget_data = deepcopy(figure._data)
    figure._widget_layout = deepcopy(figure._layout_obj._props)


@contextmanager
def editing(figure: go.FigureWidget) -> Iterator[go.FigureWidget]:
    """Edit the figure; then send it whole to the pages showing it and write it into its state."""
    whole = isinstance(figure, WholeFigureWidget)
    if whole:
        figure._quiet = True
    try:
        with figure.batch_update():
            yield figure
    finally:
        if whole:
            figure._quiet = False
    if whole:
        figure.push_whole()
    sync_state(figure)


def state_traces(figure: go.FigureWidget) -> list:
    """The traces a page connecting now would draw (what the browser gets, not the Python object)."""
    return list(figure._widget_data)
