"""The Dask worker plugin that gives each worker its own model cache and one torch thread.

Parallelism comes from workers: torch's OpenMP threads of neighbouring workers would only
fight over the cores (measured: 2 threads per search ran 5-30x slower than 1 on a busy
2-core machine, docs/performance.md).
"""
from __future__ import annotations

from typing import Optional

from distributed import WorkerPlugin

from mango_widgets.engine.worker import PLUGIN_NAME, ModelCache


class ModelCachePlugin(WorkerPlugin):
    """Holds a worker's :class:`~.worker.ModelCache`; created afresh on each worker by ``setup``."""

    name = PLUGIN_NAME

    def __init__(self, max_networks: int = 4, torch_threads: int = 1):
        self.max_networks = max_networks
        self.torch_threads = torch_threads
        self.cache: Optional[ModelCache] = None

    def setup(self, worker=None) -> None:
        import torch

        torch.set_num_threads(self.torch_threads)
        self.cache = ModelCache(self.max_networks)

    def teardown(self, worker=None) -> None:
        self.cache = None
