"""The study's tables: records from the store (or their committed export), warm pairs, neuron tables.

* ``records``: one row per search (cell) with what the network makes of its MEI; silent units
  (no query made them fire) have ``status="silent"`` and NaN activation, class and entropy.
* ``warm_pairs``: per neuron and epoch, the cold search, the warm search started from the
  previous epoch's cold MEI, and the cold control with the summed budget, with the queries each
  needed.
* ``per_seed`` / ``neurons``: the paper's criteria per (layer, unit, epoch, seed), then averaged
  over seeds per (layer, unit, epoch): the unit-level data every interval and test is made from.

The exports (``records.csv.gz``, ``warm_pairs.csv``, ``baseline_*.csv``) are what is committed:
the report can be rebuilt from them without the store.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import numpy as np

from mango_widgets.analysis.selectivity import SelectivityCriteria, selectivity_table

RECORDS = "records.csv.gz"
WARM_PAIRS = "warm_pairs.csv"
BASELINE_EPOCHS = "baseline_epochs.csv"
BASELINE_UNITS = "baseline_units.csv"
DESCRIBED = ("top_class", "top_probability", "entropy", "jpeg_ratio", "zip_ratio", "probabilities")
COLUMNS = ("key", "network", "epoch", "layer", "unit", "method", "seed", "budget", "T", "init", "status", "best",
           "best_query", "queries", "mei_index", *DESCRIBED, "warm_from", "started_warm")


def records_from_store(store):
    """One row per done cell of a :class:`~mango_widgets.engine.store.ResultStore` (failed cells left out)."""
    import pandas as pd

    frame = store.to_dataframe(status="done")
    rows = []
    for row in frame.itertuples(index=False):
        description = row.description if isinstance(row.description, dict) and "error" not in row.description else None
        fired = description is not None and row.best is not None and row.best > 0
        warm = (row.config or {}).get("warm_start") or {}
        rows.append({
            "key": row.key, "network": row.network, "epoch": int(row.epoch), "layer": row.layer, "unit": int(row.unit),
            "method": row.method, "seed": int(row.seed), "budget": int(row.budget), "T": int(row.T), "init": row.init,
            "status": "done" if fired else "silent", "best": float(row.best) if fired else np.nan,
            "best_query": int(row.best_query) if fired else None, "queries": int(row.queries),
            "mei_index": row.mei_index if fired else None,
            **{name: (description[name] if fired else (-1 if name == "top_class" else None if name == "probabilities" else np.nan))
               for name in DESCRIBED},
            "warm_from": warm.get("from"), "started_warm": warm.get("started_warm"),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def export_records(records, path) -> Path:
    """Write records as gzip CSV (grid indices and probabilities as JSON text)."""
    out = records.copy()
    for column in ("mei_index", "probabilities"):
        out[column] = [None if value is None or (isinstance(value, float) and np.isnan(value)) else json.dumps(list(value))
                       for value in out[column]]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
    return path


def read_records(path):
    """Records written by :func:`export_records`."""
    import pandas as pd

    frame = pd.read_csv(path, compression="gzip")
    for column in ("mei_index", "probabilities"):
        frame[column] = [json.loads(v) if isinstance(v, str) else None for v in frame[column]]
    frame["top_class"] = frame["top_class"].fillna(-1).astype(int)
    return frame


def queries_to_reach(values, level: float) -> Optional[int]:
    """1-based number of queries after which the best-so-far first reaches ``level`` (None: never)."""
    best = np.maximum.accumulate(np.asarray(values, dtype=np.float64))
    hits = np.nonzero(best >= level - 1e-12)[0]
    return int(hits[0]) + 1 if len(hits) else None


def warm_pairs(records, history, budget: int, control_factor: int):
    """Per warm cell: its cold twin (same budget), its cold control (``control_factor`` x budget) and the
    queries each needed; ``history(key)`` gives a cell's per-query values."""
    import pandas as pd

    index = {(r.network, r.epoch, r.layer, r.unit, r.method, r.seed, r.budget, r.init): r for r in records.itertuples(index=False)}
    rows = []
    for warm in records[(records["init"] == "warm") & (records["budget"] == budget)].itertuples(index=False):
        neuron = (warm.network, warm.epoch, warm.layer, warm.unit, warm.method, warm.seed)
        cold, control = index.get((*neuron, budget, "cold")), index.get((*neuron, budget * control_factor, "cold"))
        if cold is None or control is None:
            continue
        values = {name: np.asarray(history(cell.key), dtype=float) for name, cell in (("warm", warm), ("cold", cold), ("control", control))}
        finals = {name: float(v.max()) if len(v) else np.nan for name, v in values.items()}
        rows.append({
            "network": warm.network, "epoch": warm.epoch, "layer": warm.layer, "unit": warm.unit, "method": warm.method,
            "seed": warm.seed, "budget": budget, "started_warm": bool(warm.started_warm),
            "cold_best": finals["cold"], "warm_best": finals["warm"], "control_best": finals["control"],
            "cold_queries": queries_to_reach(values["cold"], finals["cold"]),
            "warm_queries_to_cold": queries_to_reach(values["warm"], finals["cold"]),
            "control_queries_to_warm": queries_to_reach(values["control"], finals["warm"]),
        })
    return pd.DataFrame(rows)


def per_seed_selectivity(records, criteria: SelectivityCriteria = SelectivityCriteria()):
    """The paper's criteria per (layer, unit, epoch, seed), from cold records of one network and budget."""
    import pandas as pd

    parts = []
    for seed, group in records.groupby("seed", sort=True):
        verdicts = selectivity_table(group, criteria)
        parts.append(verdicts.assign(seed=int(seed)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def best_rows(records):
    """Per (layer, unit, epoch, seed) the record of the method whose MEI excites the unit most (silent: NaN row)."""
    ranked = records.assign(_rank=records["best"].fillna(-np.inf)).sort_values("_rank", ascending=False, kind="stable")
    keys = ["layer", "unit", "epoch", "seed"]
    return ranked.drop_duplicates(keys).drop(columns="_rank").sort_values(keys).reset_index(drop=True)


def neuron_table(records, criteria: SelectivityCriteria = SelectivityCriteria(), layers: Optional[List[str]] = None):
    """Unit-level data: one row per (layer, unit, epoch), seeds averaged (criteria as shares of seeds).

    Columns: selective, active, confident, stable (shares), activation (best MEI, silent = 0), entropy,
    top_probability, jpeg_ratio, zip_ratio and any ``*_excess`` columns (NaN-means over seeds), depth."""
    verdicts = per_seed_selectivity(records, criteria)
    best = best_rows(records)
    merged = verdicts.merge(best.drop(columns=[c for c in ("method", "selective_class") if c in best]),
                            on=["layer", "unit", "epoch", "seed"], how="left")
    merged["activation"] = merged["best"].fillna(0.0)
    numeric = ["selective", "active", "confident", "stable", "activation", "entropy", "top_probability",
               "jpeg_ratio", "zip_ratio", *[c for c in merged.columns if c.endswith("_excess") or c == "over_random_best"]]
    for column in ("selective", "active", "confident", "stable"):
        merged[column] = merged[column].astype(float)
    table = merged.groupby(["layer", "unit", "epoch"], sort=True)[numeric].mean().reset_index()
    order = layers or list(dict.fromkeys(records["layer"]))
    table["depth"] = table["layer"].map({name: i for i, name in enumerate(order)})
    return table.sort_values(["depth", "unit", "epoch"]).reset_index(drop=True)


def explorer_table(records, network: Optional[str] = None, budget: Optional[int] = None, seed: Optional[int] = None):
    """The table the epoch explorer (``widgets.EpochExplorer``) takes: the cold searches of one network,
    budget and seed (default: the most common network and budget, the first seed), one row per
    (layer, unit, epoch, method)."""
    cold = records[records["init"] == "cold"]
    network = cold["network"].mode().iloc[0] if network is None else network
    cold = cold[cold["network"] == network]
    budget = int(cold["budget"].mode().iloc[0]) if budget is None else int(budget)
    cold = cold[cold["budget"] == budget]
    seed = int(cold["seed"].min()) if seed is None else int(seed)
    return cold[cold["seed"] == seed].reset_index(drop=True)
