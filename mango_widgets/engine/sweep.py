"""A sweep: the product of layers x units x checkpoints x methods x seeds, each cell one search.

:class:`Sweep` defines the cells, checks them against the model source before anything runs,
describes itself as plain JSON (stored with every run, so ``Sweep.resume(store)`` rebuilds it) and
says what is still pending in its result store. Running it is :mod:`~mango_widgets.engine.runner`'s job.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Union

from mango_widgets.engine.cluster import DEFAULT_DASHBOARD
from mango_widgets.engine.runner import SweepEvent, SweepReport, SweepRun, make_run
from mango_widgets.engine.spec import Cell, as_names, model_source, parse_ints
from mango_widgets.engine.store import DATABASE, ResultStore
from mango_widgets.errors import ConfigError, unknown_choice


class Sweep:
    """The product of ``layers`` x ``units`` x ``epochs`` x ``methods`` x ``seeds``, each cell one search.

    ``units`` and ``epochs`` take lists, ranges, text like ``"0-7"`` / ``"1,6,12"`` or ``"all"``
    (``epochs`` also ``"last"``); ``network`` is a model source name (``"demo"``) or object.
    ``T=None`` uses the network's trained exposure. ``keep_indices=False`` stores only the
    value of each query, not its grid index (about 128x less history on disk).
    """

    def __init__(
        self,
        layers: Union[str, Sequence[str]],
        units="all",
        epochs="all",
        methods: Union[str, Sequence[str]] = ("tt-b",),
        seeds=(0,),
        budget: int = 2000,
        T: Optional[int] = None,
        spacing: str = "uniform",
        network="demo",
        store: Union[str, Path] = "results/sweep",
        keep_indices: bool = True,
        max_networks: int = 4,
    ):
        from mango_widgets.core.driver import check_budget
        from mango_widgets.core.optimizers import available
        from mango_widgets.core.space import SPACINGS

        self.source = model_source(network)
        self.layers = as_names(layers, "layers")
        self.units = units
        self.epochs = epochs
        self.methods = [m.lower() for m in as_names(methods, "methods")]
        for method in self.methods:
            if method not in available():
                raise unknown_choice("method", method, available())
        self.seeds = parse_ints(seeds, "seeds")
        self.budget = check_budget(budget)
        if T is not None and (isinstance(T, bool) or int(T) < 1):
            raise ConfigError(f"T (time steps of exposure) must be >= 1, got {T!r}")
        self.T = None if T is None else int(T)
        if spacing not in SPACINGS:
            raise unknown_choice("spacing", spacing, SPACINGS)
        self.spacing = spacing
        self.store = Path(store)
        if self.store.exists() and not self.store.is_dir():
            raise ConfigError(f"the store {self.store} is a file; a result store is a folder: pick another --store path")
        self.keep_indices = bool(keep_indices)
        self.max_networks = int(max_networks)
        self._cells: Optional[List[Cell]] = None

    def __repr__(self) -> str:
        return (
            f"Sweep(network={self.source.name!r}, layers={self.layers}, methods={self.methods}, seeds={self.seeds}, "
            f"budget={self.budget}, cells={len(self.cells())}, store={str(self.store)!r})"
        )

    # ------------------------------------------------------------ definition
    def cells(self) -> List[Cell]:
        """Every cell, checkpoint by checkpoint (so each worker reuses the network it loaded)."""
        if self._cells is None:
            layer_units = self.source.layer_units()
            for layer in self.layers:
                if layer not in layer_units:
                    raise unknown_choice("layer", layer, [f"{name} ({count} units)" for name, count in layer_units.items()])
            epochs = parse_ints(self.epochs, "epochs", valid=self.source.epochs())
            missing = [e for e in epochs if e not in self.source.epochs()]
            if missing:
                saved = self.source.epochs()
                raise ConfigError(f"no checkpoint for epochs {missing} of {self.source.name!r}; saved epochs are {_span(saved)}")
            units = {layer: self._units_of(layer, layer_units[layer]) for layer in self.layers}
            T = self.T or self.source.default_T()
            self._cells = [
                Cell(self.source.name, epoch, layer, unit, method, seed, self.budget, T, self.spacing)
                for epoch in epochs
                for layer in self.layers
                for unit in units[layer]
                for method in self.methods
                for seed in self.seeds
            ]
        return list(self._cells)

    def _units_of(self, layer: str, count: int) -> List[int]:
        units = self.units.get(layer, "all") if isinstance(self.units, dict) else self.units
        chosen = parse_ints(units, f"units of {layer}", valid=range(count))
        bad = [u for u in chosen if not 0 <= u < count]
        if bad:
            raise ConfigError(f"units {bad} are out of range for layer {layer!r}: valid units are 0..{count - 1}")
        return chosen

    def to_dict(self) -> dict:
        """Plain-JSON definition (stored with each run; ``Sweep.from_dict`` rebuilds it)."""
        return {
            "network": self.source.name,
            "layers": self.layers,
            "units": self.units if isinstance(self.units, (str, dict)) else parse_ints(self.units, "units"),
            "epochs": self.epochs if isinstance(self.epochs, str) else parse_ints(self.epochs, "epochs"),
            "methods": self.methods,
            "seeds": self.seeds,
            "budget": self.budget,
            "T": self.T,
            "spacing": self.spacing,
            "store": str(self.store),
            "keep_indices": self.keep_indices,
            "cells": len(self.cells()),
        }

    @classmethod
    def from_dict(cls, spec: dict, **overrides) -> Sweep:
        """The sweep a :meth:`to_dict` describes (``overrides`` replace entries, e.g. ``store=``)."""
        spec = {**spec, **overrides}
        spec.pop("cells", None)
        return cls(**spec)

    @classmethod
    def resume(cls, store: Union[str, Path], **overrides) -> Sweep:
        """The latest sweep run on ``store``, to run again (finished cells are skipped); ``overrides``
        replace entries (e.g. ``network=`` the model source object of a sweep on your own models)."""
        spec = ResultStore(store, create=False).last_spec()
        if spec is None:
            raise ConfigError(f"the store {store} has no recorded sweep to resume; give the sweep's layers, units, ... again")
        if spec.get("kind") == "plan":
            raise ConfigError(f"the store {store} was last written by a plan ({spec.get('study', 'not a sweep')}); "
                              "resume it with the command that made it (e.g. `mango reproduce --resume`)")
        return cls.from_dict(spec, store=store, **overrides)

    def pending(self, retry_failed: bool = False) -> List[Cell]:
        """The cells a run would compute now: not done yet (and not failed, unless ``retry_failed``)."""
        if not (self.store / DATABASE).exists():  # nothing stored yet (and a dry run creates nothing)
            return self.cells()
        store = ResultStore(self.store, create=False)
        skip = store.done_keys() if retry_failed else store.keys()
        return [cell for cell in self.cells() if cell.key not in skip]

    def results(self, status: Optional[str] = None, **equal):
        """This sweep's store as a DataFrame."""
        return ResultStore(self.store, create=False).to_dataframe(status=status, **equal)

    # --------------------------------------------------------------- running
    def run(self, client=None, workers: Optional[int] = None, progress="auto", retry_failed: bool = False,
            callbacks: Iterable[Callable[[SweepEvent], None]] = (), dashboard_address: Optional[str] = DEFAULT_DASHBOARD) -> SweepReport:
        """Run the pending cells and wait; returns a :class:`SweepReport` (Ctrl-C stops, keeping what finished).

        ``client``: None starts a local Dask cluster with ``workers`` single-threaded worker
        processes (default: one per core); a ``distributed.Client`` or a scheduler address runs on
        that cluster; ``"inline"`` runs here, without Dask. ``progress``: "auto" (widget in
        Jupyter, else a progress bar), "bar", "widget", None, or a callable taking events.
        ``dashboard_address``: where the dashboard of a cluster started here listens (default: this
        machine only, a free port; None: no dashboard); its scheduler and workers listen on 127.0.0.1.
        """
        return self._make_run(client, workers, progress, retry_failed, callbacks, dashboard_address).run()

    def start(self, client=None, workers: Optional[int] = None, progress="auto", retry_failed: bool = False,
              callbacks: Iterable[Callable[[SweepEvent], None]] = (),
              dashboard_address: Optional[str] = DEFAULT_DASHBOARD) -> SweepRun:
        """Like :meth:`run` but in a background thread; returns the :class:`SweepRun` (``wait``, ``stop``)."""
        return self._make_run(client, workers, progress, retry_failed, callbacks, dashboard_address).start()

    def _make_run(self, client, workers, progress, retry_failed, callbacks, dashboard_address) -> SweepRun:
        return make_run(self, client, workers, progress, retry_failed, callbacks, dashboard_address)

    # what the runner asks of a sweep or a plan
    describe = False

    def source_for(self, cell: Cell):
        """The model source of a cell (one for the whole sweep)."""
        return self.source

    def dependencies(self) -> Dict[str, str]:
        """A sweep's cells are independent (a Plan's warm cells are not)."""
        return {}


def _span(numbers: Sequence[int]) -> str:
    numbers = list(numbers)
    return f"{numbers[0]}..{numbers[-1]}" if numbers == list(range(numbers[0], numbers[-1] + 1)) else str(numbers)
