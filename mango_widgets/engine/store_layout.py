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

import numpy as np

from mango_widgets.engine.spec import KEY_FIELDS, Cell
from mango_widgets.errors import ConfigError
from mango_widgets.records.atomic import write_npz, write_png

#: version of the store's layout; a newer store refuses to be written by older code
FORMAT = 1

#: columns of the ``cells`` table (besides ``key``), in order
COLUMNS = (
    "network", "epoch", "layer", "unit", "target", "method", "seed", "budget", "T", "spacing",
    "status", "error", "traceback", "best", "best_query", "queries", "mei_index",
    "wall_seconds", "model_seconds", "optimizer_seconds", "model_sha256", "generator_sha256",
    "config", "history_file", "mei_file", "mei_png", "worker", "run_id", "attempts", "started", "finished",
    "init", "description",
)
#: columns added after format 1 was first written: (name, SQL type and default); older stores get them on first write
ADDED_COLUMNS = (("init", "TEXT NOT NULL DEFAULT 'cold'"), ("description", "TEXT"))

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
    init TEXT NOT NULL DEFAULT 'cold', description TEXT
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
    files: Dict[str, Optional[str]] = {"history_file": None, "mei_file": None, "mei_png": None}
    values = record.get("history_values")
    if values is not None and len(values):
        files["history_file"] = f"{stem}.history.npz"
        write_npz(folder / files["history_file"], values=values, indices=record.get("history_indices"))
    if record.get("mei_index") is not None:
        files["mei_file"] = f"{stem}.mei.npz"
        write_npz(
            folder / files["mei_file"],
            index=np.asarray(record["mei_index"], dtype=np.int64), latent=record.get("mei_latent"), image=record.get("mei_image"),
        )
    if record.get("mei_image") is not None:
        files["mei_png"] = f"{stem}.png"
        write_png(folder / files["mei_png"], record["mei_image"], scale=4)
    return files


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
    })
    if row["status"] not in ("done", "failed"):
        raise ConfigError(f"a cell's status is 'done' or 'failed', got {row['status']!r}")
    return row
