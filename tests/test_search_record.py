"""The one search record: a results folder and a result store hold the same record; old folders stay readable."""
import json
import sqlite3

import numpy as np
import pytest

from mango_widgets import ConfigError, Objective, Search
from mango_widgets.engine import Cell, ResultStore
from mango_widgets.records.results import load_search, save_search
from mango_widgets.records.search_record import (
    ARRAYS,
    FIELDS,
    RECORD_FORMAT,
    convert_format_1,
    failure_record,
    search_record,
    upgrade,
    weights_sha256,
)
from tests.failing_searches import search_that_fails_after_one_batch

#: the fields a ``search.json`` held before the one record (format 1), as the old ``search_record`` wrote them
FORMAT_1_FIELDS = ("config", "state", "error", "summary", "objective", "queries", "repeat_rate", "mei")
FORMAT_1_MEI_FIELDS = ("activation", "query", "index", "retest_mean", "retest_sem", "retest_count")


@pytest.fixture(scope="module")
def models(demo_generator, demo_network_at):
    return demo_generator, demo_network_at(epoch=3)


def _cell(**changes):
    values = dict(network="demo", epoch=3, layer="lif1", unit=0, method="random", seed=0, budget=40, T=20, spacing="uniform")
    values.update(changes)
    return Cell(**values)


def _search(models, cell, **options):
    generator, network = models
    return Search(Objective(generator, network, cell.target), cell.method, budget=cell.budget, seed=cell.seed,
                  threads=1, **options).run()


def test_a_record_holds_every_field_and_keeps_its_arrays_apart(models):
    search = _search(models, _cell(), retest=3)
    record = search_record(search)
    assert tuple(name for name in record if name != "arrays") == FIELDS and tuple(record["arrays"]) == ARRAYS
    json.dumps({name: value for name, value in record.items() if name != "arrays"})  # the JSON part is plain JSON
    assert record["format"] == RECORD_FORMAT and record["status"] == "done" and record["state"] == "finished"
    assert record["best"] == search.mei.activation and record["best_query"] == search.mei.query
    assert record["mei_index"] == search.mei.index.tolist() and record["queries"] == 40
    assert record["mei_retest"] == {"mean": search.mei.retest_mean, "sem": search.mei.retest_sem, "count": 3}
    assert record["summary"] == search.history.summary() and record["wall_seconds"] == record["summary"]["wall_seconds"]
    assert record["model_sha256"] == weights_sha256(models[1].module) and record["config"] == search.config()
    np.testing.assert_array_equal(record["arrays"]["history_values"], search.history.values)
    np.testing.assert_array_equal(record["arrays"]["history_indices"], search.history.indices)
    assert record["arrays"]["history_indices"].dtype == np.int8  # 64 grid points fit a byte
    assert search_record(search, keep_indices=False)["arrays"]["history_indices"] is None


def test_a_search_not_yet_ended_is_a_running_record_that_a_store_refuses(tmp_path, models):
    generator, network = models
    search = Search(Objective(generator, network, "lif1:0"), "random", budget=40, threads=1)
    record = search_record(search)
    assert record["status"] == "running" and record["state"] == "ready" and record["best"] is None
    assert len(record["arrays"]["history_values"]) == 0 and record["arrays"]["mei_image"] is None
    with ResultStore(tmp_path / "store") as store:
        with pytest.raises(ConfigError, match="still running; put it in the store once it has ended"):
            store.put(_cell(), search)
        assert store.keys() == set()


def test_a_results_folder_and_a_store_row_give_back_the_same_record(tmp_path, models):
    cell = _cell()
    search = _search(models, cell)
    from_folder = load_search(save_search(search, tmp_path / "folder"))
    with ResultStore(tmp_path / "store") as store:
        store.put(cell, search)
        from_store = store.record(cell.key)
    assert set(from_folder) == set(from_store) == set(FIELDS) | {"arrays"}
    different = {name for name in FIELDS if from_folder[name] != from_store[name]}
    assert different <= {"started", "finished"}, different  # the moment each record was made
    for name in ARRAYS:
        np.testing.assert_array_equal(from_folder["arrays"][name], from_store["arrays"][name])
    assert from_folder["arrays"]["history_indices"].dtype == np.int64  # read back as plain indices
    saved = json.loads((tmp_path / "folder" / "search.json").read_text())
    assert saved == {name: from_folder[name] for name in FIELDS}  # search.json is the record's JSON part


def test_a_failed_search_and_a_search_that_never_started_are_records_too(tmp_path, models):
    generator, network = models
    search = search_that_fails_after_one_batch(generator, network, "lif1:0")
    record = load_search(save_search(search, tmp_path / "failed"))
    assert record["status"] == "failed" and "the rig lost the neuron" in record["error"] and "Traceback" in record["traceback"]
    assert len(record["arrays"]["history_values"]) == 25 == record["queries"]  # the batch before the failure is kept

    never = failure_record(FileNotFoundError("no weights at epoch 9"), where="cell demo/9: ")
    assert set(never) == set(FIELDS) | {"arrays"} and never["status"] == "failed" == never["state"]
    assert never["error"] == "cell demo/9: FileNotFoundError: no weights at epoch 9" and never["best"] is None
    with ResultStore(tmp_path / "store") as store:
        store.put(_cell(), never)
        back = store.record(_cell().key)
        with pytest.raises(ConfigError, match=r"under record\['arrays'\].*'history_values'"):
            store.put(_cell(unit=1), {**never, "history_values": np.zeros(3)})  # arrays outside "arrays" would be lost
        assert store.keys() == {_cell().key}
    assert back["error"] == never["error"] and back["status"] == "failed" and back["arrays"] == dict.fromkeys(ARRAYS)


def _write_format_1_folder(folder, search):
    """A results folder exactly as the code before the one record wrote it (int16 indices, ``mei`` object)."""
    folder.mkdir()
    mei = search.mei
    old = {
        "config": search.config(), "state": search.state, "error": None, "summary": search.history.summary(),
        "objective": {"queries": search.objective.queries, "evaluations": search.objective.evaluations},
        "queries": search.queries, "repeat_rate": search.optimizer.repeat_rate,
        "mei": {"activation": mei.activation, "query": mei.query, "index": mei.index.tolist(),
                "retest_mean": mei.retest_mean, "retest_sem": mei.retest_sem, "retest_count": mei.retest_count},
    }
    assert tuple(old) == FORMAT_1_FIELDS and tuple(old["mei"]) == FORMAT_1_MEI_FIELDS
    (folder / "search.json").write_text(json.dumps(old))
    np.savez_compressed(folder / "history.npz", indices=search.history.indices.astype(np.int16), values=search.history.values)
    np.savez_compressed(folder / "mei.npz", index=mei.index, latent=mei.latent, image=mei.image)
    return old


def test_a_folder_of_the_old_shape_is_read_as_todays_record(tmp_path, models):
    search = _search(models, _cell(), retest=2)
    old = _write_format_1_folder(tmp_path / "old", search)
    record = load_search(tmp_path / "old")
    assert set(record) == set(FIELDS) | {"arrays"} and record["format"] == RECORD_FORMAT
    assert record["status"] == "done" and record["state"] == "finished" and record["error"] is None
    assert record["best"] == old["mei"]["activation"] and record["best_query"] == old["mei"]["query"]
    assert record["mei_index"] == old["mei"]["index"] and record["queries"] == old["queries"] == 40
    assert record["mei_retest"] == {"mean": old["mei"]["retest_mean"], "sem": old["mei"]["retest_sem"], "count": 2}
    assert record["summary"] == old["summary"] and record["objective"] == old["objective"]
    assert record["repeat_rate"] == old["repeat_rate"] and record["config"] == old["config"]
    assert record["model_seconds"] == old["summary"]["objective_seconds"] and record["model_sha256"] is None
    np.testing.assert_array_equal(record["arrays"]["history_indices"], search.history.indices)
    np.testing.assert_array_equal(record["arrays"]["mei_image"], search.mei.image)
    # what the new code writes for the same search agrees on every field the old shape had
    new = search_record(search)
    assert {name: record[name] for name in ("best", "best_query", "mei_index", "mei_retest", "summary", "config")} == \
           {name: new[name] for name in ("best", "best_query", "mei_index", "mei_retest", "summary", "config")}


def test_old_records_of_unfinished_and_failed_searches_convert(tmp_path):
    running = convert_format_1({"state": "running", "error": None, "queries": 5, "mei": None, "summary": {"queries": 5}})
    assert running["status"] == "running" and running["best"] is None and running["mei_index"] is None
    failed = convert_format_1({"state": "failed", "error": "RuntimeError: boom", "queries": 0, "mei": None})
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: boom" and failed["wall_seconds"] is None
    with pytest.raises(ConfigError, match="format 7.*upgrade mango_widgets"):
        upgrade({"format": 7})
    with pytest.raises(ConfigError, match="no search.json"):
        load_search(tmp_path)


def test_a_store_written_before_the_details_column_still_reads_and_gains_it(tmp_path, models):
    cell = _cell()
    with ResultStore(tmp_path / "store") as store:
        store.put(cell, _search(models, cell))
    connection = sqlite3.connect(tmp_path / "store" / "results.sqlite")
    connection.execute("ALTER TABLE cells DROP COLUMN details")  # as stores written before the one record
    connection.close()
    store = ResultStore(tmp_path / "store", create=False)
    record = store.record(cell.key)
    assert record["status"] == "done" and record["summary"] is None and len(record["mei_index"]) == 128
    assert store.to_dataframe().loc[0, "details"] is None
    other = _cell(unit=1)
    store.put(other, _search(models, other))  # the first write adds the column
    assert store.record(other.key)["summary"]["queries"] == 40 and store.record(cell.key)["summary"] is None
    store.close()
