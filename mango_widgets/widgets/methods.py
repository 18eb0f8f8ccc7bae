"""The method picker: readable names, each method's description on screen, the user's race order.

Every registered optimizer is a checkbox labelled with a readable name (the registry code in
brackets) and a tooltip; the methods race in the order they were ticked, which the picker
shows as a numbered list with each method's description.
"""
from __future__ import annotations

import html
from typing import Dict, Iterable, List, Sequence, Tuple

import ipywidgets as widgets
from traitlets import Bool
from traitlets import Tuple as TupleTrait

from mango_widgets.core.optimizers import available
from mango_widgets.errors import ConfigError

#: the method every widget starts with: the one the leaderboard measured best for the budget
#: (``core/optimizers/auto.py``); the explorer, the overview, the app and the tests read it from here
DEFAULT_METHOD = "auto"
#: methods the explorer starts with
DEFAULT_METHODS: Tuple[str, ...] = (DEFAULT_METHOD,)
#: the method the layer overview starts with
DEFAULT_OVERVIEW_METHOD = DEFAULT_METHOD
#: registry names not offered (``nevergrad`` needs an ``optimizer=`` parameter)
HIDDEN_METHODS = ("nevergrad",)
#: readable names, used alike in the pickers, legends, status lines and titles; a method missing
#: here is shown by its registry name
METHOD_NAMES: Dict[str, str] = {
    "auto": "Auto (best measured)", "tt": "TT (PROTES)", "tt-s": "TT-s (PROTES)", "tt-b": "TT-b (PROTES)",
    "protes": "PROTES, free settings", "ttopt": "TTOpt", "tt-cma": "TT-b, then CMA-ES", "tt-elite": "Elitist TT",
    "cma-es": "CMA-ES", "sep-cma": "sep-CMA-ES", "cma-bipop": "BIPOP-CMA-ES", "cma": "CMA (Nevergrad)",
    "cma-polish": "sep-CMA-ES, then local polish",
    "portfolio": "Portfolio (Nevergrad)", "ngoptrw": "NGOptRW (Nevergrad)", "de": "Differential evolution",
    "shade": "SHADE", "oneplusone": "(1+1) evolution", "noisybandit": "Noisy bandit", "spsa": "SPSA",
    "random": "Random search",
}


def offered_methods() -> List[str]:
    """Registry names the pickers offer, in registry order."""
    return [name for name in available() if name not in HIDDEN_METHODS]


def method_name(method: str) -> str:
    """'TT-b (PROTES)' for 'tt-b'; the registry name itself when it has no readable name."""
    return METHOD_NAMES.get(method, method)


def run_method_name(method: str, optimizer=None) -> str:
    """The readable name of a method as run: ``auto`` also names the method it chose
    ('Auto (best measured) → sep-CMA-ES, then local polish')."""
    chosen = getattr(optimizer, "chosen", None) if method == "auto" else None
    return method_name(method) + (f" → {method_name(chosen)}" if chosen else "")


def method_options() -> List[Tuple[str, str]]:
    """(readable label, registry name) for a dropdown."""
    return [(f"{method_name(m)} [{m}]", m) for m in offered_methods()]


def check_methods(methods: Iterable[str]) -> Tuple[str, ...]:
    names = offered_methods()
    methods = tuple(methods)
    unknown = [m for m in methods if m not in names]
    if unknown:
        raise ConfigError(f"unknown method(s) {', '.join(map(repr, unknown))}; valid methods are: {', '.join(names)}")
    return methods


class MethodPicker(widgets.VBox):
    """Checkboxes for the methods; trait ``value`` holds the ticked ones in the order they were ticked."""

    value = TupleTrait()
    disabled = Bool(False)

    def __init__(self, methods: Sequence[str] = DEFAULT_METHODS, **kwargs):
        self.descriptions = available()
        self.boxes: Dict[str, widgets.Checkbox] = {}
        for name in offered_methods():
            box = widgets.Checkbox(value=False, description=f"{method_name(name)} [{name}]", indent=False,
                                   tooltip=self.descriptions[name], layout=widgets.Layout(width="235px", margin="0"))
            box.add_class("mango-method")
            box.add_class(f"mango-method-{name}")
            box.observe(lambda change, name=name: self._ticked(name, change["new"]), "value")
            self.boxes[name] = box
        self.grid = widgets.GridBox(list(self.boxes.values()), layout=widgets.Layout(
            grid_template_columns="repeat(auto-fill, 235px)", grid_gap="0 6px", width="100%"))
        self.order_html = widgets.HTML("")
        self.order_html.add_class("mango-method-order")
        self._setting = False
        super().__init__([widgets.HTML("<b>methods</b> <span style='color:#666'>(tick several to race them; they "
                                       "run in the order ticked)</span>"), self.grid, self.order_html], **kwargs)
        self.add_class("mango-methods")
        self.observe(lambda change: self._show_order(), "value")
        self.observe(lambda change: self._sync_disabled(), "disabled")
        self.select(methods)

    def select(self, methods: Sequence[str]) -> None:
        """Tick exactly ``methods``, in this race order."""
        methods = check_methods(methods)
        self._setting = True
        try:
            for name, box in self.boxes.items():
                box.value = name in methods
        finally:
            self._setting = False
        self.value = methods

    def _ticked(self, name: str, ticked: bool) -> None:
        if self._setting:
            return
        order = [m for m in self.value if m != name]
        self.value = tuple(order + [name]) if ticked else tuple(order)

    def _show_order(self) -> None:
        if not self.value:
            self.order_html.value = "<span style='color:#b00020'>no method ticked: tick at least one</span>"
            return
        items = "".join(f"<li><b>{html.escape(method_name(m))}</b> <span style='color:#555'>— "
                        f"{html.escape(self.descriptions.get(m, ''))}</span></li>" for m in self.value)
        self.order_html.value = f"<ol style='margin:2px 0 0 0;padding-left:22px;font-size:12px'>{items}</ol>"

    def _sync_disabled(self) -> None:
        for box in self.boxes.values():
            box.disabled = self.disabled
