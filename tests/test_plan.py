"""Plans on the engine: a warm cell waits for the cell it starts from and begins at that cell's MEI,
also across runs (from the store) and on Dask; bad plans are refused; old stores gain the new columns."""
import sqlite3

import numpy as np
import pytest

from mango_widgets import ConfigError, Generator, LatentGrid, Network
from mango_widgets.engine import Cell, Plan, ResultStore, load_results
from mango_widgets.engine.plan import ReadyQueue
from tests import tiny_models as tm

GRID = LatentGrid(d=6, n=16)


class TinyModels:
    """A picklable model source: the hand-built tiny SNN at every 'epoch' and the constant-image generator."""

    name = "tiny"

    def epochs(self):
        return [1, 2, 3]

    def default_T(self):
        return 20

    def layer_units(self):
        return {"lif": 2}

    def network(self, epoch, T):
        return Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=T, name=f"tiny@{epoch}")

    def generator(self, spacing):
        return Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))


def cell(epoch, init="cold", budget=30, method="random", unit=1):
    return Cell("tiny", epoch, "lif", unit, method, 0, budget, 20, "uniform", init)


def warm_plan(store):
    plan = Plan(store, {"tiny": TinyModels()}, describe=True)
    first = plan.add(cell(1))
    plan.add(cell(2, "warm"), after=first)
    plan.add(cell(2))
    return plan


def test_a_warm_cell_starts_from_the_mei_of_the_cell_it_depends_on(tmp_path):
    plan = warm_plan(tmp_path / "store")
    report = plan.run(client="inline", progress=None)
    assert report.done == 3 and report.failed == 0
    frame = load_results(tmp_path / "store").set_index("key")
    source, warm = frame.loc[cell(1).key], frame.loc[cell(2, "warm").key]
    assert warm["init"] == "warm" and warm["config"]["warm_start"] == {"from": cell(1).key, "started_warm": True}
    store = ResultStore(tmp_path / "store", create=False)
    # the warm search's first query is the source cell's MEI (random search asks it first when warm-started)
    np.testing.assert_array_equal(store.history(warm.name)["values"][:1], [source["best"]])
    assert warm["best"] >= source["best"] - 1e-12
    described = frame[frame["description"].notna()]
    assert len(described) == 3 and all(0 <= d["entropy"] <= 1 for d in described["description"])


def test_a_rerun_takes_the_start_from_the_store(tmp_path):
    plan = Plan(tmp_path / "store", {"tiny": TinyModels()})
    plan.add(cell(1))
    plan.run(client="inline", progress=None)
    again = warm_plan(tmp_path / "store")
    assert [c.key for c in again.pending()] == [cell(2, "warm").key, cell(2).key]
    again.run(client="inline", progress=None)
    frame = load_results(tmp_path / "store").set_index("key")
    assert frame.loc[cell(2, "warm").key, "config"]["warm_start"]["started_warm"] is True
    assert len(frame) == 3


def test_the_queue_holds_warm_cells_until_their_source_finishes():
    source, warm, other = cell(1), cell(2, "warm"), cell(3)
    queue = ReadyQueue([source, warm, other], {warm.key: source.key}, stored_mei=lambda key: None)
    assert queue.pop()[0] == source and queue.pop()[0] == other
    assert queue.pop() is None and queue.waiting == 1  # the warm cell waits for its source
    queue.finished(source, {"status": "done", "best": 0.5, "mei_index": [1, 2, 3, 4, 5, 6]})
    ready, start = queue.pop()
    assert ready == warm and start == {"from": source.key, "index": [1, 2, 3, 4, 5, 6]}
    queue = ReadyQueue([warm], {warm.key: source.key}, stored_mei=lambda key: [0] * 6 if key == source.key else None)
    assert queue.pop() == (warm, {"from": source.key, "index": [0] * 6})  # the source is already stored
    queue = ReadyQueue([source, warm], {warm.key: source.key}, stored_mei=lambda key: None)
    queue.pop()
    queue.finished(source, {"status": "done", "best": 0.0, "mei_index": [1] * 6})  # silent: nothing to start from
    assert queue.pop()[1] == {"from": source.key, "index": None}


def test_bad_plans_are_refused(tmp_path):
    plan = Plan(tmp_path / "store", {"tiny": TinyModels()})
    with pytest.raises(ConfigError, match="not planned before it"):
        plan.add(cell(2, "warm"), after=cell(1))
    plan.add(cell(1))
    with pytest.raises(ConfigError, match="needs after="):
        plan.add(cell(2, "warm"))
    with pytest.raises(ConfigError, match="same neuron"):
        plan.add(cell(2, "warm", unit=0), after=cell(1))
    with pytest.raises(ConfigError, match="unknown network"):
        plan.add(Cell("other", 1, "lif", 0, "random", 0, 10, 20))
    with pytest.raises(ConfigError, match="calls itself"):
        Plan(tmp_path / "s2", {"wrong": TinyModels()})
    with pytest.raises(ConfigError, match="unknown init"):
        cell(1, "lukewarm")


def test_a_store_written_before_plans_gains_the_columns_on_first_write(tmp_path):
    plan = Plan(tmp_path / "store", {"tiny": TinyModels()})
    plan.add(cell(1))
    plan.run(client="inline", progress=None)
    connection = sqlite3.connect(tmp_path / "store" / "results.sqlite")  # make it look like an older store
    connection.execute("ALTER TABLE cells DROP COLUMN init")
    connection.execute("ALTER TABLE cells DROP COLUMN description")
    connection.commit()
    connection.close()
    old = load_results(tmp_path / "store")
    assert list(old["init"]) == ["cold"] and old["description"].isna().all()
    warm_plan(tmp_path / "store").run(client="inline", progress=None)
    frame = load_results(tmp_path / "store")
    assert sorted(frame["init"]) == ["cold", "cold", "warm"]


def test_warm_cells_run_on_dask_after_their_sources(tmp_path):
    pytest.importorskip("distributed")
    plan = Plan(tmp_path / "store", {"demo": "demo"})
    demo = lambda epoch, unit, init="cold": Cell("demo", epoch, "lif2", unit, "random", 0, 10, 20, "uniform", init)  # noqa: E731
    for unit in (0, 1):
        first = plan.add(demo(11, unit))
        plan.add(demo(12, unit, "warm"), after=first)
    report = plan.run(workers=1, progress=None)
    assert report.done == 4
    frame = load_results(tmp_path / "store").set_index("key")
    for unit in (0, 1):
        warm, source = frame.loc[demo(12, unit, "warm").key], frame.loc[demo(11, unit).key]
        assert warm["finished"] >= source["finished"]
        assert warm["config"]["warm_start"] == {"from": source.name, "started_warm": True}
