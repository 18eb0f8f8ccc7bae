"""Run curves (records/curves.py) and what an MEI means (studies/neuron_context.py): pure functions
on hand-made values and the tiny hand-built networks of tests/tiny_models.py."""
import csv
import io

import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Network
from mango_widgets.records.curves import (
    RunCurve,
    activation_axis,
    best_so_far_at,
    curves_csv,
    curves_png,
    mean_and_spread,
    query_seconds,
    write_curves,
)
from mango_widgets.studies.neuron_context import DatasetActivations, class_guess
from tests.tiny_models import cnn, snntorch_step_net


def curve(run, values, seconds=None, method="tt-b", seed=0):
    values = np.asarray(values, dtype=float)
    seconds = np.arange(1, len(values) + 1) * 0.5 if seconds is None else np.asarray(seconds, dtype=float)
    return RunCurve(run=run, network="net", target="lif2:5", method=method, seed=seed, budget=len(values),
                    values=values, seconds=seconds)


def test_query_seconds_interpolates_between_the_marks_seen():
    # 10 queries done after 2 s, 30 after 4 s: queries in between get times in between
    seconds = query_seconds(30, [(10, 2.0), (30, 4.0)])
    assert seconds[9] == pytest.approx(2.0) and seconds[29] == pytest.approx(4.0)
    assert seconds[19] == pytest.approx(3.0) and seconds[0] == pytest.approx(0.2)
    assert np.all(np.diff(seconds) >= 0) and len(query_seconds(0, [])) == 0


def test_best_so_far_on_a_grid_is_nan_before_the_first_query():
    c = curve(1, [0.1, 0.3, 0.2, 0.5], seconds=[1.0, 2.0, 3.0, 4.0])
    assert best_so_far_at(c, np.array([0.5, 1.0, 2.5, 4.0, 9.0]), "seconds")[1:].tolist() == [0.1, 0.3, 0.5, 0.5]
    assert np.isnan(best_so_far_at(c, np.array([0.5]), "seconds")[0])
    assert best_so_far_at(c, np.array([1.0, 3.0]), "queries").tolist() == [0.1, 0.3]


def test_mean_and_spread_average_runs_up_to_the_shortest():
    a, b = curve(1, [0.1, 0.4, 0.4, 0.9]), curve(2, [0.3, 0.3, 0.5])
    x, mean, low, high = mean_and_spread([a, b], "queries")
    assert x.tolist() == [1, 2, 3]
    assert mean.tolist() == pytest.approx([0.2, 0.35, 0.45]) and low.tolist() == [0.1, 0.3, 0.4]
    assert high.tolist() == [0.3, 0.4, 0.5]
    with pytest.raises(ConfigError, match="no run has a query yet"):
        mean_and_spread([curve(3, [])])
    with pytest.raises(ConfigError, match="unknown x axis 'hours'"):
        mean_and_spread([a], "hours")


def test_csv_has_one_row_per_query_of_every_run(tmp_path):
    runs = [curve(1, [0.1, 0.3]), curve(2, [0.2, 0.1, 0.4], method="random", seed=3)]
    rows = list(csv.DictReader(io.StringIO(curves_csv(runs))))
    assert len(rows) == 5
    assert rows[1] == {"run": "1", "network": "net", "target": "lif2:5", "method": "tt-b", "seed": "0", "query": "2",
                       "seconds": "1.0000", "activation": "0.3", "best_so_far": "0.3"}
    assert rows[3]["best_so_far"] == "0.2" and rows[3]["method"] == "random"
    png = curves_png(runs, "seconds", "title")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    written = write_curves(runs, tmp_path / "out")
    assert [p.name for p in written] == ["curves.csv", "curves.png"] and all(p.stat().st_size > 0 for p in written)


def test_the_activation_axis_says_what_the_number_is():
    spiking = Network(snntorch_step_net(), input_shape=(1, 2, 2), T=5, name="snn")
    title, y_range = activation_axis(spiking, "lif:1")
    assert title.startswith("spike rate: spikes per time step") and y_range == (0.0, 1.0)
    title, y_range = activation_axis(spiking, "conv:0")
    assert "unbounded" in title and y_range is None
    assert activation_axis(spiking, "class:1")[0] == "output spike rate of class 1: spikes per time step"
    ann = Network(cnn(), input_shape=(1, 2, 2), name="cnn")
    assert activation_axis(ann, "class:0") == ("probability of class 0", (0.0, 1.0))


def test_dataset_images_that_excite_a_unit_most_and_class_guess():
    network = Network(snntorch_step_net(), input_shape=(1, 2, 2), T=5, name="snn", classes=("left", "right"))
    brightness = torch.linspace(0.0, 1.0, 6)
    images = brightness.reshape(6, 1, 1, 1).repeat(1, 1, 2, 2)  # brighter image, more input current
    data = DatasetActivations(images, labels=[0, 0, 1, 1, 0, 1], classes=("zero", "one"), name="ramp")
    top = data.top_images(network, "lif:1", count=2)
    every = network.run(images, ["lif"])["lif"][:, 1].numpy()
    assert top.positions.tolist() == np.argsort(-every, kind="stable")[:2].tolist()
    assert top.activations.tolist() == pytest.approx(sorted(every, reverse=True)[:2])
    assert top.labels == ["zero" if i in (0, 1, 4) else "one" for i in top.positions] and top.dataset_size == 6
    assert data.layer_activations(network, "lif") is data.layer_activations(network, "lif")  # one pass per layer
    guess = class_guess(network, images[-1].numpy())
    assert guess.classes == ["left", "right"] and guess.probabilities.sum() == pytest.approx(1.0)
    assert guess.top(1)[0][0] == ["left", "right"][int(np.argmax(guess.probabilities))]
    with pytest.raises(ConfigError, match="give images shaped like the network's input"):
        DatasetActivations(torch.zeros(3, 1, 4, 4)).top_images(network, "lif:0")
    with pytest.raises(ConfigError, match="one label per image"):
        DatasetActivations(images, labels=[0, 1])
