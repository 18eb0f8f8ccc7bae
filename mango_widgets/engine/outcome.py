"""A finished (or failed) search as a plain, picklable record: what a worker sends back and the store writes.

Only numbers, strings and numpy arrays, so it crosses process boundaries cheaply and never
needs the models; the store turns it into a database row plus files.
"""
from __future__ import annotations

import hashlib
import socket
import time
import traceback
from typing import Optional

import numpy as np


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


def _index_dtype(n: int):
    return np.int8 if n <= np.iinfo(np.int8).max else np.int16 if n <= np.iinfo(np.int16).max else np.int64


def search_outcome(search, model_sha256: Optional[str] = None, generator_sha256: Optional[str] = None,
                   started: Optional[float] = None, keep_indices: bool = True) -> dict:
    """The record of a search that ran: config, summary, history arrays and MEI (also for failed searches).

    ``model_sha256`` / ``generator_sha256`` default to :func:`weights_sha256` of the search's models.
    ``keep_indices=False`` keeps only the value of each query (not its grid index) to save space.
    """
    history, mei, objective = search.history, search.mei, search.objective
    if model_sha256 is None:
        model_sha256 = weights_sha256(objective.network.module)
    if generator_sha256 is None:
        generator_sha256 = weights_sha256(objective.generator.model)
    summary = history.summary()
    error = search.error
    record = {
        "status": "done" if search.state == "finished" and error is None else "failed",
        "error": None if error is None else f"{type(error).__name__}: {error}",
        "traceback": None if error is None else "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        "state": search.state,
        "best": None if mei is None else float(mei.activation),
        "best_query": None if mei is None else int(mei.query),
        "queries": int(search.queries),
        "mei_index": None if mei is None else [int(i) for i in mei.index],
        "mei_latent": None if mei is None else np.asarray(mei.latent, dtype=np.float32),
        "mei_image": None if mei is None or mei.image is None else np.asarray(mei.image, dtype=np.float32),
        "history_values": history.values.astype(np.float64),
        "history_indices": history.indices.astype(_index_dtype(objective.grid.n)) if keep_indices else None,
        "wall_seconds": summary["wall_seconds"],
        "model_seconds": summary["objective_seconds"],
        "optimizer_seconds": summary["optimizer_seconds"],
        "model_sha256": model_sha256,
        "generator_sha256": generator_sha256,
        "config": search.config(),
        "worker": socket.gethostname(),
        "started": time.time() - summary["wall_seconds"] if started is None else float(started),
        "finished": time.time(),
    }
    if search.state == "stopped" and error is None:
        record["error"] = f"stopped after {search.queries} of {search.budget} queries"
    return record


def failure_outcome(error: BaseException, where: str = "") -> dict:
    """The record of a cell whose search could not even start (bad cell, missing weights, a worker that died)."""
    now = time.time()
    return {
        "status": "failed",
        "error": f"{where}{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        "state": "failed",
        "started": now,
        "finished": now,
    }
