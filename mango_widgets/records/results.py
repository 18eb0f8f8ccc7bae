"""Save and load a search's results in open formats: JSON, NPZ and PNG (never pickle).

Layout of a result folder (every file written atomically):
  search.json   configuration, state, error, summary, MEI activation and index
  history.npz   ``indices`` [Q, d] (int16) and ``values`` [Q] of every query
  mei.npz       ``index``, ``latent``, ``image`` [C, H, W] of the MEI
  mei.png       the MEI image
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

import numpy as np

from mango_widgets.core.history import MEI
from mango_widgets.core.search import Search
from mango_widgets.records.atomic import write_json, write_npz, write_png


def image_to_png(image: np.ndarray, path: Path, scale: int = 8) -> None:
    """Write an image [C, H, W] in [0, 1] as a PNG, enlarged ``scale`` times (nearest), atomically."""
    write_png(path, image, scale)


def search_record(search: Search, mei: Optional[MEI]) -> dict:
    """The plain-JSON record of a search (what ``search.json`` holds)."""
    history = search.history
    return {
        "config": search.config(),
        "state": search.state,
        "error": None if search.error is None else f"{type(search.error).__name__}: {search.error}",
        "summary": history.summary(),
        "objective": {"queries": search.objective.queries, "evaluations": search.objective.evaluations},
        "queries": search.queries,
        "repeat_rate": search.optimizer.repeat_rate,  # share of asked points the method had asked before
        "mei": None if mei is None else {
            "activation": mei.activation, "query": mei.query, "index": mei.index.tolist(),
            "retest_mean": mei.retest_mean, "retest_sem": mei.retest_sem, "retest_count": mei.retest_count,
        },
    }


def save_search(search: Search, folder: Union[str, Path]) -> Path:
    """Write the search's config, history and MEI into ``folder`` (created if needed).

    Safe to call while the search runs (from its progress callback): the MEI is then the best
    found so far. Every file is replaced atomically, so a run killed during a save keeps the
    previous complete save; ``search.json`` is written last and names the state of the rest.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history = search.history
    mei = search.mei if search.state not in ("ready", "running") else search.mei_so_far()
    index_dtype = np.int16 if search.objective.grid.n <= np.iinfo(np.int16).max else np.int64
    values = history.values
    indices = history.indices[: len(values)]
    write_npz(folder / "history.npz", indices=indices.astype(index_dtype), values=values)
    if mei is not None:
        arrays = {"index": mei.index, "latent": mei.latent}
        if mei.image is not None:
            arrays["image"] = mei.image
            image_to_png(mei.image, folder / "mei.png")
        write_npz(folder / "mei.npz", **arrays)
    write_json(folder / "search.json", search_record(search, mei))
    return folder


def load_search(folder: Union[str, Path]) -> dict:
    """Read a saved result folder back as plain Python and numpy objects."""
    folder = Path(folder)
    record = json.loads((folder / "search.json").read_text())
    with np.load(folder / "history.npz") as data:
        record["indices"], record["values"] = data["indices"].astype(np.int64), data["values"]
    if (folder / "mei.npz").exists():
        with np.load(folder / "mei.npz") as data:
            record["mei_arrays"] = {key: data[key] for key in data.files}
    return record
