"""The retired epoch-tracking records stay readable: converted, they give back the committed tables exactly."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from mango_widgets import ConfigError
from mango_widgets.analysis import summaries
from mango_widgets.analysis.selectivity import SelectivityCriteria
from mango_widgets.engine.store import ResultStore
from mango_widgets.studies.legacy import legacy_to_store, legacy_warm_pairs, load_legacy, read_legacy
from mango_widgets.studies.reproduction.tables import records_from_store

OLD = Path(__file__).parents[1] / "benchmarks" / "results" / "specializations"


@pytest.mark.slow
def test_the_converted_records_reproduce_the_committed_tables():
    records = read_legacy(OLD / "records.jsonl.gz")
    summary = json.loads((OLD / "summary.json").read_text())
    layers = summary["settings"]["layers"]
    assert len(records) == summary["settings"]["searches"] == 2664
    assert set(records["init"]) == {"cold", "warm"} and (records.loc[records["epoch"] == 1, "init"] == "cold").all()
    from mango_widgets.models.bundled import demo_generator

    criteria = SelectivityCriteria()
    recomputed = {
        "selective_fraction": summaries.selective_fraction(records, criteria, "selective", layers),
        "active_fraction": summaries.selective_fraction(records, criteria, "active", layers),
        "mean_activation": summaries.mean_activation(records, layers),
        "track_fractions": summaries.track_fractions(records, criteria, layers),
        "diversity_euclidean": summaries.diversity(records, demo_generator().grid, layers=layers)[0],
        "complexity_zip": summaries.complexity(records, layers=layers)[1],
        "silent": summaries.silent_counts(records).reindex(layers),
    }
    for name, frame in recomputed.items():
        committed = summary["tables"][name]
        for row, values in frame.to_dict(orient="index").items():
            for column, value in values.items():
                assert round(float(value), 4) == pytest.approx(committed[str(row)][str(column)], abs=1e-9), (name, row, column)
    pairs = legacy_warm_pairs(OLD / "warm_start.jsonl")
    assert len(pairs) == summary["warm_start"]["pairs"]
    assert pairs["warm_queries"].notna().sum() == summary["warm_start"]["warm_reached_cold_final"]


def test_legacy_records_become_store_cells_with_their_warm_chain(tmp_path):
    lines = gzip.decompress((OLD / "records.jsonl.gz").read_bytes()).decode().splitlines()
    chosen = [line for line in lines if json.loads(line)["layer"] == "lif4" and json.loads(line)["unit"] in (0, 8)
              and json.loads(line)["epoch"] in (1, 2, 3)]
    path = tmp_path / "records-1.jsonl"
    path.write_text("\n".join(chosen) + '\n{"epoch": 4, "lay')  # and a line cut by a kill
    from mango_widgets.models.bundled import demo_generator

    assert legacy_to_store(path, tmp_path / "store", generator=demo_generator()) == len(chosen)
    assert legacy_to_store(path, tmp_path / "store") == 0  # done cells are never written twice
    store = ResultStore(tmp_path / "store", create=False)
    stored = records_from_store(store).set_index("key").sort_index()
    direct = read_legacy(path).set_index("key").sort_index()
    assert list(stored.index) == list(direct.index)
    for column in ("init", "status", "top_class", "warm_from"):
        assert list(stored[column].fillna("-")) == list(direct[column].fillna("-")), column
    np.testing.assert_allclose(stored["best"], direct["best"])
    np.testing.assert_allclose(stored["entropy"], direct["entropy"])
    warm = direct[direct["init"] == "warm"].iloc[0]
    assert warm["warm_from"] in direct.index and direct.loc[warm["warm_from"], "epoch"] == warm["epoch"] - 1
    fired = store.to_dataframe(status="done").dropna(subset=["mei_png"])
    assert len(fired) and all(Path(p).is_file() for p in fired["mei_png"])


def test_other_files_are_refused(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"epoch": 1}\n')
    with pytest.raises(ConfigError, match="not an epoch-tracking record"):
        load_legacy(tmp_path / "x.jsonl")
    with pytest.raises(ConfigError, match="no legacy records file"):
        load_legacy(tmp_path / "missing.jsonl")
