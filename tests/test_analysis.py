"""Analysis metrics on small hand-made inputs with known answers."""
import math

import numpy as np
import pandas as pd
import pytest

from mango_widgets import ConfigError, LatentGrid
from mango_widgets.analysis import (
    SelectivityCriteria,
    classify_tracks,
    compression_ratios,
    latent_diversity,
    neuron_selectivity,
    normalized_entropy,
    selectivity_table,
    summaries,
)


def test_entropy_is_zero_for_certainty_one_for_uniform_and_exact_in_between():
    assert normalized_entropy(np.eye(10)[3]) == pytest.approx(0.0)
    assert normalized_entropy(np.full(10, 0.1)) == pytest.approx(1.0)
    # half on each of two of four classes: log 2 / log 4
    assert normalized_entropy([0.5, 0.5, 0.0, 0.0]) == pytest.approx(0.5)
    rows = normalized_entropy(np.array([[1.0, 0.0], [0.5, 0.5]]))
    assert rows.tolist() == pytest.approx([0.0, 1.0])


@pytest.mark.parametrize("bad", [[1.0], [0.7, 0.7], [-0.2, 1.2]])
def test_entropy_rejects_non_distributions(bad):
    with pytest.raises(ConfigError):
        normalized_entropy(bad)


def test_diversity_of_hand_made_latents():
    result = latent_diversity([[1.0, 0.0], [0.0, 1.0]])
    assert result["euclidean"] == pytest.approx(math.sqrt(2))
    assert result["cosine"] == pytest.approx(1.0)
    # three points: Euclidean distances 1 (a-b), 1 (a-c), sqrt 2 (b-c); cosine distances by hand
    a, b, c = [1.0, 1.0], [2.0, 1.0], [1.0, 2.0]
    result = latent_diversity([a, b, c])
    cos = lambda u, v: 1 - np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    assert result["euclidean"] == pytest.approx((1 + 1 + math.sqrt(2)) / 3)
    assert result["cosine"] == pytest.approx((cos(a, b) + cos(a, c) + cos(b, c)) / 3)
    assert result["pairs"] == 3
    identical = latent_diversity([[3.0, -1.0]] * 4)
    assert identical["euclidean"] == pytest.approx(0.0, abs=1e-6) and identical["cosine"] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ConfigError):
        latent_diversity([[1.0, 2.0]])


def test_complexity_orders_flat_below_structured_below_noise():
    flat = np.full((1, 28, 28), 0.5)
    stripes = np.tile((np.arange(28) % 2).astype(float), (28, 1))[None]
    noise = np.random.default_rng(0).random((1, 28, 28))
    ratios = [compression_ratios(image) for image in (flat, stripes, noise)]
    for kind in ("jpeg", "zip"):
        assert ratios[0][kind] < ratios[1][kind] < ratios[2][kind]
    assert ratios[0]["zip"] < 0.05  # 784 equal bytes deflate to a handful
    rgb = compression_ratios(np.random.default_rng(1).random((3, 8, 8)))
    assert rgb["zip"] > 0.9  # random bytes do not compress
    with pytest.raises(ConfigError):
        compression_ratios(np.zeros((2, 8, 8)))
    with pytest.raises(ConfigError):
        compression_ratios(np.full((1, 4, 4), np.nan))


def test_neuron_selectivity_criteria_one_by_one():
    crit = SelectivityCriteria()
    yes = neuron_selectivity([0.8, 0.9, 0.7], [3, 3, 3], [0.8, 0.9, 0.5], crit)
    assert yes["selective"] and yes["selective_class"] == 3 and yes["activation"] == 0.9
    weak = neuron_selectivity([0.5, 0.6, 0.7], [3, 3, 3], [0.9, 0.9, 0.9], crit)
    assert not weak["active"] and weak["confident"] and weak["stable"] and not weak["selective"]
    unsure = neuron_selectivity([0.8, 0.9, 0.7], [3, 3, 3], [0.9, 0.6, 0.9], crit)  # judged on the best MEI
    assert unsure["active"] and not unsure["confident"] and not unsure["selective"]
    unstable = neuron_selectivity([0.8, 0.9, 0.7], [3, 5, 3], [0.9, 0.9, 0.9], crit)
    assert not unstable["stable"] and unstable["selective_class"] == -1
    silent = neuron_selectivity([np.nan] * 3, [-1] * 3, [np.nan] * 3, crit)
    assert not silent["selective"]
    lenient = neuron_selectivity([0.5, 0.6, 0.7], [3, 3, 3], [0.9, 0.9, 0.9], SelectivityCriteria(activation=0.5))
    assert lenient["selective"]
    with pytest.raises(ConfigError):
        SelectivityCriteria(confidence=1.5)


def _table(rows):
    return pd.DataFrame(rows, columns=["layer", "unit", "epoch", "method", "best", "top_class", "top_probability",
                                       "entropy", "jpeg_ratio", "zip_ratio", "mei_index"])


def _neuron(layer, unit, epoch, classes, best=0.9, prob=0.9, index=None):
    return [[layer, unit, epoch, m, best, c, prob, 0.1, 0.3, 0.2, index] for m, c in zip(("tt", "tt-s", "tt-b"), classes)]


def test_selectivity_table_and_tracks_stable_labile_non_specialised():
    rows = []
    for epoch, cls in ((1, 2), (2, 2), (3, 2)):
        rows += _neuron("a", 0, epoch, [cls] * 3)              # stable for class 2
    for epoch, cls in ((1, 4), (2, 7), (3, 7)):
        rows += _neuron("a", 1, epoch, [cls] * 3)              # labile: 4 then 7
    for epoch in (1, 2, 3):
        rows += _neuron("a", 2, epoch, [1, 2, 3])              # never stable
    rows += _neuron("a", 3, 1, [5, 5, 5])[:2]                  # TT-b missing: incomplete
    verdicts = selectivity_table(_table(rows))
    assert len(verdicts) == 3 * 3 + 1
    incomplete = verdicts[(verdicts["unit"] == 3)]
    assert not incomplete["complete"].iloc[0] and not incomplete["selective"].iloc[0]
    tracks = classify_tracks(verdicts).set_index("unit")
    assert tracks.loc[0, "label"] == "stable" and tracks.loc[0, "classes"] == [2]
    assert tracks.loc[1, "label"] == "labile" and tracks.loc[1, "classes"] == [4, 7]
    assert tracks.loc[2, "label"] == "non-specialised" and tracks.loc[3, "label"] == "non-specialised"
    fractions = summaries.track_fractions(_table(rows))
    assert fractions.loc["a"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    with pytest.raises(ConfigError):
        selectivity_table(pd.DataFrame({"layer": ["a"]}))


def test_summaries_fractions_best_per_neuron_silent_and_diversity():
    grid = LatentGrid(d=2, n=3, low=-1, high=1)  # points -1, 0, 1
    rows = _neuron("a", 0, 1, [2, 2, 2], index=[2, 1]) + _neuron("a", 1, 1, [3, 3, 3], best=0.5, index=[1, 2])
    rows += _neuron("b", 0, 1, [0, 0, 0], index=[2, 2])
    rows += [["b", 1, 1, m, np.nan, -1, np.nan, np.nan, np.nan, np.nan, None] for m in ("tt", "tt-s", "tt-b")]
    table = _table(rows)
    table.loc[(table["layer"] == "a") & (table["unit"] == 0) & (table["method"] == "tt-s"), "best"] = 0.95
    best = summaries.best_per_neuron(table)
    assert best[(best["layer"] == "a") & (best["unit"] == 0)]["method"].item() == "tt-s"
    fraction = summaries.selective_fraction(table)
    assert fraction.loc["a", 1] == pytest.approx(0.5) and fraction.loc["b", 1] == pytest.approx(0.5)
    activation = summaries.mean_activation(table)
    assert activation.loc["b", 1] == pytest.approx(0.45)  # the silent neuron counts as 0
    assert summaries.silent_counts(table).loc["b", 1] == 1
    euclid, cosine = summaries.diversity(table, grid, method="tt")
    # layer a, MEIs (1, 0) and (0, 1): distance sqrt 2, cosine distance 1; layer b has one MEI only
    assert list(euclid.index) == ["a"] and euclid.loc["a", 1] == pytest.approx(math.sqrt(2), rel=1e-5)
    assert cosine.loc["a", 1] == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        summaries.selective_fraction(table, layers=["nope"])


def test_nearest_real_distance_is_the_rms_distance_to_the_closest_reference():
    from mango_widgets.analysis.naturalness import nearest_real_distance

    reference = np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2))])
    images = np.stack([np.full((1, 2, 2), 0.25), np.full((1, 2, 2), 0.9), np.ones((1, 2, 2))])
    assert nearest_real_distance(images, reference).tolist() == pytest.approx([0.25, 0.1, 0.0])
    with pytest.raises(ConfigError):
        nearest_real_distance(np.zeros((1, 3)), np.zeros((1, 4)))
