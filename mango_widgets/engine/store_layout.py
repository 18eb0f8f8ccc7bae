"""The layout of a result store: its tables, and what a finished cell becomes (a row and its files).

``cells`` holds one row per cell (unique ``key``); its arrays go to ``.npz`` files and its MEI to a
PNG under ``cells/<network>/epoch<E>/<layer>/unit<U>/``, each written atomically before the row
commits. :class:`~mango_widgets.engine.store.ResultStore` owns the database, the lock and the queries.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Dict, Optional

from mango_widgets.engine.spec import KEY_FIELDS, Cell
from mango_widgets.errors import ConfigError
from mango_widgets.records.search_record import blank_record, write_record_arrays

#: version of the store's layout; a newer store refuses to be written by older code
FORMAT = 1

#: columns of the ``cells`` table (besides ``key``), in order
COLUMNS = (
    "network", "epoch", "layer", "unit", "target", "method", "seed", "budget", "T", "spacing",
    "status", "error", "traceback", "best", "best_query", "queries", "mei_index",
    "wall_seconds", "model_seconds", "optimizer_seconds", "model_sha256", "generator_sha256",
    "config", "history_file", "mei_file", "mei_png", "worker", "run_id", "attempts", "started", "finished",
    "init", "description", "details",
)
#: columns added after format 1 was first written: (name, SQL type and default); older stores get them on first write
ADDED_COLUMNS = (("init", "TEXT NOT NULL DEFAULT 'cold'"), ("description", "TEXT"), ("details", "TEXT"))
#: fields of a search record with no column of their own: kept as JSON in ``details``
DETAILS = ("mei_retest", "repeat_rate", "objective", "summary", "format")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL, finished REAL, state TEXT NOT NULL DEFAULT 'running',
    host TEXT, pid INTEGER, spec TEXT, cells INTEGER, done INTEGER, failed INTEGER
);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    network TEXT NOT NULL, epoch INTEGER NOT NULL, layer TEXT NOT NULL, unit INTEGER NOT NULL,
    target TEXT NOT NULL, method TEXT NOT NULL, seed INTEGER NOT NULL, budget INTEGER NOT NULL,
    T INTEGER NOT NULL, spacing TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error TEXT, traceback TEXT,
    best REAL, best_query INTEGER, queries INTEGER, mei_index TEXT,
    wall_seconds REAL, model_seconds REAL, optimizer_seconds REAL,
    model_sha256 TEXT, generator_sha256 TEXT, config TEXT,
    history_file TEXT, mei_file TEXT, mei_png TEXT,
    worker TEXT, run_id INTEGER REFERENCES runs(run_id), attempts INTEGER NOT NULL DEFAULT 1,
    started REAL, finished REAL NOT NULL,
    init TEXT NOT NULL DEFAULT 'cold', description TEXT, details TEXT
);
CREATE INDEX IF NOT EXISTS cells_by_status ON cells (status);
CREATE INDEX IF NOT EXISTS cells_by_neuron ON cells (network, layer, unit, epoch);
"""


def add_missing_columns(connection: sqlite3.Connection) -> None:
    """Bring a format-1 store written before ``ADDED_COLUMNS`` up to date (the writer holds the lock)."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(cells)")}
    for name, declaration in ADDED_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE cells ADD COLUMN {name} {declaration}")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)) or "_"


def cell_stem(cell: Cell) -> str:
    """Relative path (without suffix) of a cell's files: readable, and unique through a hash of the key."""
    tag = hashlib.sha1(cell.key.encode()).hexdigest()[:8]
    return "/".join([
        "cells", _safe(cell.network), f"epoch{cell.epoch:04d}", _safe(cell.layer), f"unit{cell.unit:04d}",
        f"{_safe(cell.method)}-seed{cell.seed}-b{cell.budget}-T{cell.T}-{_safe(cell.spacing)}"
        f"{'' if cell.init == 'cold' else '-' + cell.init}-{tag}",
    ])


def write_cell_files(folder: Path, cell: Cell, record: dict) -> Dict[str, Optional[str]]:
    """Write a finished cell's history, MEI arrays and MEI image (each atomically) under ``folder``; their relative paths."""
    stem = cell_stem(cell)
    names = {"history_file": f"{stem}.history.npz", "mei_file": f"{stem}.mei.npz", "mei_png": f"{stem}.png"}
    written = write_record_arrays(record, folder / names["history_file"], folder / names["mei_file"],
                                  folder / names["mei_png"], png_scale=4)
    return {column: name if written[role] is not None else None
            for (column, name), role in zip(names.items(), ("history", "mei", "png"))}


def cell_row(cell: Cell, record: dict, files: dict, run_id: Optional[int]) -> dict:
    """The ``cells`` table row of a finished cell (``record``: a search outcome) whose files are ``files``."""
    config = dict(record.get("config") or {})
    config.update({"epoch": cell.epoch, "model_sha256": record.get("model_sha256"), "generator_sha256": record.get("generator_sha256")})
    if record.get("state") not in (None, "finished"):
        config["state"] = record["state"]
    if record.get("warm_start") is not None:
        config["warm_start"] = record["warm_start"]
    row = {"key": cell.key, **{name: getattr(cell, name) for name in KEY_FIELDS}, "target": cell.target, "init": cell.init}
    row.update({
        "status": record["status"],
        "error": record.get("error"),
        "traceback": record.get("traceback"),
        "best": record.get("best"),
        "best_query": record.get("best_query"),
        "queries": record.get("queries"),
        "mei_index": None if record.get("mei_index") is None else json.dumps([int(i) for i in record["mei_index"]]),
        "wall_seconds": record.get("wall_seconds"),
        "model_seconds": record.get("model_seconds"),
        "optimizer_seconds": record.get("optimizer_seconds"),
        "model_sha256": record.get("model_sha256"),
        "generator_sha256": record.get("generator_sha256"),
        "config": json.dumps(config, default=str),
        **files,
        "worker": record.get("worker"),
        "run_id": run_id,
        "started": record.get("started"),
        "finished": record.get("finished") or time.time(),
        "description": None if record.get("description") is None else json.dumps(record["description"], default=float),
        "details": json.dumps({name: record.get(name) for name in DETAILS}, default=float),
    })
    if row["status"] not in ("done", "failed"):
        raise ConfigError(f"a cell's status is 'done' or 'failed', got {row['status']!r}")
    return row


#: keys ``cell_row`` adds to a row's ``config`` besides the search's own (``record_from_row`` takes them out again)
ADDED_TO_CONFIG = ("epoch", "model_sha256", "generator_sha256", "state", "warm_start")


def record_from_row(row: dict) -> dict:
    """The search record's JSON fields of a ``cells`` row (as :func:`cell_row` stored them; any store of format 1)."""
    config = json.loads(row["config"]) if isinstance(row.get("config"), str) else {}
    details = json.loads(row["details"]) if isinstance(row.get("details"), str) else {}
    record = blank_record()
    del record["arrays"]
    record.update({name: row.get(name) for name in record if name in row and name not in ("config", "description")})
    record.update({name: details.get(name) for name in DETAILS if name != "format"})
    record.update({
        "state": config.get("state", "finished" if row["status"] == "done" else None),
        "mei_index": None if row.get("mei_index") is None else json.loads(row["mei_index"]),
        "warm_start": config.get("warm_start"),
        "description": None if row.get("description") is None else json.loads(row["description"]),
        "config": {name: value for name, value in config.items() if name not in ADDED_TO_CONFIG},
    })
    return record
