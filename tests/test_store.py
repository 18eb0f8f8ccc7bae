"""The sweep result store: one SQLite row per cell plus npz/PNG files, readable without our package."""
import json
import sqlite3

import numpy as np
import pytest
from PIL import Image

from mango_widgets import ConfigError, Objective, Search
from mango_widgets.engine import Cell, ResultStore, Sweep, load_results
from mango_widgets.engine.spec import parse_ints
from mango_widgets.records.search_record import weights_sha256
from tests.failing_searches import search_that_fails_after_one_batch


@pytest.fixture(scope="module")
def models(demo_generator, demo_network_at):
    return demo_generator, demo_network_at(epoch=3)


def _cell(unit=0, method="random", **changes):
    values = dict(network="demo", epoch=3, layer="lif1", unit=unit, method=method, seed=0, budget=40, T=20, spacing="uniform")
    values.update(changes)
    return Cell(**values)


def _search(models, cell):
    generator, network = models
    return Search(Objective(generator, network, cell.target), cell.method, budget=cell.budget, seed=cell.seed, threads=1).run()


def test_a_finished_search_becomes_one_row_and_open_files(tmp_path, models):
    cell = _cell()
    search = _search(models, cell)
    with ResultStore(tmp_path / "store") as store:
        assert store.put(cell, search) is True
    # any SQLite client reads it: no mango_widgets needed
    connection = sqlite3.connect(tmp_path / "store" / "results.sqlite")
    row = connection.execute("SELECT key, status, best, best_query, queries, mei_index, config, history_file, mei_png, model_sha256 "
                             "FROM cells").fetchall()
    connection.close()
    assert len(row) == 1
    key, status, best, best_query, queries, mei_index, config, history_file, mei_png, model_sha256 = row[0]
    assert key == cell.key and status == "done" and queries == 40
    assert best == pytest.approx(search.mei.activation) and best_query == search.mei.query
    assert json.loads(mei_index) == search.mei.index.tolist()
    config = json.loads(config)
    assert config["seed"] == 0 and config["T"] == 20 and config["epoch"] == 3 and config["method"] == "random"
    assert config["model_sha256"] == model_sha256 == weights_sha256(models[1].module)
    with np.load(tmp_path / "store" / history_file) as history:
        np.testing.assert_array_equal(history["values"], search.history.values)
        np.testing.assert_array_equal(history["indices"], search.history.indices)
    assert Image.open(tmp_path / "store" / mei_png).size == (28 * 4, 28 * 4)


def test_dataframe_has_the_documented_columns_and_filters(tmp_path, models):
    store = ResultStore(tmp_path / "store")
    for unit in (0, 1):
        cell = _cell(unit=unit)
        store.put(cell, _search(models, cell))
    store.close()
    frame = load_results(tmp_path / "store")
    for column in ("network", "epoch", "layer", "unit", "target", "method", "seed", "budget", "T", "spacing", "status",
                   "error", "best", "best_query", "queries", "mei_index", "mei_png", "wall_seconds"):
        assert column in frame.columns
    assert list(frame["unit"]) == [0, 1] and list(frame["target"]) == ["lif1:0", "lif1:1"]
    assert len(frame.loc[0, "mei_index"]) == 128
    assert list(load_results(tmp_path / "store", unit=1)["unit"]) == [1]
    mei = store.mei(frame.loc[0, "key"])
    assert mei["image"].shape == (1, 28, 28) and mei["index"].tolist() == frame.loc[0, "mei_index"]
    with pytest.raises(ConfigError, match="cannot filter on 'colour'"):
        load_results(tmp_path / "store", colour="red")
    with pytest.raises(ConfigError, match="no result store"):
        load_results(tmp_path / "nowhere")


@pytest.mark.slow
def test_a_done_cell_is_never_written_twice(tmp_path, models):
    cell = _cell()
    store = ResultStore(tmp_path / "store")
    assert store.put(cell, _search(models, cell))
    before = store.to_dataframe().loc[0, ["finished", "best", "attempts"]].tolist()
    assert store.put(cell, _search(models, _cell(seed=0))) is False
    frame = store.to_dataframe()
    assert len(frame) == 1 and frame.loc[0, ["finished", "best", "attempts"]].tolist() == before


@pytest.mark.slow
def test_failed_cells_keep_their_error_and_partial_history_and_can_be_retried(tmp_path, models):
    generator, network = models
    cell = _cell(method="random", budget=100)
    search = search_that_fails_after_one_batch(generator, network, cell.target)
    store = ResultStore(tmp_path / "store")
    store.put(cell, search)
    row = store.to_dataframe().iloc[0]
    assert row["status"] == "failed" and "the rig lost the neuron" in row["error"] and "Traceback" in row["traceback"]
    assert len(store.history(cell.key)["values"]) == 25  # the batch before the failure is kept
    assert store.failed_keys() == {cell.key} and store.done_keys() == set()
    store.put(cell, _search(models, cell))  # the retry replaces the failed row
    row = store.to_dataframe().iloc[0]
    assert row["status"] == "done" and row["error"] is None and row["attempts"] == 2
    assert len(store.history(cell.key)["values"]) == 100


def test_a_crash_between_files_and_commit_leaves_no_row(tmp_path, models, monkeypatch):
    cell = _cell()
    search = _search(models, cell)
    store = ResultStore(tmp_path / "store")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if killed after the files were renamed into place

    monkeypatch.setattr("mango_widgets.engine.store.cell_row", crash)  # the row is made after the files are written
    with pytest.raises(KeyboardInterrupt):
        store.put(cell, search)
    assert store.keys() == set()
    monkeypatch.undo()
    assert store.put(cell, search) and store.done_keys() == {cell.key}
    assert store.integrity() == "ok"


@pytest.mark.slow
def test_one_writer_at_a_time(tmp_path, models):
    cell = _cell()
    first = ResultStore(tmp_path / "store")
    first.put(cell, _search(models, cell))
    second = ResultStore(tmp_path / "store")
    assert second.done_keys() == {cell.key}  # reading is always allowed
    with pytest.raises(ConfigError, match="being written by pid"):
        second.put(_cell(unit=1), _search(models, _cell(unit=1)))
    first.close()
    assert second.put(_cell(unit=1), _search(models, _cell(unit=1)))
    second.close()


def test_cells_and_choices_parse_with_clear_errors():
    cell = _cell(unit=7, method="tt-b")
    assert cell.key == "demo|epoch=3|lif1:7|tt-b|seed=0|budget=40|T=20|uniform"
    assert Cell.from_dict({**cell.to_dict(), "extra": 1}) == cell
    with pytest.raises(ConfigError, match="missing: unit"):
        Cell.from_dict({k: v for k, v in cell.to_dict().items() if k != "unit"})
    assert parse_ints("0-3", "units") == [0, 1, 2, 3]
    assert parse_ints("1,6, 12", "epochs") == [1, 6, 12]
    assert parse_ints("last", "epochs", valid=[1, 2, 3]) == [3]
    with pytest.raises(ConfigError, match="needs a known set"):
        parse_ints("all", "units")
    with pytest.raises(ConfigError, match="cannot read units 'x'"):
        parse_ints("0,x", "units")


def test_sweep_definitions_are_checked_against_the_models(tmp_path):
    sweep = Sweep(layers=["lif1", "lif2"], units="0-1", epochs="last", methods=["random", "TT-B"], seeds="0-1", budget=40,
                  store=tmp_path / "s")
    cells = sweep.cells()
    assert len(cells) == 2 * 2 * 1 * 2 * 2 and len({c.key for c in cells}) == len(cells)
    assert {c.epoch for c in cells} == {12} and {c.T for c in cells} == {20} and {c.method for c in cells} == {"random", "tt-b"}
    assert Sweep.from_dict(sweep.to_dict()).cells() == cells
    with pytest.raises(ConfigError, match="unknown layer 'lif9'.*lif3 \\(64 units\\)"):
        Sweep(layers=["lif9"], store=tmp_path / "s").cells()
    with pytest.raises(ConfigError, match="out of range for layer 'lif1': valid units are 0..15"):
        Sweep(layers=["lif1"], units="10-20", store=tmp_path / "s").cells()
    with pytest.raises(ConfigError, match="no checkpoint for epochs \\[40\\].*1..12"):
        Sweep(layers=["lif1"], epochs=[1, 40], store=tmp_path / "s").cells()
    with pytest.raises(ConfigError, match="unknown method 'sgd'"):
        Sweep(layers=["lif1"], methods=["sgd"], store=tmp_path / "s")
    with pytest.raises(ConfigError, match="budget must be a positive"):
        Sweep(layers=["lif1"], budget=0, store=tmp_path / "s")
