"""What runs on a Dask worker: a per-worker model cache and the task that searches one cell.

The cache lives in a :class:`~.plugin.ModelCachePlugin` registered on every worker (never a
module global): each worker builds a network checkpoint or the generator once and reuses it for
every later cell that needs it, keeping the most recently used few (checkpoints of big
networks are large). The plugin also pins torch to one thread per worker: parallelism comes
from workers, and OpenMP threads of neighbouring workers would only fight over the cores.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Optional

import numpy as np

from mango_widgets.engine.spec import Cell
from mango_widgets.records.search_record import failure_record, search_record, weights_sha256

#: name under which the plugin is registered on the workers
PLUGIN_NAME = "mango-model-cache"


class ModelCache:
    """Networks and generators by (source, checkpoint, T) / (source, spacing), least recently used dropped first."""

    def __init__(self, max_networks: int = 4):
        self.max_networks = max(1, int(max_networks))
        self._networks: OrderedDict[tuple, tuple] = OrderedDict()
        self._generators: dict = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many models were built (a test checks that they are reused)

    def network(self, source, epoch: int, T: int):
        """(network, sha256 of its weights) at checkpoint ``epoch``, built on first use."""
        key = (source, int(epoch), int(T))
        with self._lock:
            if key in self._networks:
                self._networks.move_to_end(key)
                return self._networks[key]
            network = source.network(epoch, T)
            entry = (network, weights_sha256(network.module))
            self._networks[key] = entry
            self.loads += 1
            while len(self._networks) > self.max_networks:
                self._networks.popitem(last=False)
            return entry

    def generator(self, source, spacing: str):
        """(generator, sha256 of its weights), built on first use."""
        key = (source, spacing)
        with self._lock:
            if key not in self._generators:
                generator = source.generator(spacing)
                self._generators[key] = (generator, weights_sha256(generator.model))
                self.loads += 1
            return self._generators[key]


def worker_cache() -> ModelCache:
    """The model cache of the Dask worker running this task (registered by the sweep)."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None or plugin.cache is None:
        raise RuntimeError(f"the worker has no {PLUGIN_NAME!r} plugin; run cells through Sweep.run, which registers it")
    return plugin.cache


def run_cell(cell: Cell, source, cache: Optional[ModelCache] = None, keep_indices: bool = True,
             warm_start: Optional[dict] = None, describe: bool = False) -> dict:
    """Search one cell and return its record (:func:`~mango_widgets.records.search_record.search_record`); failures are records too.

    ``warm_start`` ({"from": key, "index": grid index or None}) starts the search from the MEI of the
    cell it depends on (no index: that cell found none, so the search starts cold and says so);
    ``describe`` adds what the network makes of the MEI (class probabilities, entropy, compression).
    """
    from mango_widgets.core.objective import Objective
    from mango_widgets.core.search import Search

    started = time.time()
    try:
        worker = None if cache is not None else _dask_worker_name()
        cache = cache if cache is not None else worker_cache()
        network, model_sha256 = cache.network(source, cell.epoch, cell.T)
        generator, generator_sha256 = cache.generator(source, cell.spacing)
        objective = Objective(generator, network, cell.target)
        search = Search(objective, cell.method, budget=cell.budget, seed=cell.seed, threads=1, every_seconds=None)
        if warm_start is not None and warm_start.get("index") is not None:
            search.optimizer.warm_start_from(np.asarray(warm_start["index"], dtype=np.int64))
    except Exception as error:  # a bad cell (unknown layer, method, missing weights): record it, go on
        return {**failure_record(error), **({"worker": worker} if worker else {})}
    try:
        search.run()
    except Exception:  # the search keeps its history and error; the record says what happened
        pass
    if search.interrupted:  # Ctrl-C / SIGTERM: the sweep stops; this cell is not a failure, it reruns on resume
        raise KeyboardInterrupt(f"interrupted during {cell.key}")
    record = search_record(search, model_sha256, generator_sha256, started=started, keep_indices=keep_indices)
    if warm_start is not None:
        record["warm_start"] = {"from": warm_start.get("from"), "started_warm": warm_start.get("index") is not None}
    if describe and record["status"] == "done" and record["arrays"]["mei_image"] is not None and record["best"] > 0:
        from mango_widgets.analysis.description import describe_mei

        try:
            record["description"] = describe_mei(network, record["arrays"]["mei_image"])
        except Exception as error:  # the search itself is fine: keep it, say why it has no description
            record["description"] = {"error": f"{type(error).__name__}: {error}"}
    if worker:
        record["worker"] = worker
    return record


def _dask_worker_name() -> str:
    """host:port of the Dask worker running this task (what the dashboard shows)."""
    from distributed import get_worker

    return str(get_worker().address).split("://")[-1]
