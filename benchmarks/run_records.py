"""Run records of the optimizer benchmarks: one JSON object per search, appended to a JSON-lines file.

``leaderboard.py`` and the retired ``optimizers.py`` write them (``search_run_fields`` is what both
keep of a search); the ``summarize_*`` scripts and the resume logic read them back with
``load_runs`` / ``done_keys``. A last line cut by a kill is skipped, so that run is simply redone.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np


def load_runs(path: Path) -> list:
    """Every whole record of a JSON-lines file (none when the file does not exist yet)."""
    records = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a kill
                pass
    return records


def done_keys(path: Path, key: Callable[[dict], str]) -> set:
    """Keys of the runs already in a JSON-lines file (a record the key cannot be made of is redone)."""
    done = set()
    for record in load_runs(path):
        try:
            done.add(key(record))
        except KeyError:
            pass
    return done


def search_run_fields(search, marks: np.ndarray) -> dict:
    """What a run record keeps of a finished search: best value, best-so-far curve at query counts
    ``marks`` (those past the last query are dropped), time split, evaluations and the MEI's index."""
    values = search.history.values
    best = np.maximum.accumulate(values)
    marks = np.asarray(marks, dtype=int)
    marks = marks[marks <= len(values)]
    return {
        "state": search.state,
        "queries": search.queries,
        "best": float(best[-1]),
        "best_query": search.history.best_query,
        "curve_queries": marks.tolist(),
        "curve_best": best[marks - 1].tolist(),
        "model_seconds": search.history.objective_seconds,
        "optimizer_seconds": search.history.optimizer_seconds,
        "wall_seconds": search.history.wall_seconds,
        "evaluations": search.objective.evaluations,
        "mei_index": search.mei.index.tolist(),
    }
