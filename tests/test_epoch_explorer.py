"""The epoch explorer on a hand-made results table: heatmaps show the computed fractions,
clicks select layer/neuron and epoch, the accuracy marker follows the epoch; no searches."""
import numpy as np
import pandas as pd
import pytest
from plotly.callbacks import Points

from mango_widgets import ConfigError
from mango_widgets.models.bundled import demo_generator
from mango_widgets.widgets.epoch_explorer import EpochExplorer, caption

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


def test_layer_heatmap_holds_the_selective_fractions(explorer):
    trace = explorer.layer_map.data[0]
    assert list(trace.y) == ["a", "b"] and list(trace.x) == ["1", "2", "3"]
    assert np.asarray(trace.z).tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    explorer.criterion.value = "confident"
    assert np.asarray(explorer.layer_map.data[0].z).tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    explorer.criterion.value = "selective"


def test_clicking_a_layer_cell_selects_layer_and_epoch_and_moves_the_accuracy_marker(explorer):
    explorer._layer_map_clicked(None, Points(point_inds=[[0, 1]], xs=["2"], ys=["a"], trace_name="", trace_index=0), None)
    assert explorer.layer.value == "a" and explorer.epoch.value == 2
    assert explorer.accuracy_plot.layout.shapes[0].x0 == 2
    assert explorer.player.value == 1
    assert "held-out accuracy 0.600" in explorer.status.value
    unit_map = explorer.unit_map.data[0]
    assert list(unit_map.y) == ["0", "1"]
    assert [list(r) for r in unit_map.text] == [["", "2", "2"], ["", "", ""]]  # selective class as text


def test_clicking_a_unit_cell_shows_that_neurons_meis_over_training(explorer):
    explorer.select_cell("b", 3)
    explorer._unit_map_clicked(None, Points(point_inds=[[0, 2]], xs=["3"], ys=["0"], trace_name="", trace_index=0), None)
    assert explorer.neuron == ("b", 0)
    track = explorer.track.value
    assert track.count("<img") == len(METHODS) * 3  # methods x epochs, silent shown as a blank
    assert track.count("silent") == len(METHODS) and "class 5 · p 0.80 · a 0.80" in track
    current = explorer.current.value
    assert "b at epoch 3" in current and "class 5" in current


def test_player_and_slider_stay_in_step(explorer):
    explorer.player.value = 0
    assert explorer.epoch.value == 1
    explorer.epoch.value = 3
    assert explorer.player.value == 2


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="lacks the columns"):
        EpochExplorer(pd.DataFrame({"layer": ["a"]}), demo_generator())
    explorer = EpochExplorer(results_table(), demo_generator())
    with pytest.raises(ConfigError, match="unknown layer 'c'"):
        explorer.select_cell("c", 1)
    with pytest.raises(ConfigError, match="unit 9 of a is not in the results"):
        explorer.select_neuron("a", 9)
    assert caption(None) == "not computed"
