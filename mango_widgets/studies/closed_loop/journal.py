"""An append-only JSON-lines journal, flushed to disk (fsync) after every record.

A closed-loop session writes every shown batch and every response here before it acts on
them, so a crash loses nothing that was acknowledged. A record cut short by a crash can
only be the last line; reading skips it (it was never acknowledged to the caller).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional, Union

from mango_widgets.errors import MangoError
from mango_widgets.records.folder_lock import FolderLock
from mango_widgets.records.run_folder import check_writable_folder

JOURNAL_NAME = "journal.jsonl"
LOCK_NAME = ".journal.lock"


class JournalError(MangoError, RuntimeError):
    """A journal that cannot be read or replayed (corrupt line, or a replay that diverges)."""


class Journal:
    """Appends records (plain-JSON dicts) to ``folder/journal.jsonl``; ``None`` keeps them in memory only.

    A journal on disk is written by one session at a time: it holds an OS lock on the folder
    (``.journal.lock``) until :meth:`close`, so a second driver is refused instead of
    interleaving its records (the OS drops the lock if the process dies).
    """

    def __init__(self, folder: Optional[Union[str, Path]]):
        self.folder = None if folder is None else Path(folder)
        self.records: List[dict] = []
        self._file = None
        self._closed = False
        self._lock = None
        if self.folder is not None:
            check_writable_folder(self.folder, what="session folder")
            self._lock = FolderLock(
                self.folder / LOCK_NAME, what="closed-loop session", verb="is being driven by",
                advice="close that session (or stop its driver) first, or use another folder",
            ).acquire()

    @property
    def path(self) -> Optional[Path]:
        return None if self.folder is None else self.folder / JOURNAL_NAME

    def append(self, record: dict) -> None:
        """Write one record and force it to disk before returning."""
        if self._closed:
            raise JournalError(f"the journal in {self.folder} was closed; resume the session to continue it")
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
        if self.folder is not None:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8")
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        self.records.append(record)

    def close(self) -> None:
        """Close the file and let go of the folder (another session may resume it); appending ends."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.release()
        self._closed = self.folder is not None


def journal_exists(folder: Union[str, Path]) -> bool:
    return (Path(folder) / JOURNAL_NAME).is_file()


def read_journal(folder: Union[str, Path]) -> List[dict]:
    """All complete records of ``folder/journal.jsonl``; a torn last line (crash mid-write) is dropped
    and cut from the file, so appending continues on a clean line."""
    path = Path(folder) / JOURNAL_NAME
    if not path.is_file():
        raise JournalError(f"no session journal at {path}; start a new session with this folder instead of resuming")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    records, kept = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            if number == len(lines):  # a torn final write (no trailing newline): never acknowledged
                break
            raise JournalError(f"{path} line {number} is corrupt ({error}); the records before it are intact") from error
        kept.append(line)
    clean = b"".join(line + b"\n" for line in kept)
    if clean != raw:  # drop the torn tail so appending continues on a clean line
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(clean)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    return records
