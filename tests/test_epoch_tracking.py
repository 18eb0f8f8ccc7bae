"""Epoch tracking: warm starts from the previous epoch, resume without recomputing, silent
units reported as silent, clear errors for missing epochs and foreign checkpoints."""
import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Generator, LatentGrid, Network, WeightsError
from mango_widgets.studies.epoch_tracking import (
    EpochTracking,
    check_epochs,
    checkpoint_series,
    load_folder,
    queries_to_reach,
    records_table,
    warm_start_saving,
)
from tests import tiny_models as tm

GRID = LatentGrid(d=6, n=16)


def network_at(epoch: int) -> Network:
    """Epoch 1: the conv weights are zero, so nothing spikes; later epochs: the hand-built weights."""
    module = tm.snntorch_step_net()
    if epoch == 1:
        with torch.no_grad():
            module.conv.weight.zero_()
    return Network(module, input_shape=(1, 2, 2), T=20, name=f"tiny@{epoch}")


def generator() -> Generator:
    return Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))


def make(tmp_path, epochs=(1, 2, 3), methods=("tt", "random")):
    return EpochTracking(network_at, generator(), ["lif:1"], epochs, methods=methods, budget=40, folder=tmp_path)


def test_records_warm_start_and_silent_units(tmp_path):
    tracking = make(tmp_path).run()
    table = records_table(tracking.records)
    assert len(table) == 6 and set(table["epoch"]) == {1, 2, 3}
    first = table[table["epoch"] == 1]
    assert (first["status"] == "silent").all() and first["mei_index"].isna().all() and first["best"].isna().all()
    later = table[table["epoch"] > 1]
    assert (later["status"] == "done").all() and (later["best"] > 0).all()
    assert not table.loc[table["epoch"] == 2, "warm_started"].any()  # epoch 1 had no MEI to start from
    assert table.loc[table["epoch"] == 3, "warm_started"].all()
    for _, row in later.iterrows():
        probabilities = np.asarray(row["probabilities"])
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert row["top_class"] == int(np.argmax(probabilities)) and 0 <= row["entropy"] <= 1
        assert row["queries"] == 40 and 0 < row["jpeg_ratio"] and 0 < row["zip_ratio"]
    # the record's best is the activation of its MEI, recomputed from scratch
    row = later.iloc[0]
    from mango_widgets import Objective
    again = Objective(generator(), network_at(int(row["epoch"])), "lif:1").evaluate(np.asarray([row["mei_index"]]))[0]
    assert again == pytest.approx(row["best"])


def test_resume_skips_finished_searches_and_never_duplicates(tmp_path):
    make(tmp_path, epochs=(2,)).run()
    first = load_folder(tmp_path)
    resumed = make(tmp_path, epochs=(2, 3))
    assert resumed.pending() == 2
    calls = []
    resumed.run(on_record=calls.append)
    assert [r["epoch"] for r in calls] == [3, 3]
    records = load_folder(tmp_path)
    assert len(records) == 4 and records[:2] == first
    keys = [(r["epoch"], r["method"]) for r in records]
    assert len(set(keys)) == len(keys)
    assert make(tmp_path, epochs=(2, 3)).pending() == 0


def test_a_cut_last_line_is_skipped_and_recomputed(tmp_path):
    make(tmp_path, epochs=(2,), methods=("tt",)).run()
    path = next(tmp_path.glob("records*.jsonl"))
    path.write_text(path.read_text() + '{"epoch": 3, "lay')  # a kill in mid-write
    tracking = make(tmp_path, epochs=(2, 3), methods=("tt",))
    assert tracking.pending() == 1


def test_queries_to_reach_and_warm_start_saving():
    assert queries_to_reach([0.1, 0.3, 0.2, 0.5], 0.3) == 2
    assert queries_to_reach([0.1, 0.2], 0.9) is None
    cold = EpochTracking(network_at, generator(), ["lif:1"], [2], methods=("tt",), budget=60).run().records[0]
    result = warm_start_saving(network_at, generator(), "lif:1", 3, cold["mei_index"], method="tt", budget=60)
    # epoch 3 has the weights of epoch 2: starting from epoch 2's MEI reaches the cold result no later
    assert result["cold_best"] > 0 and 1 <= result["cold_queries"] <= 60
    assert result["warm_queries"] is not None and result["warm_queries"] <= result["cold_queries"]


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match=r"epoch\(s\) \[7\].*saved epochs are \[1, 2, 3\]"):
        check_epochs([1, 7], [1, 2, 3])
    with pytest.raises(ConfigError, match="layer:unit"):
        EpochTracking(network_at, generator(), ["class:1"], [1])
    with pytest.raises(ConfigError, match="budget"):
        EpochTracking(network_at, generator(), ["lif:1"], [1], budget=0)


def test_checkpoint_series_refuses_another_architecture_before_searching(tmp_path):
    good, other = tmp_path / "e1.pt", tmp_path / "e2.pt"
    torch.save(tm.snntorch_step_net().state_dict(), good)
    torch.save(tm.cnn().state_dict(), other)
    with pytest.raises(WeightsError, match="epoch 2: .*different architecture"):
        checkpoint_series(tm.snntorch_step_net, {1: good, 2: other}, input_shape=(1, 2, 2), T=20)
    network_at = checkpoint_series(tm.snntorch_step_net, {1: good}, input_shape=(1, 2, 2), T=20)
    assert network_at(1).layer("lif").units == 2
    with pytest.raises(ConfigError, match="saved epochs are \\[1\\]"):
        network_at(5)


def test_a_sweep_store_feeds_the_analysis_and_the_epoch_explorer(tmp_path):
    """Cells computed by a sweep (inline, no cluster) get entropy etc. and drive the analysis."""
    from mango_widgets.analysis import selectivity_table
    from mango_widgets.engine import Sweep, load_results
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.studies.epoch_tracking import describe_sweep
    from mango_widgets.widgets.epoch_explorer import EpochExplorer

    Sweep(layers=["lif4"], units="0-1", epochs=[11, 12], methods=["tt", "tt-s", "tt-b"], budget=30,
          store=tmp_path / "sweep").run(client="inline", progress=None)
    frame = describe_sweep(load_results(tmp_path / "sweep"), lambda e: demo_network(epoch=e))
    assert len(frame) == 2 * 2 * 3
    fired = frame[frame["status"] == "done"]
    assert len(fired) > 0 and fired["entropy"].between(0, 1).all()
    assert (fired["top_class"] == [int(np.argmax(p)) for p in fired["probabilities"]]).all()
    verdicts = selectivity_table(frame)
    assert len(verdicts) == 2 * 2 and verdicts["complete"].all()
    explorer = EpochExplorer(frame, demo_generator())
    assert explorer.epochs == [11, 12] and explorer.layers == ["lif4"]
