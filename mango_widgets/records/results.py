"""Save and load a search's results in open formats: JSON, NPZ and PNG (never pickle).

Layout of a result folder:
  search.json   configuration, state, error, summary, MEI activation and index
  history.npz   ``indices`` [Q, d] (int16) and ``values`` [Q] of every query
  mei.npz       ``index``, ``latent``, ``image`` [C, H, W] of the MEI
  mei.png       the MEI image
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from mango_widgets.core.search import Search


def image_to_png(image: np.ndarray, path: Path, scale: int = 8) -> None:
    """Write an image [C, H, W] in [0, 1] as a PNG, enlarged ``scale`` times (nearest)."""
    array = np.clip(np.asarray(image), 0, 1)
    array = (array.transpose(1, 2, 0) * 255).round().astype(np.uint8)
    if array.shape[2] == 1:
        array = array[:, :, 0]
    picture = Image.fromarray(array)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    picture.save(path)


def save_search(search: Search, folder: Union[str, Path]) -> Path:
    """Write the search's config, history and MEI into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history, mei = search.history, search.mei
    record = {
        "config": search.config(),
        "state": search.state,
        "error": None if search.error is None else f"{type(search.error).__name__}: {search.error}",
        "summary": history.summary(),
        "objective": {"queries": search.objective.queries, "evaluations": search.objective.evaluations},
        "queries": search.queries,
        "mei": None if mei is None else {
            "activation": mei.activation, "query": mei.query, "index": mei.index.tolist(),
            "retest_mean": mei.retest_mean, "retest_sem": mei.retest_sem, "retest_count": mei.retest_count,
        },
    }
    (folder / "search.json").write_text(json.dumps(record, indent=2))
    index_dtype = np.int16 if search.objective.grid.n <= np.iinfo(np.int16).max else np.int64
    np.savez_compressed(folder / "history.npz", indices=history.indices.astype(index_dtype), values=history.values)
    if mei is not None:
        arrays = {"index": mei.index, "latent": mei.latent}
        if mei.image is not None:
            arrays["image"] = mei.image
            image_to_png(mei.image, folder / "mei.png")
        np.savez_compressed(folder / "mei.npz", **arrays)
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
