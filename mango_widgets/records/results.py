"""A results folder: one search's record in open formats, JSON, NPZ and PNG (never pickle).

Layout of a result folder (every file written atomically; ``search.json`` last):
  search.json   the JSON part of the search's record (:mod:`~mango_widgets.records.search_record`)
  history.npz   ``indices`` [Q, d] and ``values`` [Q] of every query
  mei.npz       ``index``, ``latent``, ``image`` [C, H, W] of the MEI
  mei.png       the MEI image
:func:`load_search` gives back the same record a result store gives for a cell; folders written
before the one record (``search.json`` of format 1) are converted as they are read.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError
from mango_widgets.records.atomic import write_json
from mango_widgets.records.search_record import json_part, read_record_arrays, search_record, upgrade, write_record_arrays

#: the files of a results folder that hold its record
RECORD_FILE, HISTORY_FILE, MEI_FILE, MEI_PNG = "search.json", "history.npz", "mei.npz", "mei.png"


def save_search(search: Search, folder: Union[str, Path], model_sha256: Optional[str] = None,
                generator_sha256: Optional[str] = None) -> Path:
    """Write the search's record (JSON part, history, MEI arrays and image) into ``folder`` (created if needed).

    Safe to call while the search runs (from its progress callback): the MEI is then the best
    found so far. Every file is replaced atomically, so a run killed during a save keeps the
    previous complete save; ``search.json`` is written last and names the state of the rest.
    The weights' hashes are computed unless given (pass them when saving the same search often).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = search_record(search, model_sha256=model_sha256, generator_sha256=generator_sha256)
    write_record_arrays(record, folder / HISTORY_FILE, folder / MEI_FILE, folder / MEI_PNG, png_scale=8, empty_history=True)
    write_json(folder / RECORD_FILE, json_part(record))
    return folder


def load_search(folder: Union[str, Path]) -> dict:
    """A results folder's record: its JSON fields (any format, brought to today's) and ``arrays``."""
    folder = Path(folder)
    if not (folder / RECORD_FILE).is_file():
        raise ConfigError(f"no {RECORD_FILE} in {folder}: give a folder written by save_search or `mango search --out`")
    record = upgrade(json.loads((folder / RECORD_FILE).read_text()))
    record["arrays"] = read_record_arrays(folder / HISTORY_FILE, folder / MEI_FILE)
    return record
