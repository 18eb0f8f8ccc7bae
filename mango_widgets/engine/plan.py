"""A plan: any list of cells, on one or more model sources, where a cell may depend on another.

A :class:`~.sweep.Sweep` is a product of choices; a study needs more: cold searches, warm
searches that start from the MEI of another cell (a warm start is a *dependency*: the warm
cell runs only after the cell it starts from), controls with other budgets, the same neurons
under another generator. A :class:`Plan` holds such cells in the order given and runs on the
same runner, store and workers as a sweep (inline or on Dask), resumably: a rerun skips the
cells already in the store, and a warm cell whose source cell was stored by an earlier run
takes that cell's MEI from the store.
"""
from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path
from typing import Callable, Deque, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from mango_widgets.engine.cluster import DEFAULT_DASHBOARD
from mango_widgets.engine.spec import Cell, model_source
from mango_widgets.engine.store import DATABASE, ResultStore
from mango_widgets.errors import ConfigError, unknown_choice


class Plan:
    """Cells (with warm-start dependencies) on named model sources, run into one result store.

    ``sources`` maps each cell's ``network`` name to its model source (a name such as ``"demo"``
    or a source object); ``describe=True`` stores with every MEI what the network makes of it
    (class probabilities, entropy, compression). ``spec`` is a plain-JSON description of what the
    plan is for (stored with each run).
    """

    def __init__(self, store: Union[str, Path], sources: Mapping[str, object], keep_indices: bool = True,
                 describe: bool = False, max_networks: int = 4, spec: Optional[dict] = None):
        if not sources:
            raise ConfigError("a plan needs at least one model source: sources={name: source}")
        self.sources = {}
        for name, source in sources.items():
            source = model_source(source)
            if source.name != name:
                raise ConfigError(f"the source given as {name!r} calls itself {source.name!r}; use its name as the key")
            self.sources[name] = source
        self.store = Path(store)
        self.keep_indices = bool(keep_indices)
        self.describe = bool(describe)
        self.max_networks = int(max_networks)
        self.spec = dict(spec or {})
        self._cells: List[Cell] = []
        self._keys: Dict[str, Cell] = {}
        self._after: Dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Plan(cells={len(self._cells)}, warm={len(self._after)}, sources={list(self.sources)}, store={str(self.store)!r})"

    def __len__(self) -> int:
        return len(self._cells)

    # ------------------------------------------------------------ building
    def add(self, cell: Cell, after: Optional[Union[Cell, str]] = None) -> Cell:
        """Append ``cell``; a warm cell names the (earlier) cell whose MEI it starts from in ``after``.

        Adding a cell that is already planned returns it unchanged (plans are built from overlapping parts).
        """
        if cell.network not in self.sources:
            raise unknown_choice("network of a cell", cell.network, self.sources)
        after_key = after.key if isinstance(after, Cell) else after
        if (cell.init == "warm") != (after_key is not None):
            raise ConfigError(f"cell {cell.key}: a warm cell needs after= (the cell it starts from), a cold one must not have it")
        if cell.key in self._keys:
            if self._after.get(cell.key) != after_key:
                raise ConfigError(f"cell {cell.key} was already planned to start from {self._after.get(cell.key)!r}, not {after_key!r}")
            return self._keys[cell.key]
        if after_key is not None:
            if after_key not in self._keys:
                raise ConfigError(f"cell {cell.key} starts from {after_key}, which is not planned before it; add that cell first")
            source_cell = self._keys[after_key]
            if (source_cell.network, source_cell.layer, source_cell.unit) != (cell.network, cell.layer, cell.unit):
                raise ConfigError(f"cell {cell.key} can only start from an MEI of the same neuron, not from {after_key}")
            self._after[cell.key] = after_key
        self._cells.append(cell)
        self._keys[cell.key] = cell
        return cell

    def extend(self, cells: Iterable[Cell]) -> None:
        """Append cold cells."""
        for cell in cells:
            self.add(cell)

    # ------------------------------------------------------ what the runner reads
    def cells(self) -> List[Cell]:
        """Every planned cell, in order."""
        return list(self._cells)

    def dependencies(self) -> Dict[str, str]:
        """Warm cell key -> key of the cell whose MEI it starts from."""
        return dict(self._after)

    def source_for(self, cell: Cell):
        """The model source of a cell (by its network name)."""
        return self.sources[cell.network]

    def to_dict(self) -> dict:
        """Plain-JSON summary stored with each run (the plan itself is rebuilt by whoever made it)."""
        return {"kind": "plan", **self.spec, "sources": sorted(self.sources), "cells": len(self._cells),
                "warm_cells": len(self._after), "store": str(self.store), "keep_indices": self.keep_indices,
                "describe": self.describe}

    def pending(self, retry_failed: bool = False) -> List[Cell]:
        """The cells a run would compute now."""
        if not (self.store / DATABASE).exists():
            return self.cells()
        store = ResultStore(self.store, create=False)
        skip = store.done_keys() if retry_failed else store.keys()
        return [cell for cell in self._cells if cell.key not in skip]

    def results(self, status: Optional[str] = None, **equal):
        """This plan's store as a DataFrame (every cell in it, also those of other plans)."""
        return ResultStore(self.store, create=False).to_dataframe(status=status, **equal)

    # --------------------------------------------------------------- running
    def run(self, client=None, workers: Optional[int] = None, progress="auto", retry_failed: bool = False,
            callbacks: Iterable[Callable] = (), dashboard_address: Optional[str] = DEFAULT_DASHBOARD):
        """Run the pending cells (see :meth:`Sweep.run <mango_widgets.engine.sweep.Sweep.run>` for the arguments)."""
        from mango_widgets.engine.runner import make_run

        return make_run(self, client, workers, progress, retry_failed, callbacks, dashboard_address).run()

    def start(self, client=None, workers: Optional[int] = None, progress="auto", retry_failed: bool = False,
              callbacks: Iterable[Callable] = (), dashboard_address: Optional[str] = DEFAULT_DASHBOARD):
        """Like :meth:`run` in a background thread; returns the run (``wait``, ``stop``, ``report``)."""
        from mango_widgets.engine.runner import make_run

        return make_run(self, client, workers, progress, retry_failed, callbacks, dashboard_address).start()


class ReadyQueue:
    """Cells to compute, handed out only when the cell they start from has finished.

    A warm cell whose source cell is not computed in this run takes the source's MEI from the
    store (``stored_mei(key)``: its grid index, or None when it found none or is not stored).
    """

    def __init__(self, cells: List[Cell], dependencies: Dict[str, str], stored_mei: Callable[[str], Optional[list]]):
        self._stored_mei = stored_mei
        self._ready: Deque[Tuple[Cell, Optional[dict]]] = deque()
        self._waiting: Dict[str, List[Cell]] = defaultdict(list)
        self._dependencies = dependencies
        todo = {cell.key for cell in cells}
        self.remaining = len(cells)
        for cell in cells:
            source = dependencies.get(cell.key)
            if source is not None and source in todo:
                self._waiting[source].append(cell)
            else:
                self._ready.append((cell, self._start(cell, None if source is None else stored_mei(source))))

    def _start(self, cell: Cell, index) -> Optional[dict]:
        source = self._dependencies.get(cell.key)
        return None if source is None else {"from": source, "index": index}

    def pop(self) -> Optional[Tuple[Cell, Optional[dict]]]:
        """The next cell that can run now, with its warm start (None: nothing is ready yet)."""
        if not self._ready:
            return None
        self.remaining -= 1
        return self._ready.popleft()

    def finished(self, cell: Cell, record: dict) -> None:
        """A cell finished: the cells waiting for its MEI become ready (first in line)."""
        fired = record.get("status") == "done" and (record.get("best") or 0) > 0  # a silent unit's "MEI" is arbitrary
        index = record.get("mei_index") if fired else None
        for waiting in reversed(self._waiting.pop(cell.key, [])):
            self._ready.appendleft((waiting, self._start(waiting, index)))

    @property
    def waiting(self) -> int:
        """Cells waiting for the cell they start from."""
        return sum(len(cells) for cells in self._waiting.values())
