"""The study's analysis on synthetic records with known answers: a planted labile neuron is found (and a
one-seed fluke is not), a generator-baseline confound is removed by the baseline correction, the
emergence epoch and the per-layer intervals come out as planted."""
import numpy as np
import pandas as pd
import pytest

from mango_widgets.analysis.baseline import relative_to_baseline
from mango_widgets.analysis.emergence import first_strong_epoch, plateau_epoch
from mango_widgets.analysis.tracks import classify_tracks, consensus_selectivity
from mango_widgets.studies.reproduction import claims, tables
from mango_widgets.studies.reproduction.gallery import pick_labile_neuron

METHODS = ("tt", "tt-s", "tt-b")
EPOCHS = (1, 2, 3, 4, 5, 6)


def record(layer, unit, epoch, seed, method, best, top_class, top_probability, entropy):
    silent = np.isnan(best)
    return {"network": "synthetic", "layer": layer, "unit": unit, "epoch": epoch, "seed": seed, "method": method,
            "budget": 100, "init": "cold", "status": "silent" if silent else "done", "best": best,
            "top_class": -1 if silent else top_class, "top_probability": top_probability, "entropy": entropy,
            "jpeg_ratio": 1.0, "zip_ratio": 0.4, "mei_index": None if silent else [0] * 4}


def synthetic_records():
    """Layer 'early' (4 units): never selective. Layer 'deep' (4 units): unit 0 stable for class 1 from epoch 3,
    unit 2 labile (class 3 at epochs 1-3, class 7 at 4-6, every seed), unit 3 selective for class 5 at
    epoch 4 in one seed only (a fluke), unit 1 never strong."""
    rows = []
    for seed in range(3):
        for epoch in EPOCHS:
            for method in METHODS:
                for unit in range(4):
                    rows.append(record("early", unit, epoch, seed, method, 0.3 + 0.01 * unit, unit, 0.5, 0.6))
                rows.append(record("deep", 0, epoch, seed, method, 0.9 if epoch >= 3 else 0.5, 1, 0.95, 0.1))
                rows.append(record("deep", 1, epoch, seed, method, 0.2, 0, 0.4, 0.8))
                rows.append(record("deep", 2, epoch, seed, method, 0.85, 3 if epoch <= 3 else 7, 0.9, 0.2))
                fluke = seed == 1 and epoch == 4
                rows.append(record("deep", 3, epoch, seed, method, 0.8 if fluke else 0.4, 5 if fluke else 2, 0.9 if fluke else 0.5, 0.5))
    return pd.DataFrame(rows)


def test_a_planted_labile_neuron_is_found_and_a_one_seed_fluke_is_not():
    records = synthetic_records()
    consensus = consensus_selectivity(tables.per_seed_selectivity(records))
    tracks = classify_tracks(consensus).set_index(["layer", "unit"])
    assert tracks.loc[("deep", 2), "label"] == "labile" and tracks.loc[("deep", 2), "classes"] == [3, 7]
    assert tracks.loc[("deep", 0), "label"] == "stable" and tracks.loc[("deep", 0), "selective_epochs"] == [3, 4, 5, 6]
    assert tracks.loc[("deep", 3), "label"] == "non-specialised"  # selective in one seed of three: no majority
    assert (tracks.loc["early", "label"] == "non-specialised").all()
    data = claims.StudyData(layers=["early", "deep"], hidden=["early", "deep"], epochs=list(EPOCHS), neurons=None,
                            tracks=classify_tracks(consensus), emergence=None, diversity=None, warm=None, compare=None,
                            baseline_epochs=None, accuracy={}, resamples=500, permutations=500)
    result = claims.labile_neurons(data)
    labile = result["numbers"]["fractions"]["deep"]["labile"]
    assert labile["estimate"] == pytest.approx(0.25) and result["numbers"]["fractions"]["early"]["labile"]["estimate"] == 0
    assert pick_labile_neuron(consensus, records) == (("deep", 2), True)


def test_emergence_epochs_and_the_accuracy_plateau():
    best = tables.best_rows(synthetic_records())
    per_seed = first_strong_epoch(best, by=("layer", "unit", "seed")).set_index(["layer", "unit", "seed"])
    assert per_seed.loc[("deep", 0, 0), "first_epoch"] == 3 and per_seed.loc[("deep", 2, 2), "first_epoch"] == 1
    assert per_seed.loc[("deep", 3, 1), "first_epoch"] == 4 and np.isnan(per_seed.loc[("deep", 3, 0), "first_epoch"])
    assert not per_seed.loc[("early", 0, 0), "ever_strong"]
    assert plateau_epoch({1: 0.2, 2: 0.8, 3: 0.965, 4: 0.97}) == 3.0  # 0.965 >= 0.99 x 0.97 and np.isnan(plateau_epoch({}))


def _confounded(rng, effect):
    """MEI entropy = the random images' entropy at that epoch + unit noise (+ ``effect`` x epoch, a real specialisation)."""
    baseline = pd.DataFrame({"network": "synthetic", "epoch": EPOCHS, "random_entropy": np.linspace(0.9, 0.2, len(EPOCHS)),
                             "random_top_probability": np.linspace(0.3, 0.9, len(EPOCHS)), "random_confident_fraction": 0.5,
                             "images": 100})
    units = pd.DataFrame([{"network": "synthetic", "epoch": e, "layer": layer, "unit": u, "random_activation": 0.1,
                           "random_best": 0.3, "random_active_fraction": 0.0}
                          for e in EPOCHS for layer in ("early", "deep") for u in range(12)])
    rows = []
    for layer in ("early", "deep"):
        for unit in range(12):
            level = rng.normal(0, 0.03)
            for epoch, random_entropy in zip(EPOCHS, baseline["random_entropy"]):
                for seed in range(3):
                    entropy = float(np.clip(random_entropy + level + rng.normal(0, 0.05) + effect * epoch, 0, 1))
                    for method in METHODS:
                        rows.append(record(layer, unit, epoch, seed, method, 0.5, 1, 0.5, entropy))
    records = relative_to_baseline(pd.DataFrame(rows), baseline, units)
    neurons = tables.neuron_table(records, layers=["early", "deep"])
    return claims.StudyData(layers=["early", "deep"], hidden=["early", "deep"], epochs=list(EPOCHS), neurons=neurons,
                            tracks=None, emergence=None, diversity=None, warm=None, compare=None, baseline_epochs=baseline,
                            accuracy={}, resamples=500, permutations=1000)


@pytest.mark.slow
def test_a_generator_baseline_confound_is_removed_by_the_baseline_correction():
    rng = np.random.default_rng(0)
    confounded = claims.entropy_over_training(_confounded(rng, effect=0.0))
    assert confounded["numbers"]["trend_raw"]["holds"]  # raw entropy falls, only because random images' entropy falls
    assert not confounded["numbers"]["trend_over_random"]["holds"]
    assert confounded["verdict"] == claims.NOT_REPRODUCED and "generator" in confounded["why"]
    real = claims.entropy_over_training(_confounded(rng, effect=-0.05))
    assert real["numbers"]["trend_over_random"]["holds"] and real["verdict"] == claims.REPRODUCED


def test_excess_columns_and_missing_baselines():
    records = pd.DataFrame([record("deep", 0, 1, 0, "tt", 0.8, 2, 0.9, 0.3)])
    baseline = pd.DataFrame({"network": ["synthetic"], "epoch": [1], "random_entropy": [0.5], "random_top_probability": [0.6],
                             "random_confident_fraction": [0.2], "images": [10]})
    units = pd.DataFrame({"network": ["synthetic"], "epoch": [1], "layer": ["deep"], "unit": [0], "random_activation": [0.2],
                          "random_best": [0.5], "random_active_fraction": [0.0]})
    row = relative_to_baseline(records, baseline, units).iloc[0]
    assert row["entropy_excess"] == pytest.approx(-0.2) and row["confidence_excess"] == pytest.approx(0.3)
    assert row["activation_excess"] == pytest.approx(0.6) and row["over_random_best"] == pytest.approx(0.3)
    from mango_widgets import ConfigError

    with pytest.raises(ConfigError, match="no random-image baseline for synthetic at epoch 2"):
        relative_to_baseline(records.assign(epoch=2), baseline, units)


def test_a_heatmap_of_a_measure_with_no_values_keeps_its_epochs_and_an_empty_one_says_so():
    import warnings

    from matplotlib.figure import Figure

    from mango_widgets.studies.reproduction.figures import draw_heatmap, layer_epoch_table
    # a measure that is NaN everywhere (no random-image baseline): pivot_table alone drops every epoch column
    neurons = pd.DataFrame({"layer": ["lif1", "lif2"], "epoch": [1, 1], "confidence_excess": [np.nan, np.nan],
                            "active": [0.5, 1.0]})
    dropped = neurons.pivot_table(index="layer", columns="epoch", values="confidence_excess")
    assert dropped.size == 0
    kept = layer_epoch_table(neurons, "confidence_excess", ["lif2", "lif1"], [1, 5])
    assert list(kept.index) == ["lif2", "lif1"] and list(kept.columns) == [1, 5] and kept.isna().all().all()
    active = layer_epoch_table(neurons, "active", ["lif2", "lif1"], [1, 5])
    assert active[1].tolist() == [1.0, 0.5] and active[5].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a zero-wide image warns of singular limits
        ax = Figure().subplots()
        draw_heatmap(ax, kept, "kept")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5"]
        empty = Figure().subplots()
        draw_heatmap(empty, dropped, "empty")
        assert [t.get_text() for t in empty.texts] == ["no values to show"] and not empty.images
