"""Read results of the retired epoch-tracking engine (JSON-lines records) in today's formats.

Before the study ran on the engine, ``mango specializations`` appended one JSON object per search
to ``records*.jsonl`` files (committed as ``benchmarks/results/specializations/records.jsonl.gz``),
each epoch warm-started from the previous epoch's MEI. :func:`read_legacy` turns such files into the
study's record table (:mod:`mango_widgets.studies.reproduction.tables`), and :func:`legacy_to_store`
writes them as cells of a result store (warm searches as ``init="warm"`` cells that name the
previous epoch's cell they started from), so the old study opens in the same tools as a new one.
Nothing is recomputed: the MEIs' class probabilities and compression ratios are the stored ones.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import List, Optional

import numpy as np

from mango_widgets.errors import ConfigError

#: the fields every legacy record has (its identity and result)
LEGACY_FIELDS = ("epoch", "layer", "unit", "method", "seed", "budget", "T", "spacing", "warm_started", "status", "best", "mei_index")


def load_legacy(path) -> List[dict]:
    """Records of a ``.jsonl`` or ``.jsonl.gz`` file; a last line cut by a kill is skipped; each key once (first wins)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no legacy records file at {path}")
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    seen, records = set(), []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        missing = [name for name in LEGACY_FIELDS if name not in record]
        if missing:
            raise ConfigError(f"{path} line {number} is not an epoch-tracking record (it lacks {missing})")
        key = (record["epoch"], record["layer"], int(record["unit"]), record["method"], record["seed"], record["budget"])
        if key not in seen:
            seen.add(key)
            records.append(record)
    return records


def _cell(record: dict, network: str, init: str):
    from mango_widgets.engine.spec import Cell

    return Cell(network, int(record["epoch"]), record["layer"], int(record["unit"]), record["method"], int(record["seed"]),
                int(record["budget"]), int(record["T"]), record.get("spacing", "uniform"), init)


def _key_of(record: dict, network: str) -> str:
    return _cell(record, network, "warm" if record["warm_started"] else "cold").key


def _previous(records: List[dict]) -> dict:
    """For every record, the record of the same neuron, method, seed and budget one stored epoch earlier."""
    by_track = {}
    for record in sorted(records, key=lambda r: r["epoch"]):
        by_track.setdefault((record["layer"], int(record["unit"]), record["method"], record["seed"], record["budget"]), []).append(record)
    previous = {}
    for track in by_track.values():
        for before, after in zip(track, track[1:]):
            previous[id(after)] = before
    return previous


def read_legacy(path, network: str = "demo"):
    """The legacy records as the study's record table (``tables.COLUMNS``; silent units as NaN)."""
    import pandas as pd

    from mango_widgets.studies.reproduction.tables import COLUMNS, DESCRIBED

    records = load_legacy(path)
    previous = _previous(records)
    rows = []
    for record in records:
        init = "warm" if record["warm_started"] else "cold"
        silent = record["status"] == "silent" or record["mei_index"] is None
        before = previous.get(id(record))
        rows.append({
            "key": _cell(record, network, init).key, "network": network, "epoch": int(record["epoch"]), "layer": record["layer"],
            "unit": int(record["unit"]), "method": record["method"], "seed": int(record["seed"]), "budget": int(record["budget"]),
            "T": int(record["T"]), "init": init, "status": "silent" if silent else "done",
            "best": np.nan if silent else float(record["best"]), "best_query": None if silent else record.get("best_query"),
            "queries": int(record["queries"]), "mei_index": None if silent else list(record["mei_index"]),
            **{name: (-1 if name == "top_class" else None if name == "probabilities" else np.nan) if silent else record[name]
               for name in DESCRIBED},
            "warm_from": None if init == "cold" or before is None else _key_of(before, network),
            "started_warm": bool(record["warm_started"]) if init == "warm" else None,
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def legacy_to_store(path, store, network: str = "demo", generator=None) -> int:
    """Write the legacy records into a result store (``store``: a folder or a ResultStore); returns cells written.

    ``generator`` (optional) renders each MEI again so the store also holds its image and PNG."""
    from mango_widgets.engine.store import ResultStore
    from mango_widgets.studies.reproduction.tables import DESCRIBED

    own = not isinstance(store, ResultStore)
    store = ResultStore(store) if own else store
    records = load_legacy(path)
    previous = _previous(records)
    written = 0
    try:
        for record in records:
            init = "warm" if record["warm_started"] else "cold"
            silent = record["status"] == "silent" or record["mei_index"] is None
            before = previous.get(id(record))
            index = None if silent else np.asarray(record["mei_index"], dtype=np.int64)
            image = None if silent or generator is None else generator(index[None])[0].cpu().numpy()
            result = {
                "status": "done", "state": record.get("state", "finished"), "best": None if silent else float(record["best"]),
                "best_query": None if silent else record.get("best_query"), "queries": int(record["queries"]),
                "mei_index": None if silent else index.tolist(),
                "arrays": {"mei_image": image, "mei_latent": None if image is None else generator.grid.to_latent(index[None])[0]},
                "wall_seconds": record.get("wall_seconds"),
                "config": {"method": record["method"], "seed": record["seed"], "budget": record["budget"], "T": record["T"],
                           "network": record.get("network"), "generator": record.get("generator"), "target": record.get("target"),
                           "legacy": {"curve": record.get("curve"), "accuracy": record.get("accuracy"), "source": str(path)}},
                "description": None if silent else {name: record[name] for name in DESCRIBED},
            }
            if init == "warm":
                result["warm_start"] = {"from": None if before is None else _key_of(before, network), "started_warm": True}
            written += bool(store.put(_cell(record, network, init), result))
    finally:
        if own:
            store.close()
    return written


def legacy_warm_pairs(path) -> Optional[object]:
    """The retired study's cold-vs-warm check (``warm_start.jsonl``) as a DataFrame."""
    import pandas as pd

    path = Path(path)
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines() if line.strip()]) if path.is_file() else None
