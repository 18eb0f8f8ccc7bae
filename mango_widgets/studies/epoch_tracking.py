"""MEIs of chosen neurons at every saved training epoch, each epoch's search warm-started
from the previous epoch's MEI (paper section 4.2, "tracking specializations").

One record per (epoch, layer, unit, method): the search result plus what the network makes of
the MEI (class probabilities, normalised entropy) and its complexity. Records are appended to
JSON-lines files in a folder as they finish (one file per process, so parallel workers never
share a file), so a stopped or crashed run resumes where it ended; images are not stored — the
generator renders them again from the grid index.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np

from mango_widgets.analysis.complexity import compression_ratios
from mango_widgets.analysis.entropy import normalized_entropy
from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.objective import Objective
from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError

#: a record's identity: the same key is never computed twice in one results file
KEY_FIELDS = ("epoch", "layer", "unit", "method", "seed", "budget")


def record_key(record: dict) -> tuple:
    return tuple(record[f] if f != "unit" else int(record[f]) for f in KEY_FIELDS)


def describe_mei(network: Network, image) -> dict:
    """What the network makes of an MEI image [C, H, W]: class probabilities, top class,
    normalised entropy; and the image's JPEG/ZIP compression ratios."""
    import torch

    tensor = torch.as_tensor(np.asarray(image, dtype=np.float32))[None]
    probabilities = network.class_probabilities(tensor)[0].double().cpu().numpy()
    return {
        "probabilities": probabilities.round(6).tolist(),
        "top_class": int(np.argmax(probabilities)),
        "top_probability": float(probabilities.max()),
        "entropy": float(normalized_entropy(probabilities)),
        **{f"{kind}_ratio": ratio for kind, ratio in compression_ratios(image).items()},
    }


def check_epochs(epochs: Sequence[int], available: Sequence[int]) -> List[int]:
    """The requested epochs in order, or a clear error naming those without a checkpoint."""
    epochs = sorted({int(e) for e in epochs})
    missing = [e for e in epochs if e not in set(available)]
    if missing:
        raise ConfigError(f"no checkpoint for epoch(s) {missing}; saved epochs are {sorted(available)}")
    if not epochs:
        raise ConfigError("no epochs to track: pass at least one saved epoch")
    return epochs


def checkpoint_series(build: Callable[[], "torch.nn.Module"], checkpoints: Dict[int, str], **network_options) -> Callable[[int], Network]:
    """``network_at(epoch)`` for a user's checkpoints {epoch: state_dict file}; every file is
    checked against the architecture ``build()`` makes before any search runs."""
    from mango_widgets.errors import WeightsError
    from mango_widgets.models.checkpoints import load_state_dict

    if not checkpoints:
        raise ConfigError("no checkpoints given: pass {epoch: path to a state_dict file}")
    for epoch, path in sorted(checkpoints.items()):
        try:
            load_state_dict(build(), path)
        except WeightsError as error:
            raise WeightsError(f"epoch {epoch}: {error}") from error

    base_name = network_options.pop("name", None)

    def network_at(epoch: int) -> Network:
        check_epochs([epoch], list(checkpoints))
        module = load_state_dict(build(), checkpoints[int(epoch)])
        return Network(module, name=f"{base_name or type(module).__name__}@epoch{epoch}", **network_options)

    return network_at


@dataclass
class EpochTracking:
    """Plan and state of an epoch-tracking run; ``run()`` computes what is not yet in ``path``.

    ``network_at(epoch)`` returns the network at a checkpoint; ``targets`` are "layer:unit".
    """

    network_at: Callable[[int], Network]
    generator: Generator
    targets: Sequence[str]
    epochs: Sequence[int]
    methods: Sequence[str] = ("tt", "tt-s", "tt-b")
    budget: int = 500
    seed: int = 0
    warm_start: bool = True
    threads: int = 1
    folder: Optional[Path] = None
    accuracy: Dict[int, float] = field(default_factory=dict)
    records: List[dict] = field(default_factory=list)

    def __post_init__(self):
        if self.budget <= 0:
            raise ConfigError(f"budget must be a positive number of queries, got {self.budget}")
        self.epochs = sorted({int(e) for e in self.epochs})
        if not self.epochs or not self.targets or not self.methods:
            raise ConfigError("epoch tracking needs at least one epoch, one target and one method")
        for target in self.targets:
            if target.startswith("class:") or ":" not in target:
                raise ConfigError(f"epoch tracking follows hidden units given as 'layer:unit', got {target!r}")
        if self.folder is not None:
            self.folder = Path(self.folder)
            self.records = load_folder(self.folder)

    @property
    def path(self) -> Optional[Path]:
        """This process's records file in ``folder``."""
        return None if self.folder is None else self.folder / f"records-{os.getpid()}.jsonl"

    def pending(self) -> int:
        """How many (epoch, target, method) searches are still to run."""
        done = {record_key(r) for r in self.records}
        return sum(1 for e in self.epochs for t in self.targets for m in self.methods
                   if self._key(e, t, m) not in done)

    def _key(self, epoch: int, target: str, method: str) -> tuple:
        layer, unit = target.rsplit(":", 1)
        return (epoch, layer, int(unit), method, self.seed, self.budget)

    def previous_mei(self, epoch: int, target: str, method: str) -> Optional[np.ndarray]:
        """Grid index of the MEI at the latest earlier epoch (None: start cold)."""
        layer, unit = target.rsplit(":", 1)
        earlier = [r for r in self.records if r["layer"] == layer and int(r["unit"]) == int(unit)
                   and r["method"] == method and r["epoch"] < epoch and r["mei_index"] is not None
                   and r["seed"] == self.seed and r["budget"] == self.budget]
        if not earlier:
            return None
        return np.asarray(max(earlier, key=lambda r: r["epoch"])["mei_index"], dtype=np.int64)

    def run(self, on_record: Optional[Callable[[dict], None]] = None, should_stop: Callable[[], bool] = lambda: False) -> "EpochTracking":
        """Compute every missing record, epoch by epoch (one network load per epoch)."""
        done = {record_key(r) for r in self.records}
        for epoch in self.epochs:
            todo = [(t, m) for t in self.targets for m in self.methods if self._key(epoch, t, m) not in done]
            if not todo:
                continue
            network = self.network_at(epoch)
            for target, method in todo:
                if should_stop():
                    return self
                record = self.search_one(network, epoch, target, method)
                self.records.append(record)
                done.add(record_key(record))
                if self.path is not None:
                    append_record(self.path, record)
                if on_record is not None:
                    on_record(record)
        return self

    def search_one(self, network: Network, epoch: int, target: str, method: str) -> dict:
        """One search (warm-started when possible) and its record."""
        objective = Objective(self.generator, network, target)
        search = Search(objective, method, budget=self.budget, seed=self.seed, threads=self.threads)
        start = self.previous_mei(epoch, target, method) if self.warm_start else None
        if start is not None:
            search.optimizer.warm_start_from(start)
        search.run()
        return make_record(search, epoch, method, warm_started=start is not None, accuracy=self.accuracy.get(epoch))


def make_record(search: Search, epoch: int, method: str, warm_started: bool = False, accuracy: Optional[float] = None) -> dict:
    """A plain-JSON record of one finished search; a unit that never fired is marked silent
    (no MEI is invented for a flat objective)."""
    objective = search.objective
    layer, unit = objective.target.layer, int(objective.target.unit)
    values = search.history.values
    silent = len(values) == 0 or float(values.max()) <= 0.0
    record = {
        "epoch": int(epoch), "layer": layer, "unit": unit, "target": str(objective.target), "method": method,
        "seed": search.seed, "budget": search.budget, "T": objective.network.T, "network": objective.network.name,
        "generator": objective.generator.name, "spacing": objective.grid.spacing, "warm_started": bool(warm_started),
        "state": search.state, "status": "silent" if silent else "done", "queries": search.queries,
        "best": float("nan") if silent else float(search.history.best_value),
        "best_query": None if silent else int(search.history.best_query),
        "mei_index": None if silent else search.mei.index.tolist(),
        "curve": np.maximum.accumulate(values)[np.unique(np.linspace(1, len(values), 50).round().astype(int)) - 1].round(5).tolist()
        if len(values) else [],
        "wall_seconds": round(search.history.wall_seconds, 4), "accuracy": accuracy,
    }
    if not silent:
        record.update(describe_mei(objective.network, search.mei.image))
    else:
        record.update({"probabilities": None, "top_class": -1, "top_probability": float("nan"),
                       "entropy": float("nan"), "jpeg_ratio": float("nan"), "zip_ratio": float("nan")})
    return record


def append_record(path: Path, record: dict) -> None:
    """Append one record durably (flushed and fsynced: a kill loses at most the record being written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_records(path) -> List[dict]:
    """Records of a JSON-lines file (or .jsonl.gz); a last line cut by a kill is skipped (that search reruns)."""
    import gzip

    path = Path(path)
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def load_folder(folder) -> List[dict]:
    """Records of every ``records*.jsonl`` (or ``.jsonl.gz``) file in ``folder``, each key once (first wins)."""
    seen, records = set(), []
    for path in sorted(Path(folder).glob("records*.jsonl*")):
        for record in load_records(path):
            if record_key(record) not in seen:
                seen.add(record_key(record))
                records.append(record)
    return records


def records_table(records: Iterable[dict]):
    """Records as a pandas DataFrame (one row per epoch, layer, unit, method)."""
    import pandas as pd

    return pd.DataFrame(list(records))


def queries_to_reach(curve_or_values, level: float) -> Optional[int]:
    """1-based number of queries after which the best-so-far first reaches ``level`` (None: never)."""
    best = np.maximum.accumulate(np.asarray(curve_or_values, dtype=np.float64))
    hits = np.nonzero(best >= level - 1e-12)[0]
    return int(hits[0]) + 1 if len(hits) else None


def warm_start_saving(network_at: Callable[[int], Network], generator: Generator, target: str, epoch: int,
                      start_index, method: str = "tt-b", budget: int = 500, seed: int = 0, threads: int = 1) -> dict:
    """Cold versus warm search at ``epoch`` with the same budget and seed: queries each needs to
    reach the cold search's final activation (the saving a warm start buys)."""
    network = network_at(epoch)
    runs = {}
    for mode in ("cold", "warm"):
        search = Search(Objective(generator, network, target), method, budget=budget, seed=seed, threads=threads)
        if mode == "warm":
            search.optimizer.warm_start_from(np.asarray(start_index))
        runs[mode] = search.run().history.values
    level = float(runs["cold"].max())
    cold_q, warm_q = queries_to_reach(runs["cold"], level), queries_to_reach(runs["warm"], level)
    return {"target": target, "epoch": int(epoch), "method": method, "budget": budget, "seed": seed,
            "cold_best": level, "warm_best": float(runs["warm"].max()),
            "cold_queries": cold_q, "warm_queries": warm_q}


def describe_sweep(frame, network_at: Callable[[int], Network], store=None):
    """A sweep store's DataFrame (``mango_widgets.engine.load_results``) with the columns the
    analysis and the epoch explorer need: class probabilities, top class, entropy and
    compression ratios of each MEI, judged by the network at that cell's epoch. Failed cells
    are dropped; cells whose unit never fired are marked silent (NaN, no MEI)."""
    import pandas as pd

    done = frame[frame["status"] == "done"].copy()
    networks: Dict[int, Network] = {}
    extra = []
    for _, row in done.iterrows():
        if row["best"] is None or not row["best"] > 0 or row["mei_file"] is None:
            extra.append({"status": "silent", "best": float("nan"), "mei_index": None, "probabilities": None,
                          "top_class": -1, "top_probability": float("nan"), "entropy": float("nan"),
                          "jpeg_ratio": float("nan"), "zip_ratio": float("nan")})
            continue
        epoch = int(row["epoch"])
        if epoch not in networks:
            networks[epoch] = network_at(epoch)
        with np.load(row["mei_file"]) as data:
            image = data["image"]
        extra.append({"status": "done", "best": float(row["best"]), "mei_index": row["mei_index"],
                      **describe_mei(networks[epoch], image)})
    described = pd.DataFrame(extra, index=done.index)
    return pd.concat([done.drop(columns=[c for c in described.columns if c in done.columns]), described], axis=1)
