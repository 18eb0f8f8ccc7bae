"""Sweeps: MEIs of many neurons x checkpoints x methods x seeds on Dask, into a crash-safe result store.

    from mango_widgets.engine import Sweep, load_results
    report = Sweep(layers=["lif1", "lif2"], units="0-7", epochs=[1, 6, 12], methods=["tt-b", "tt-s", "tt"],
                   budget=2000, store="results/sweep").run()      # local Dask cluster, one worker per core
    frame = load_results("results/sweep")                         # pandas DataFrame, one row per cell

Rerunning skips finished cells; ``ResultStore`` lets other code write searches into the same format.
Needs the ``dask`` extra (dask[distributed]) except with ``client="inline"``.
"""
from mango_widgets.engine.plan import Plan
from mango_widgets.engine.runner import INLINE, Leader, SweepEvent, SweepReport, SweepRun, default_workers
from mango_widgets.engine.spec import Cell, DemoModels, model_source
from mango_widgets.engine.store import ResultStore, load_results
from mango_widgets.engine.sweep import Sweep
from mango_widgets.records.search_record import search_record, weights_sha256

__all__ = [
    "INLINE", "Cell", "DemoModels", "Leader", "Plan", "ResultStore", "Sweep", "SweepEvent", "SweepReport", "SweepRun",
    "default_workers", "load_results", "model_source", "search_record", "weights_sha256",
]
