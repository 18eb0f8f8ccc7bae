"""Track a few neurons over training epochs now, one search at a time, for the epoch tab's "Track live".

The full study runs on the engine (``mango reproduce``); this is its small interactive sibling:
for each epoch (oldest first), unit and method, one cold :class:`~mango_widgets.core.search.Search`
of the network at that epoch, then what the network makes of the MEI
(:func:`~mango_widgets.analysis.description.describe_mei`). Each finished search is appended as one
JSON line to ``folder/live_records.jsonl`` as it ends, and a rerun with the same settings resumes
from that file, so nothing computed is lost when the tab is stopped or the kernel dies.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from mango_widgets.analysis.description import describe_mei
from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.objective import Objective
from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError

RECORDS_FILE = "live_records.jsonl"
#: what identifies a search of the tracking (a record with the same values is not run again)
KEY_FIELDS = ("layer", "unit", "epoch", "method", "seed", "budget")


class LiveTracking:
    """Searches of ``targets`` ("layer:unit") at each of ``epochs`` with each of ``methods``; ``records``
    holds the finished ones (read back from ``folder`` when resuming)."""

    def __init__(self, network_at: Callable[[int], Network], generator: Generator, targets: Sequence[str],
                 epochs: Sequence[int], methods: Sequence[str], budget: int, folder, seed: int = 0, threads: Optional[int] = 1):
        if not targets or not epochs or not methods:
            raise ConfigError("live tracking needs at least one target, one epoch and one method")
        if int(budget) < 1:
            raise ConfigError(f"budget must be a positive number of queries, got {budget}")
        self.network_at, self.generator = network_at, generator
        self.targets, self.epochs, self.methods = list(targets), sorted(int(e) for e in epochs), list(methods)
        self.budget, self.seed, self.threads = int(budget), int(seed), threads
        self.folder = Path(folder)
        self.path = self.folder / RECORDS_FILE
        self.records: List[dict] = self._read()
        self._done = {self._key(r) for r in self.records}

    @staticmethod
    def _key(record: dict) -> tuple:
        return tuple(record[name] for name in KEY_FIELDS)

    def _read(self) -> List[dict]:
        return read_live_records(self.path) if self.path.is_file() else []

    def plan(self) -> List[dict]:
        """Every search of the tracking (epoch by epoch), as key fields."""
        searches = []
        for epoch in self.epochs:
            for target in self.targets:
                layer, _, unit = target.rpartition(":")
                for method in self.methods:
                    searches.append(dict(layer=layer, unit=int(unit), epoch=epoch, method=method, seed=self.seed, budget=self.budget))
        return searches

    def pending(self) -> int:
        """Searches not run yet."""
        return sum(self._key(s) not in self._done for s in self.plan())

    def run(self, on_record: Optional[Callable[[dict], None]] = None, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Run the pending searches in order; each record is saved, then passed to ``on_record``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        networks: Dict[int, Network] = {}
        for spec in self.plan():
            if should_stop():
                return
            if self._key(spec) in self._done:
                continue
            epoch = spec["epoch"]
            if epoch not in networks:
                networks.clear()  # one network in memory at a time
                networks[epoch] = self.network_at(epoch)
            network = networks[epoch]
            target = f"{spec['layer']}:{spec['unit']}"
            search = Search(Objective(self.generator, network, target), spec["method"], budget=self.budget, seed=self.seed,
                            threads=self.threads).run()
            record = dict(spec, target=target, queries=search.queries, state=search.state)
            mei = search.mei
            fired = mei is not None and mei.image is not None and search.history.best_value > 0
            record.update(best=float(search.history.best_value) if fired else float("nan"),
                          mei_index=np.asarray(mei.index).tolist() if fired else None)
            record.update(describe_mei(network, mei.image) if fired else
                          dict(top_class=-1, top_probability=float("nan"), probabilities=None))
            with open(self.path, "a") as out:
                out.write(json.dumps(record) + "\n")
            self.records.append(record)
            self._done.add(self._key(record))
            if on_record is not None:
                on_record(record)


def read_live_records(path) -> List[dict]:
    """The records of a live-tracking file (a last line cut by a kill is skipped)."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def records_table(records: Sequence[dict]):
    """The records as a table with the columns the epoch explorer needs (one row per search)."""
    import pandas as pd

    return pd.DataFrame(list(records))
