"""What a closed-loop session writes to its journal, and how a journal is replayed.

The first record holds the session's settings; then one record per hand-out (``ask``/``retest``),
``tell`` and ``expire``, each written before the step is applied. Replaying the records through a
fresh :class:`~mango_widgets.studies.closed_loop.rules.TrialBook` (same method, same seed) rebuilds
the session's state exactly; a hand-out that comes out different is a :class:`JournalError`.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Union

import numpy as np

from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError
from mango_widgets.studies.closed_loop.journal import JournalError, read_journal
from mango_widgets.studies.closed_loop.rules import Stimulus, TrialBook

JOURNAL_VERSION = 1


def batch_record(event: str, made: List[Stimulus], now: float) -> dict:
    """The record of stimuli handed out (``event``: "ask" or "retest")."""
    return {
        "event": event, "batch": made[0].batch, "ids": [s.id for s in made],
        "indices": np.stack([s.index for s in made]).tolist(), "time": now,
    }


def tell_record(ids: Sequence[int], values: np.ndarray, now: float) -> dict:
    """The record of checked responses (NaN, "no response", written as null)."""
    return {"event": "tell", "ids": list(ids), "time": now, "responses": [None if np.isnan(v) else float(v) for v in values]}


def expire_record(ids: Sequence[int], now: float) -> dict:
    return {"event": "expire", "ids": list(ids), "time": now}


def read_session_journal(folder: Union[str, Path], grid: LatentGrid) -> List[dict]:
    """The records of the journal in ``folder``, checked to start with settings this package and ``grid`` fit."""
    records = read_journal(folder)
    if not records or records[0].get("event") != "start":
        raise JournalError(f"the journal in {folder} does not start with the session settings; it cannot be resumed")
    config = records[0]
    if config.get("version") != JOURNAL_VERSION:
        raise JournalError(f"journal version {config.get('version')} is not supported (expected {JOURNAL_VERSION})")
    if grid.to_dict() != config["grid"]:
        raise ConfigError(f"the generator's grid {grid.to_dict()} differs from the session's {config['grid']}")
    return records


def replay(book: TrialBook, records: Sequence[dict]) -> None:
    """Apply the records after the settings to ``book``, checking each hand-out against the journal."""
    for record in records:
        event = record.get("event")
        if event in ("ask", "retest"):
            recorded = np.asarray(record["indices"], dtype=np.int64).reshape(-1, book.history.d)
            made = book.hand_out(len(record["ids"]), record["time"]) if event == "ask" else book.hand_out_retest(recorded, record["time"])
            indices = np.stack([s.index for s in made]) if made else np.zeros((0, book.history.d), dtype=np.int64)
            if [s.id for s in made] != record["ids"] or not np.array_equal(indices, recorded):
                raise JournalError(
                    f"replay diverged at batch {record['batch']}: the optimizer now asks different points than the "
                    "journal records (different package versions or machine?); the journal itself is intact"
                )
        elif event == "tell":
            book.apply_tell(record["ids"], [np.nan if v is None else v for v in record["responses"]])
        elif event == "expire":
            book.apply_expire(record["ids"])
        else:
            raise JournalError(f"unknown journal record {event!r}")
