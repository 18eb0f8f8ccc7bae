"""Checkpoints over training: check a user's checkpoint series, and describe the MEIs of a sweep store.

The MEIs of neurons over training epochs are computed by the engine (a sweep, or a plan whose warm
cells start from an earlier epoch's MEI; ``mango reproduce`` builds the whole study that way).
This module holds what remains of the retired epoch-tracking engine: :func:`checkpoint_series`
turns a user's per-epoch ``state_dict`` files into ``network_at(epoch)`` (every file checked
against the architecture before any search), and :func:`describe_sweep` adds what the network
makes of each MEI of a sweep store (class probabilities, entropy, complexity) for the analysis
and the epoch explorer. Results of the retired engine are read by :mod:`mango_widgets.studies.legacy`.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Union

import numpy as np

from mango_widgets.analysis.description import describe_mei
from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError
from mango_widgets.models.source import MEMBERS, CheckpointSource, ModelSource, check_source


def check_epochs(epochs: Sequence[int], available: Sequence[int]) -> List[int]:
    """The requested epochs in order, or a clear error naming those without a checkpoint."""
    epochs = sorted({int(e) for e in epochs})
    missing = [e for e in epochs if e not in set(available)]
    if missing:
        raise ConfigError(f"no checkpoint for epoch(s) {missing}; saved epochs are {sorted(available)}")
    if not epochs:
        raise ConfigError("no epochs to track: pass at least one saved epoch")
    return epochs


def checkpoint_series(build: Callable[[], object], checkpoints: Dict[int, str], **network_options) -> Callable[[int], Network]:
    """``network_at(epoch)`` for a user's checkpoints {epoch: state_dict file} (``build()`` makes the nn.Module); every
    file is checked against the architecture before any search runs. See :class:`CheckpointSource` for the full source."""
    source = CheckpointSource.from_files(build, checkpoints, name=network_options.pop("name", ""),
                                         T=network_options.pop("T", 20), **network_options)
    return source.network


def describe_sweep(frame, network_at: Union[ModelSource, Callable[[int], Network]], store=None):
    """A sweep store's DataFrame (``mango_widgets.engine.load_results``) with the columns the
    analysis and the epoch explorer need: class probabilities, top class, entropy and
    compression ratios of each MEI, judged by the network at that cell's epoch and exposure
    (``network_at``: the sweep's model source, or ``epoch -> Network``; descriptions the store
    took as the cells ran are reused). Failed cells are dropped; cells whose unit never fired
    are marked silent (NaN, no MEI)."""
    import pandas as pd

    if all(hasattr(network_at, member) for member in MEMBERS):
        source = check_source(network_at)
        network_for = lambda epoch, T: source.network(epoch, T)  # noqa: E731
    else:
        network_for = lambda epoch, T: network_at(epoch)  # noqa: E731
    done = frame[frame["status"] == "done"].copy()
    networks: Dict[tuple, Network] = {}
    extra = []
    for _, row in done.iterrows():
        if row["best"] is None or not row["best"] > 0 or row["mei_file"] is None:
            extra.append({"status": "silent", "best": float("nan"), "mei_index": None, "probabilities": None,
                          "top_class": -1, "top_probability": float("nan"), "entropy": float("nan"),
                          "jpeg_ratio": float("nan"), "zip_ratio": float("nan")})
            continue
        stored = row.get("description")
        if isinstance(stored, dict) and "error" not in stored:
            extra.append({"status": "done", "best": float(row["best"]), "mei_index": row["mei_index"], **stored})
            continue
        key = (int(row["epoch"]), int(row["T"]))
        if key not in networks:
            networks[key] = network_for(*key)
        with np.load(row["mei_file"]) as data:
            image = data["image"]
        extra.append({"status": "done", "best": float(row["best"]), "mei_index": row["mei_index"],
                      **describe_mei(networks[key], image)})
    described = pd.DataFrame(extra, index=done.index)
    return pd.concat([done.drop(columns=[c for c in [*described.columns, "description"] if c in done.columns]), described], axis=1)
