"""`mango reproduce` end to end: the ci preset on the demo models (report, figures, resume) and the paper
preset on a tiny CIFAR-10 folder in the real on-disk format (training, searches, report)."""
import json

import pytest

from mango_widgets import ConfigError
from mango_widgets.cli import main as mango
from mango_widgets.engine import load_results
from mango_widgets.studies.reproduction.config import load_config, parse_overrides, preset
from mango_widgets.studies.reproduction.plan import coarse_to_fine
from tests.benchmark_scripts import load_benchmark
from tests.test_datasets import write_cifar10

FIGURES = {"fig06_entropy.png", "fig07_selectivity.png", "fig08_emergence_activation.png", "fig09_activation_over_training.png",
           "fig10_tracks_labile_neuron.png", "fig11_diversity.png", "fig12_complexity.png", "fig13_meis_by_layer.png",
           "figB_generators.png",
           "warm_start_control.png"}


def test_ci_scale_runs_the_whole_chain_and_resumes_without_recomputing(tmp_path):
    out = tmp_path / "ci"
    args = ["reproduce", "--scale", "ci", "--out", str(out), "--inline", "--no-progress", "--set", "epochs=[1,12]"]
    assert mango(args) == 0
    config = load_config(out)
    frame = load_results(out / "store")
    neurons, methods = 2, 3
    cold = frame[(frame["init"] == "cold") & (frame["budget"] == config.budget) & (frame["network"] == "demo")]
    assert len(cold) == neurons * 2 * methods * config.seeds
    assert len(frame[frame["init"] == "warm"]) == neurons * 1 * config.warm_seeds
    assert len(frame[frame["budget"] == config.budget * config.control_factor]) == neurons
    assert len(frame[frame["network"] == "demo-vqvae28"]) == neurons * methods * config.seeds
    assert (frame["status"] == "done").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["coverage"]["complete"] and summary["coverage"]["epochs_complete"] == [1, 12]
    verdicts = {claim["id"]: claim["verdict"] for claim in summary["claims"]}
    assert set(verdicts.values()) <= {"reproduced", "not reproduced", "not testable here", "control"}
    assert verdicts["weak_layer_before_last"] == "not testable here"  # two layers cannot show a dip
    assert "vqvae_lower_activation" in verdicts and "warm_start_is_a_speed_up" in verdicts
    for by_epoch in summary["tables"]["activation"].values():
        for interval in by_epoch.values():
            assert interval["low"] is None or interval["low"] <= interval["estimate"] <= interval["high"]
    assert {p.name for p in (out / "figures").iterdir()} == FIGURES
    assert "| claim (paper) |" in (out / "summary.md").read_text()
    stamp = {k: v for k, v in zip(frame["key"], frame["finished"])}
    assert mango(args) == 0  # the same study again: nothing recomputed
    again = load_results(out / "store")
    assert dict(zip(again["key"], again["finished"])) == stamp
    # the report rebuilds from the committed exports alone (a fresh clone has no store)
    import shutil

    shutil.rmtree(out / "store")
    (out / "summary.json").unlink()
    assert mango(["reproduce", "--resume", "--out", str(out), "--analyse-only"]) == 0
    assert json.loads((out / "summary.json").read_text())["claims"] == summary["claims"]


def test_a_folder_of_another_study_is_refused_and_settings_are_checked(tmp_path, capsys):
    preset("ci", tmp_path).save()
    assert mango(["reproduce", "--scale", "ci", "--out", str(tmp_path), "--set", "budget=99", "--dry-run"]) == 2
    assert "holds a study with other settings (budget: 16 -> 99)" in capsys.readouterr().err
    saved = json.loads((tmp_path / "study.json").read_text())  # a study saved before `run` settings existed
    (tmp_path / "study.json").write_text(json.dumps({k: v for k, v in saved.items() if not k.startswith("run")}))
    from mango_widgets.studies.reproduction.run import check_folder

    check_folder(preset("ci", tmp_path))  # the same settings: accepted (missing settings read as their defaults)
    assert mango(["reproduce", "--scale", "ci", "--out", str(tmp_path), "--set", "colour=red"]) == 2
    assert "cannot read --set 'colour=red'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="cannot read --set"):
        parse_overrides(["colour=red"])
    with pytest.raises(ConfigError, match="warm_method 'cma'"):
        preset("ci", tmp_path, warm_method="cma")
    with pytest.raises(ConfigError, match="dataset="):
        preset("ci", tmp_path, models="trained")
    assert parse_overrides(["layers=[\"lif1\"]", "budget=5", "data_root=/data"]) == {"layers": ("lif1",), "budget": 5, "data_root": "/data"}
    assert coarse_to_fine(list(range(1, 13))) == [12, 1, 6, 3, 9, 2, 4, 7, 10, 5, 8, 11]


def test_paper_scale_runs_end_to_end_on_a_tiny_cifar_folder(tmp_path):
    """CIFAR-10 from disk -> spiking ResNet18 and SN-GAN (and VQ-VAE) trained by the study -> searches -> report."""
    write_cifar10(tmp_path / "cifar", per_batch=8)
    out = tmp_path / "paper"
    settings = {"data_root": str(tmp_path / "cifar"), "verify_data": False, "train_epochs": 2, "generator_epochs": 1,
                "compare_train_epochs": 1, "train_limit": 16, "test_limit": 8, "batch_size": 8, "T": 2, "layer_count": 2,
                "units": 1, "seeds": 1, "budget": 8, "baseline_images": 8, "generator_args": {"width": 8},
                "bootstrap": 100, "permutations": 100, "device": "cpu"}
    args = ["reproduce", "--scale", "paper", "--out", str(out), "--inline", "--no-progress"]
    for name, value in settings.items():
        args += ["--set", f"{name}={json.dumps(value)}"]
    assert mango(args) == 0
    config = load_config(out)
    assert (config.network_model, config.generator_model, config.compare_generator) == ("spiking-resnet18", "sngan32", "vqvae32")
    for model in ("spiking-resnet18", "sngan32", "vqvae32"):
        assert (out / "models" / model / "model.pt").is_file()
    design = json.loads((out / "design.json").read_text())
    assert design["epochs"] == [1, 2] and design["layers"] == ["sn1", "layer4.1.sn2"] and design["T"] == 2
    frame = load_results(out / "store")
    assert (frame["status"] == "done").all()
    assert set(frame["network"]) == {"spiking-resnet18", "spiking-resnet18-vqvae32"}
    assert len(frame[frame["init"] == "cold"]) == 2 * 2 * 3 + 2 + 2 * 3  # cold + equal-budget controls + second generator
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["primary"] == "spiking-resnet18" and len(summary["claims"]) >= 12


def test_the_gpu_cost_script_dry_runs_on_the_cpu(tmp_path):
    module = load_benchmark("gpu_reproduce")
    assert module.main(["--dry-run", "--out", str(tmp_path / "cost.json")]) == 0
    result = json.loads((tmp_path / "cost.json").read_text())
    assert result["dry_run"] and result["device"] == "cpu" and set(result["images_per_second"]) == {"2", "4"}
    assert result["flops_per_image"]["network"] > 0 and result["optimizer_seconds_per_query"] > 0
    plan = result["paper_plan"]
    assert result["cost_best_batch"]["queries"] == plan["layers"] * plan["units"] * plan["epochs"] * plan["methods"] \
        * plan["seeds"] * plan["budget"] == 9 * 64 * 1000 * 3 * 3 * 10_000


def test_the_demo_plan_puts_a_coarse_grid_of_epochs_first_and_every_warm_cell_after_its_start(tmp_path):
    from mango_widgets.engine.spec import DemoModels
    from mango_widgets.studies.reproduction.plan import build_plan, design

    config = preset("demo", tmp_path, compare_generator=None)
    study = design(config, DemoModels())
    assert study.layers == ["lif1", "lif2", "lif3", "lif4", "lif_out"] and all(len(u) == 8 for u in study.units.values())
    plan = build_plan(config, {"demo": DemoModels()}, study, "demo")
    cells = plan.cells()
    assert len(cells) == 40 * 12 * 3 * 3 + 40 * 5 * 2  # cold + (warm, control) at the 5 warm epochs
    position = {cell.key: i for i, cell in enumerate(cells)}
    assert {(c.epoch, c.seed) for c in cells[:120]} == {(12, 0)}  # the last epoch, first seed, comes first
    first_round = cells[:position[next(c.key for c in cells if c.seed == 1)]]
    assert {c.epoch for c in first_round if c.init == "cold" and c.budget == 300 and c.method != "tt-b"} == {12, 1, 6, 3, 9}
    assert any(c.init == "warm" and c.epoch == 12 for c in first_round)  # the last epoch's warm pair comes early
    for warm, start in plan.dependencies().items():
        assert position[start] < position[warm]
    assert sum(c.budget == 600 for c in cells) == sum(c.init == "warm" for c in cells) == 200


def test_a_study_runs_on_the_checkpoints_of_a_train_long_run(tmp_path, capsys):
    """``models="run"`` (the ``long`` preset's kind): the checkpoints of a `mango train-long` run folder,
    with their held-out accuracy from the run's manifest; a missing run is refused with the command that makes it."""
    from tests.test_trained_runs import _train

    run = tmp_path / "runs" / "demo-snn"
    _train(run, epochs=2)
    out = tmp_path / "long"
    args = ["reproduce", "--scale", "long", "--out", str(out), "--inline", "--no-progress",
            "--set", f"run={json.dumps(str(run))}", "--set", "layers=[\"lif2\", \"lif_out\"]", "--set", "units=1",
            "--set", "epochs=[1, 2]", "--set", "seeds=1", "--set", "budget=8", "--set", "baseline_images=8",
            "--set", "bootstrap=100", "--set", "permutations=100"]
    assert mango(args) == 0
    design = json.loads((out / "design.json").read_text())
    assert design["epochs"] == [1, 2] and design["primary"] == "demo-snn" and design["compare"] is None
    assert design["T"] == 4  # the run's own exposure
    frame = load_results(out / "store")
    assert (frame["status"] == "done").all() and set(frame["init"]) == {"cold"}  # no warm starts in this preset
    assert len(frame) == 2 * 2 * 3  # 2 neurons x 2 epochs x 3 methods x 1 seed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["primary"] == "demo-snn"
    assert "figB_generators.png" not in (out / "summary.md").read_text()  # no second generator: no figure to link
    with pytest.raises(ConfigError, match="run="):
        preset("long", tmp_path / "x", run=None)
    assert mango(["reproduce", "--scale", "long", "--out", str(tmp_path / "none"), "--set",
                  f"run={json.dumps(str(tmp_path / 'missing'))}", "--dry-run"]) == 2
    assert "mango train-long --model NAME" in capsys.readouterr().err
