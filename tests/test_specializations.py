"""`mango specializations` end to end on a tiny plan: records, summary, figures, resume."""
import json

from mango_widgets.cli import main as mango
from mango_widgets.studies.epoch_tracking import load_folder
from mango_widgets.studies.specializations import choose_units


def test_units_are_spread_over_the_layer():
    assert choose_units(10, 16) == list(range(10))
    assert choose_units(128, 4) == [0, 42, 85, 127]


def test_reproduction_command_writes_summary_and_figures_and_resumes(tmp_path):
    args = ["specializations", "--units", "2", "--layers", "lif4", "lif_out", "--epochs", "11", "12", "--budget", "30",
            "--warm-targets", "1", "--out", str(tmp_path / "run")]
    mango(args)
    records = load_folder(tmp_path / "run" / "records")
    assert len(records) == 2 * 2 * 2 * 3  # layers x units x epochs x methods
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["settings"]["layers"] == ["lif4", "lif_out"] and summary["settings"]["epochs"] == [11, 12]
    assert set(summary["findings"]) == {"selectivity_rises_with_depth", "selectivity_rises_with_training",
                                        "entropy_falls_with_depth", "entropy_falls_with_training",
                                        "some_deep_neurons_are_labile"}
    fractions = summary["tables"]["selective_fraction"]
    assert set(fractions) == {"lif4", "lif_out"} and all(0 <= v <= 1 for row in fractions.values() for v in row.values())
    assert summary["accuracy"]["12"] > 0.9
    warm = summary["warm_start"]
    assert warm["pairs"] >= 1 and warm["method"] == "tt-b"
    assert "Fraction of selective neurons" in (tmp_path / "run" / "summary.md").read_text()
    for name in ("selectivity.png", "entropy_activation.png", "diversity_complexity.png"):
        assert (tmp_path / "run" / "figures" / name).stat().st_size > 1000
    mango(args)  # everything is done: nothing is recomputed or duplicated
    assert load_folder(tmp_path / "run" / "records") == records
