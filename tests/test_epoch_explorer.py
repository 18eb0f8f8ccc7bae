"""The epoch explorer on a hand-made results table: heatmaps show the computed fractions (in the
state a browser draws), clicks select layer/neuron and epoch, the accuracy marker follows the
epoch, captions explain themselves, "open" hands the neuron over; no searches."""
import html

import numpy as np
import pandas as pd
import pytest
from plotly.callbacks import Points

from mango_widgets import ConfigError
from mango_widgets.models.bundled import demo_generator
from mango_widgets.widgets.epoch_explorer import LEGEND, EpochExplorer, caption, prepare
from mango_widgets.widgets.figures import state_traces

METHODS = ("tt", "tt-s", "tt-b")


def results_table():
    """Layer a: unit 0 selective for class 2 at epochs 2-3; unit 1 never active. Layer b: unit 0
    silent at epoch 1, then selective for 5 at epoch 3 only."""
    rng = np.random.default_rng(0)
    rows = []

    def add(layer, unit, epoch, best, cls, prob):
        for m in METHODS:
            index = None if np.isnan(best) else rng.integers(0, 64, 128).tolist()
            rows.append({"layer": layer, "unit": unit, "epoch": epoch, "method": m, "best": best, "top_class": cls,
                         "top_probability": prob, "mei_index": index})
    for epoch in (1, 2, 3):
        add("a", 0, epoch, 0.5 if epoch == 1 else 0.9, 2, 0.9)
        add("a", 1, epoch, 0.2, 4, 0.95)
        add("b", 0, epoch, np.nan if epoch == 1 else (0.8 if epoch == 3 else 0.4), -1 if epoch == 1 else 5,
            np.nan if epoch == 1 else 0.8)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def explorer():
    return EpochExplorer(results_table(), demo_generator(), accuracy={1: 0.3, 2: 0.6, 3: 0.9})


def test_layer_heatmap_holds_the_selective_fractions_in_the_browser_state(explorer):
    layers, units, accuracy = state_traces(explorer.figure)  # what a page draws: traces made with the figure
    assert list(layers["y"]) == ["a", "b"] and list(layers["x"]) == ["1", "2", "3"]
    assert np.asarray(layers["z"]).tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    assert list(accuracy["y"]) == [0.3, 0.6, 0.9]
    explorer.criterion.value = "confident"
    assert np.asarray(state_traces(explorer.figure)[0]["z"]).tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert "fraction of neurons: confident" in explorer.figure.layout.annotations[0].text
    explorer.criterion.value = "selective"


def test_clicking_a_layer_cell_selects_layer_and_epoch_and_moves_the_accuracy_marker(explorer):
    explorer._layer_map_clicked(None, Points(point_inds=[[0, 1]], xs=["2"], ys=["a"], trace_name="", trace_index=0), None)
    assert explorer.layer.value == "a" and explorer.epoch.value == 2
    assert explorer.figure.layout.shapes[0].x0 == 2 and explorer.figure.layout.shapes[0].xref == "x3"
    assert explorer.player.value == 1
    assert "held-out accuracy 0.600" in explorer.status.value
    unit_map = state_traces(explorer.figure)[1]
    assert list(unit_map["y"]) == ["0", "1"]
    assert [list(r) for r in unit_map["text"]] == [["", "2", "2"], ["", "", ""]]  # selective class as text


def test_clicking_a_unit_cell_shows_that_neurons_meis_over_training(explorer):
    explorer.select_cell("b", 3)
    explorer._unit_map_clicked(None, Points(point_inds=[[0, 2]], xs=["3"], ys=["0"], trace_name="", trace_index=1), None)
    assert explorer.neuron == ("b", 0)
    track = explorer.track.value
    assert track.count("<img") == len(METHODS) * 3  # methods x epochs, silent shown as a blank
    assert track.count(">silent</div>") == len(METHODS) and "class 5<br>p 0.80<br>act. 0.80" in track
    assert html.escape("the network's most probable class for this MEI is 5 (probability 0.80)") in track
    current = explorer.current.value
    assert "b at epoch 3" in current and "class 5" in current and 'width="96"' in current
    assert "<b>p</b> = that probability" in LEGEND and "<b>act.</b>" in LEGEND


def test_open_hands_the_neuron_epoch_and_study_record_over(explorer):
    opened = []
    explorer.on_open(lambda layer, unit, epoch, record: opened.append((layer, unit, epoch, record)))
    explorer.select_neuron("a", 0, 3)
    assert not explorer.open_button.disabled and explorer.open_button.description == "open a:0 at epoch 3 in the explorer"
    explorer.open_button.click()
    layer, unit, epoch, record = opened[-1]
    assert (layer, unit, epoch) == ("a", 0, 3) and record["best"] == 0.9 and len(record["mei_index"]) == 128


def test_player_and_slider_stay_in_step(explorer):
    explorer.player.value = 0
    assert explorer.epoch.value == 1
    explorer.epoch.value = 3
    assert explorer.player.value == 2


def test_a_grown_table_redraws_the_maps(explorer):
    table = results_table()
    extra = table[table["epoch"] == 3].assign(epoch=4, best=0.95, top_probability=0.99)
    explorer.set_results(pd.concat([table, extra], ignore_index=True))
    assert explorer.epochs == [1, 2, 3, 4] and list(explorer.epoch.options) == [1, 2, 3, 4]
    assert list(state_traces(explorer.figure)[0]["x"]) == ["1", "2", "3", "4"]
    explorer.set_results(table)


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="lacks the columns"):
        EpochExplorer(pd.DataFrame({"layer": ["a"]}), demo_generator())
    with pytest.raises(ConfigError, match="the results table is empty"):
        prepare(results_table().iloc[:0])
    explorer = EpochExplorer(results_table(), demo_generator())
    with pytest.raises(ConfigError, match="unknown layer 'c'"):
        explorer.select_cell("c", 1)
    with pytest.raises(ConfigError, match="unit 9 of a is not in the results"):
        explorer.select_neuron("a", 9)
    assert caption(None) == "not computed"
