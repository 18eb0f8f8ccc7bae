"""The result store: one SQLite database of cells plus open-format files, safe to kill at any moment.

Layout of a store folder::

  results.sqlite          table ``cells`` (one row per cell, unique ``key``), ``runs``, ``meta``
  cells/<network>/epoch<E>/<layer>/unit<U>/<method>-seed<S>-b<B>-T<T>-<spacing>-<hash>.{history.npz,mei.npz,png}

Why SQLite: it ships with Python, every language and tool opens it (``sqlite3``, pandas,
DuckDB, DB Browser), a transaction is all-or-nothing even under ``kill -9``, and in WAL mode
a notebook can read while a sweep writes. Arrays go to ``.npz`` files (numpy, or any zip +
``.npy`` reader) and MEIs to PNGs, so thousands of images stay browsable.

A cell is *done* exactly when its row commits. Its files are written first, under a temporary
name, flushed and renamed into place, so a crash leaves at worst a complete file with no row
(overwritten by the rerun), never a row pointing at a partial file. One process writes at a
time (an exclusive lock on ``.writer.lock``, released by the OS even on ``kill -9``); a done
row is never replaced, so resuming cannot duplicate or overwrite a finished cell. Failed cells
keep their error and traceback and are replaced when retried. The tables, a cell's row and its
files are laid out in :mod:`~mango_widgets.engine.store_layout`.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Dict, Optional, Set, Union

import numpy as np

from mango_widgets.engine.spec import Cell
from mango_widgets.engine.store_layout import (
    COLUMNS,
    FORMAT,
    SCHEMA,
    add_missing_columns,
    cell_row,
    record_from_row,
    write_cell_files,
)
from mango_widgets.errors import ConfigError
from mango_widgets.records.folder_lock import FolderLock
from mango_widgets.records.run_folder import check_writable_folder
from mango_widgets.records.search_record import failure_record, read_record_arrays, search_record

#: the database file of a store folder, and the lock file its one writer holds
DATABASE = "results.sqlite"
LOCK_FILE = ".writer.lock"


class ResultStore:
    """A folder of sweep results: ``put`` finished searches, ask what is done, load a DataFrame.

    Reading is always allowed (also while a sweep writes); the first write takes the store's
    writer lock until :meth:`close`. ``create=False`` refuses to make a new store.
    """

    def __init__(self, path: Union[str, Path], create: bool = True):
        self.path = Path(path)
        self.database = self.path / DATABASE
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file; a result store is a folder: pick another path")
        if not self.database.exists():
            if not create:
                raise ConfigError(f"no result store at {self.path} (no {DATABASE}); check the path or run a sweep there first")
            check_writable_folder(self.path, what="result store folder")
        self._lock = threading.RLock()
        self._writer: Optional[sqlite3.Connection] = None
        self._writer_lock = FolderLock(
            self.path / LOCK_FILE, what="result store", verb="is being written by",
            advice="wait for that sweep to end (or stop it), close other ResultStore objects on it, or use another store folder",
        )
        with self._lock:
            self._initialise()

    def __repr__(self) -> str:
        counts = self.counts()
        return f"ResultStore({str(self.path)!r}, done={counts.get('done', 0)}, failed={counts.get('failed', 0)})"

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ connections
    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.database, timeout=60, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout = 60000")
        return connection

    def _initialise(self) -> None:
        try:
            self._create_or_check()
        except sqlite3.DatabaseError as error:
            raise ConfigError(
                f"{self.database} is not a result store database ({error}): it is damaged or another file. Move it "
                "away (its cells' files stay in cells/) and run the sweep again to recompute, or restore it from a backup"
            ) from None

    def _create_or_check(self) -> None:
        connection = self._connect()
        try:
            exists = connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='cells'").fetchone()
            if not exists:
                self._writer_lock.acquire()
                connection.execute("PRAGMA journal_mode = WAL")  # readers and the writer do not block each other
                connection.execute("BEGIN IMMEDIATE")
                for statement in filter(None, (s.strip() for s in SCHEMA.split(";"))):
                    connection.execute(statement)
                connection.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (str(FORMAT),))
                connection.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (str(time.time()),))
                connection.execute("COMMIT")
                self._writer_lock.release()
            row = connection.execute("SELECT value FROM meta WHERE name='format'").fetchone()
            if row is None or int(row[0]) > FORMAT:
                raise ConfigError(
                    f"the result store {self.path} has format {row and row[0]}, newer than this mango_widgets "
                    f"understands ({FORMAT}); upgrade mango_widgets to read it"
                )
        finally:
            connection.close()

    def _write_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer_lock.acquire()
            connection = self._connect()
            connection.execute("PRAGMA synchronous = FULL")  # a committed cell survives even a power cut
            add_missing_columns(connection)
            self._writer = connection
        return self._writer

    def close(self) -> None:
        """Let go of the writer connection and lock (reading needs neither)."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            self._writer_lock.release()

    # ------------------------------------------------------------------ runs
    def begin_run(self, spec: dict) -> int:
        """Record the start of a sweep run (its definition as JSON); returns its id."""
        import socket

        with self._lock:
            connection = self._write_connection()
            # we hold the writer lock, so a run still marked 'running' died without ending (killed, crashed)
            connection.execute("UPDATE runs SET state = 'interrupted' WHERE state = 'running'")
            cursor = connection.execute(
                "INSERT INTO runs (started, host, pid, spec, cells) VALUES (?, ?, ?, ?, ?)",
                (time.time(), socket.gethostname(), os.getpid(), json.dumps(spec), spec.get("cells")),
            )
            return int(cursor.lastrowid)

    def end_run(self, run_id: int, state: str, done: int, failed: int) -> None:
        with self._lock:
            self._write_connection().execute(
                "UPDATE runs SET finished = ?, state = ?, done = ?, failed = ? WHERE run_id = ?",
                (time.time(), state, int(done), int(failed), int(run_id)),
            )

    def runs(self):
        """Every sweep run on this store as a DataFrame (spec parsed from JSON)."""
        import pandas as pd

        with self._read() as connection:
            frame = pd.read_sql_query("SELECT * FROM runs ORDER BY run_id", connection)
        frame["spec"] = [json.loads(s) if s else None for s in frame["spec"]]
        return frame

    def last_spec(self) -> Optional[dict]:
        """The definition of the latest sweep run on this store (for ``mango sweep --resume``)."""
        with self._read() as connection:
            row = connection.execute("SELECT spec FROM runs WHERE spec IS NOT NULL ORDER BY run_id DESC LIMIT 1").fetchone()
        return None if row is None else json.loads(row[0])

    # --------------------------------------------------------------- writing
    def put(self, cell: Union[Cell, dict], result, run_id: Optional[int] = None) -> bool:
        """Write one finished cell: ``result`` is a :class:`~mango_widgets.Search` or a record from
        :func:`~mango_widgets.records.search_record.search_record`. Returns False (and writes nothing) if the
        cell is already done; a failed row is replaced (a retry)."""
        cell = cell if isinstance(cell, Cell) else Cell.from_dict(cell)
        record = result if isinstance(result, dict) else search_record(result)
        if record.get("status") == "running":
            raise ConfigError(f"the search for {cell.key} is still running; put it in the store once it has ended "
                              "(after search.run() returns, or search.wait())")
        with self._lock:
            connection = self._write_connection()
            if self._status(connection, cell.key) == "done":
                return False
            files = write_cell_files(self.path, cell, record)
            row = cell_row(cell, record, files, run_id)
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "key")
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    f"INSERT INTO cells ({names}) VALUES ({marks}) ON CONFLICT(key) DO UPDATE SET {updates}, "
                    "attempts = cells.attempts + 1 WHERE cells.status != 'done'",
                    tuple(row.values()),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return True

    def put_failure(self, cell: Union[Cell, dict], error: Union[BaseException, dict], run_id: Optional[int] = None) -> bool:
        """Record that a cell failed before its search could report (e.g. its worker died)."""
        return self.put(cell, error if isinstance(error, dict) else failure_record(error), run_id=run_id)

    @staticmethod
    def _status(connection: sqlite3.Connection, key: str) -> Optional[str]:
        row = connection.execute("SELECT status FROM cells WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # --------------------------------------------------------------- reading
    def _read(self) -> _Reader:
        return _Reader(self)

    def keys(self, status: Optional[str] = None) -> Set[str]:
        """Keys of the cells in the store (``status``: 'done' or 'failed' to filter)."""
        with self._read() as connection:
            if status is None:
                rows = connection.execute("SELECT key FROM cells")
            else:
                rows = connection.execute("SELECT key FROM cells WHERE status = ?", (status,))
            return {row[0] for row in rows}

    def done_keys(self) -> Set[str]:
        return self.keys("done")

    def failed_keys(self) -> Set[str]:
        return self.keys("failed")

    def counts(self) -> Dict[str, int]:
        """Number of cells by status."""
        with self._read() as connection:
            return dict(connection.execute("SELECT status, COUNT(*) FROM cells GROUP BY status").fetchall())

    def integrity(self) -> str:
        """SQLite's own ``PRAGMA integrity_check`` ('ok' when the database is sound)."""
        with self._read() as connection:
            return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))

    def to_dataframe(self, status: Optional[str] = None, **equal):
        """The store's cells as a pandas DataFrame, one row per cell; filter with ``status=`` and
        column values (``layer="lif3"``, ``method="tt-b"``). ``mei_index`` is a list, ``config`` a dict,
        file columns are absolute paths, ``finished_at`` a timestamp."""
        import pandas as pd

        conditions, values = [], []
        for name, value in {**({"status": status} if status else {}), **equal}.items():
            if name not in COLUMNS and name != "key":
                raise ConfigError(f"cannot filter on {name!r}; columns are: key, {', '.join(COLUMNS)}")
            conditions.append(f"{name} = ?")
            values.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        with self._read() as connection:
            frame = pd.read_sql_query(
                f"SELECT * FROM cells{where} ORDER BY network, epoch, layer, unit, method, seed, budget, T, spacing",
                connection, params=values,
            )
        frame["mei_index"] = [json.loads(v) if isinstance(v, str) else None for v in frame["mei_index"]]
        frame["config"] = [json.loads(v) if isinstance(v, str) else None for v in frame["config"]]
        if "init" not in frame:  # a store written before warm-start plans existed
            frame["init"] = "cold"
        for column in ("description", "details"):  # stores written before these columns lack them
            frame[column] = [json.loads(v) if isinstance(v, str) else None for v in frame.get(column, [None] * len(frame))]
        for column in ("history_file", "mei_file", "mei_png"):
            frame[column] = [str(self.path / v) if isinstance(v, str) else None for v in frame[column]]
        frame["finished_at"] = pd.to_datetime(frame["finished"], unit="s")
        return frame

    def start_index(self, key: str) -> Optional[list]:
        """The MEI grid index of a done cell whose unit fired (what a warm start begins from); None otherwise."""
        with self._read() as connection:
            row = connection.execute("SELECT status, best, mei_index FROM cells WHERE key = ?", (key,)).fetchone()
        if row is None or row[0] != "done" or not (row[1] or 0) > 0 or row[2] is None:
            return None
        return json.loads(row[2])

    def record(self, key: str) -> dict:
        """A cell's search record: its JSON fields and ``arrays``, the shape ``load_search`` gives for a results folder."""
        with self._read() as connection:
            connection.row_factory = sqlite3.Row
            row = connection.execute("SELECT * FROM cells WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise ConfigError(f"no cell {key!r} in the store {self.path}")
        row = dict(row)
        record = record_from_row(row)
        record["arrays"] = read_record_arrays(*(None if row[name] is None else self.path / row[name]
                                                for name in ("history_file", "mei_file")))
        return record

    def history(self, key: str) -> Dict[str, np.ndarray]:
        """The recorded queries of a cell: ``values`` [Q] and (if kept) ``indices`` [Q, d]."""
        return self._arrays(key, "history_file")

    def mei(self, key: str) -> Dict[str, np.ndarray]:
        """A cell's MEI: ``index``, ``latent`` and ``image`` [C, H, W]."""
        return self._arrays(key, "mei_file")

    def _arrays(self, key: str, column: str) -> Dict[str, np.ndarray]:
        with self._read() as connection:
            row = connection.execute(f"SELECT {column} FROM cells WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise ConfigError(f"no cell {key!r} in the store {self.path}")
        if row[0] is None:
            return {}
        with np.load(self.path / row[0]) as data:
            return {name: data[name] for name in data.files}


class _Reader:
    """A short-lived reading connection (never blocks the writer in WAL mode)."""

    def __init__(self, store: ResultStore):
        self.store = store
        self.connection: Optional[sqlite3.Connection] = None

    def __enter__(self) -> sqlite3.Connection:
        self.connection = self.store._connect()
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()


def load_results(store: Union[str, Path, ResultStore], status: Optional[str] = None, **equal):
    """A sweep's results as a pandas DataFrame (see :meth:`ResultStore.to_dataframe`)."""
    store = store if isinstance(store, ResultStore) else ResultStore(store, create=False)
    return store.to_dataframe(status=status, **equal)

