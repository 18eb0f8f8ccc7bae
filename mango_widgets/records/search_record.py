"""The one record of a search: what a results folder, a sweep worker's reply and a result store row all hold.

A record is a dict of plain-JSON fields (:data:`FIELDS`) plus ``record["arrays"]``, the numpy
arrays kept apart (:data:`ARRAYS`), so a folder writes the JSON part as ``search.json`` and a store
as a row, and both write the arrays with :func:`write_record_arrays`. Only numbers, strings and
arrays: it pickles cheaply across processes and never needs the models. Records saved before this
format (``search.json`` of format 1) are read through :func:`convert_format_1`.
"""
from __future__ import annotations

import hashlib
import socket
import time
import traceback
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from mango_widgets.errors import ConfigError
from mango_widgets.records.atomic import write_npz, write_png

#: version of the record's shape (``search.json`` written before it has none: format 1)
RECORD_FORMAT = 2

#: the plain-JSON fields of a record, in order
FIELDS = (
    "format", "status", "state", "error", "traceback", "best", "best_query", "queries", "mei_index", "mei_retest",
    "repeat_rate", "objective", "summary", "wall_seconds", "model_seconds", "optimizer_seconds",
    "model_sha256", "generator_sha256", "config", "worker", "started", "finished",
    "warm_start", "description",  # set by a sweep: the cell it started from, what the network makes of the MEI
)
#: the numpy arrays of a record (``record["arrays"]``): each query's value and grid index, the MEI's latent and image
ARRAYS = ("history_values", "history_indices", "mei_latent", "mei_image")
#: what each file holds: file role -> {name in the file: name in the record} (the MEI's index is a JSON field too)
ARRAY_FILES = {
    "history": {"values": "history_values", "indices": "history_indices"},
    "mei": {"index": "mei_index", "latent": "mei_latent", "image": "mei_image"},
}


def weights_sha256(module) -> Optional[str]:
    """sha256 over a module's state_dict (names, dtypes, shapes, bytes): the weights' identity, whatever file they came from."""
    state_dict = getattr(module, "state_dict", None)
    if state_dict is None:
        return None
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict().items()):
        array = tensor.detach().cpu().contiguous().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
        digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def index_dtype(n: int):
    """The smallest integer type that holds grid indices 0..n-1 (histories of 10^4 x 128 indices stay small)."""
    return np.int8 if n <= np.iinfo(np.int8).max else np.int16 if n <= np.iinfo(np.int16).max else np.int64


def _status(state: Optional[str], error) -> str:
    """A record's status from the search's state and error (an exception, or its text in an old record)."""
    if state in ("ready", "running"):
        return "running"  # a save made while the search runs (a store only takes ended searches)
    return "done" if state == "finished" and error is None else "failed"


def _error_text(error: Optional[BaseException]) -> Optional[str]:
    return None if error is None else f"{type(error).__name__}: {error}"


def _traceback_text(error: Optional[BaseException]) -> Optional[str]:
    return None if error is None else "".join(traceback.format_exception(type(error), error, error.__traceback__))


def search_record(search, model_sha256: Optional[str] = None, generator_sha256: Optional[str] = None,
                  started: Optional[float] = None, keep_indices: bool = True) -> dict:
    """The record of ``search`` (ended, failed, stopped, or still running: then its best so far).

    ``model_sha256`` / ``generator_sha256`` default to :func:`weights_sha256` of the search's models
    (pass them when already known: a sweep worker hashes each checkpoint once). ``keep_indices=False``
    keeps each query's value but not its grid index, to save space.
    """
    history, objective = search.history, search.objective
    mei = search.mei if search.state not in ("ready", "running") else search.mei_so_far()
    summary = history.summary()
    values = history.values.astype(np.float64)
    error = _error_text(search.error)
    if search.state == "stopped" and error is None:
        error = f"stopped after {search.queries} of {search.budget} queries"
    record = {
        "format": RECORD_FORMAT,
        "status": _status(search.state, search.error),
        "state": search.state,
        "error": error,
        "traceback": _traceback_text(search.error),
        "best": None if mei is None else float(mei.activation),
        "best_query": None if mei is None else int(mei.query),
        "queries": int(search.queries),
        "mei_index": None if mei is None else [int(i) for i in mei.index],
        "mei_retest": None if mei is None or not mei.retest_count else {
            "mean": mei.retest_mean, "sem": mei.retest_sem, "count": int(mei.retest_count)},
        "repeat_rate": search.optimizer.repeat_rate,  # share of asked points the method had asked before
        "objective": {"queries": objective.queries, "evaluations": objective.evaluations},
        "summary": summary,
        "wall_seconds": summary["wall_seconds"],
        "model_seconds": summary["objective_seconds"],
        "optimizer_seconds": summary["optimizer_seconds"],
        "model_sha256": weights_sha256(objective.network.module) if model_sha256 is None else model_sha256,
        "generator_sha256": weights_sha256(objective.generator.model) if generator_sha256 is None else generator_sha256,
        "config": search.config(),
        "worker": socket.gethostname(),
        "started": time.time() - summary["wall_seconds"] if started is None else float(started),
        "finished": time.time(),
        "warm_start": None,
        "description": None,
        "arrays": {
            "history_values": values,
            "history_indices": history.indices[: len(values)].astype(index_dtype(objective.grid.n)) if keep_indices else None,
            "mei_latent": None if mei is None else np.asarray(mei.latent, dtype=np.float32),
            "mei_image": None if mei is None or mei.image is None else np.asarray(mei.image, dtype=np.float32),
        },
    }
    return record


def failure_record(error: BaseException, where: str = "") -> dict:
    """The record of a search that could not even start (bad cell, missing weights, a worker that died)."""
    now = time.time()
    record = blank_record()
    record.update({"status": "failed", "state": "failed", "error": f"{where}{_error_text(error)}",
                   "traceback": _traceback_text(error), "started": now, "finished": now})
    return record


def blank_record() -> dict:
    """A record with every field present and empty (None), the format set and no arrays."""
    return {**dict.fromkeys(FIELDS), "format": RECORD_FORMAT, "arrays": dict.fromkeys(ARRAYS)}


def json_part(record: dict) -> dict:
    """The plain-JSON fields of a record (everything but its arrays): what ``search.json`` holds."""
    return {name: value for name, value in record.items() if name != "arrays"}


def convert_format_1(old: dict) -> dict:
    """A ``search.json`` written before the one record (format 1) as today's record fields (no arrays).

    Format 1 held ``config, state, error, summary, objective, queries, repeat_rate`` and
    ``mei: {activation, query, index, retest_mean, retest_sem, retest_count}``; it had no status,
    traceback, timings of its own, weight hashes, worker or times (those become None).
    """
    record = blank_record()
    del record["arrays"]
    mei = old.get("mei") or None
    summary = old.get("summary") or {}
    state, error = old.get("state"), old.get("error")
    record.update({
        "status": _status(state, error),
        "state": state,
        "error": error,
        "best": None if mei is None else mei.get("activation"),
        "best_query": None if mei is None else mei.get("query"),
        "queries": old.get("queries", summary.get("queries")),
        "mei_index": None if mei is None else mei.get("index"),
        "mei_retest": None if mei is None or not mei.get("retest_count") else {
            "mean": mei.get("retest_mean"), "sem": mei.get("retest_sem"), "count": mei.get("retest_count")},
        "repeat_rate": old.get("repeat_rate"),
        "objective": old.get("objective"),
        "summary": old.get("summary"),
        "wall_seconds": summary.get("wall_seconds"),
        "model_seconds": summary.get("objective_seconds"),
        "optimizer_seconds": summary.get("optimizer_seconds"),
        "config": old.get("config"),
    })
    return record


def upgrade(fields: dict) -> dict:
    """Record fields of any known format brought to :data:`RECORD_FORMAT` (format 1 has no ``format`` field)."""
    found = fields.get("format", 1)
    if found == 1:
        return convert_format_1(fields)
    if found == RECORD_FORMAT:
        return {**{name: None for name in FIELDS}, **fields}
    raise ConfigError(f"a search record of format {found!r}; this mango_widgets reads formats 1 to {RECORD_FORMAT}: upgrade mango_widgets")


def write_record_arrays(record: dict, history_path: Path, mei_path: Path, png_path: Path, png_scale: int,
                        empty_history: bool = False) -> Dict[str, Optional[Path]]:
    """Write a record's history and MEI arrays (``.npz``) and its MEI image (PNG), each atomically.

    Returns the path of each file written (None where the record had nothing for it); an empty
    history is written only with ``empty_history=True`` (a folder always names its history file).
    """
    misplaced = [name for name in ARRAYS if name in record]
    if misplaced:  # a record of the shape before the one record: its arrays would be silently left out
        raise ConfigError(f"a search record keeps its arrays under record['arrays'], but {misplaced} are top-level fields: "
                          "move them there (search_record() builds records of this shape)")
    arrays = record.get("arrays") or {}
    written: Dict[str, Optional[Path]] = {"history": None, "mei": None, "png": None}
    values = arrays.get("history_values")
    if values is not None and (len(values) or empty_history):
        indices = arrays.get("history_indices")
        written["history"] = write_npz(history_path, values=values, indices=indices)
    if record.get("mei_index") is not None:
        written["mei"] = write_npz(mei_path, index=np.asarray(record["mei_index"], dtype=np.int64),
                                   latent=arrays.get("mei_latent"), image=arrays.get("mei_image"))
    if arrays.get("mei_image") is not None:
        written["png"] = write_png(png_path, arrays["mei_image"], scale=png_scale)
    return written


def read_record_arrays(history_path: Optional[Path], mei_path: Optional[Path]) -> Dict[str, Optional[np.ndarray]]:
    """A record's arrays read back from its history and MEI files (a missing file gives None entries)."""
    arrays: Dict[str, Optional[np.ndarray]] = dict.fromkeys(ARRAYS)
    for role, path in (("history", history_path), ("mei", mei_path)):
        if path is None or not Path(path).exists():
            continue
        with np.load(path) as data:
            for name_in_file, name in ARRAY_FILES[role].items():
                if name in arrays and name_in_file in data.files:
                    arrays[name] = data[name_in_file]
    if arrays["history_indices"] is not None:
        arrays["history_indices"] = arrays["history_indices"].astype(np.int64)
    return arrays
