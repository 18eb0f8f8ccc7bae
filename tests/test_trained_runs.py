"""`mango train-long` runs: per-epoch weights with sha256, exact resume, refusal of corrupt files, bundling."""
import json
import shutil

import pytest
import torch

from mango_widgets import ConfigError, Network, WeightsError
from mango_widgets.models.recipes import RECIPES, Recipe, register_recipe
from mango_widgets.models.trained import read_run, run_accuracy, run_epochs, run_network, verify_run
from mango_widgets.models.training.epochs import EpochRun
from mango_widgets.models.training.long_run import bundle_run, main

#: the demo SNN's recipe on 200 training / 100 held-out images at T=4: a fraction of a second an epoch
QUICK = dict(T=4, train_limit=200, heldout_limit=100, batch_size=20, warmup_steps=5, lr=3e-3, epochs=3)


class Interrupt(Exception):
    """Stands for a kill right after an epoch was saved."""


def _train(out, stop_after=None, **overrides):
    def progress(message):
        if stop_after is not None and f"epoch {stop_after}/" in message:
            raise Interrupt(message)

    return EpochRun("demo-snn", out, {**QUICK, **overrides}, threads=1, progress=progress).run()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "demo"
    _train(out)
    return out


@pytest.fixture
def linear_recipe():
    """A recipe that learns within seconds (a linear read-out of the pixels), to see the loop train."""
    from torch import nn

    def build(settings, device="cpu"):
        return Network(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), input_shape=(1, 28, 28), T=1,
                       classes=[str(i) for i in range(10)], device=device, name="linear")

    register_recipe(Recipe("linear-test", "logistic regression on the pixels", build, {"max_shift": 0}))
    yield "linear-test"
    del RECIPES["linear-test"]


def test_the_loop_trains_a_classifier_and_held_out_accuracy_rises(linear_recipe, tmp_path):
    manifest = EpochRun(linear_recipe, tmp_path / "linear", dict(epochs=3, train_limit=600, heldout_limit=300,
                                                                  batch_size=20, warmup_steps=5, lr=1e-2),
                        progress=lambda message: None).run()
    accuracy = [row["heldout_accuracy"] for row in manifest["metrics"]]
    assert accuracy[-1] >= 0.7 and accuracy[-1] > accuracy[0] - 0.02  # chance is 0.1
    assert manifest["metrics"][-1]["train_loss"] < manifest["metrics"][0]["train_loss"]
    assert manifest["network"]["time_mode"] == "static"


def test_every_epoch_has_weights_sha256_and_heldout_metrics(run):
    manifest = read_run(run)
    assert run_epochs(run) == [1, 2, 3] and manifest["complete"]
    assert verify_run(run) == [1, 2, 3]
    accuracy = run_accuracy(run)
    assert sorted(accuracy) == [1, 2, 3] and all(0 <= a <= 1 for a in accuracy.values())
    assert manifest["settings"]["T"] == 4 and manifest["network"]["time_mode"] == "step"
    assert manifest["data"] == "mnist-subset: 200 train / 100 held-out"
    network = run_network(run, epoch=3)
    assert isinstance(network, Network) and network.T == 4 and network.name == "demo-snn@epoch3"
    assert network.classes[3] == "3"


def test_the_loaded_network_scores_what_the_manifest_says(run):
    from mango_widgets.models.training.epochs import _tensors, evaluate

    images, labels = _tensors("mnist-subset", "test", 100)
    accuracy, _ = evaluate(run_network(run, epoch=3), images, labels)
    assert accuracy == pytest.approx(run_accuracy(run)[3], abs=1e-9)


def test_a_killed_run_resumes_and_repeats_the_uninterrupted_one(run, tmp_path):
    out = tmp_path / "killed"
    with pytest.raises(Interrupt):
        _train(out, stop_after=2)
    assert run_epochs(out) == [1, 2] and not read_run(out)["complete"]
    _train(out)
    straight, resumed = read_run(run), read_run(out)
    assert [e["sha256"] for e in resumed["epochs"].values()] == [e["sha256"] for e in straight["epochs"].values()]
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in straight["metrics"]]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in resumed["metrics"]] == strip


def test_other_settings_or_another_folder_are_refused_with_the_fix(run, tmp_path):
    with pytest.raises(ConfigError, match=r"other settings \(T: run has 4, asked 7\).*new --out"):
        _train(run, T=7)
    with pytest.raises(ConfigError, match="has no setting 'widht'"):
        EpochRun("demo-snn", tmp_path / "x", {"widht": 8})
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds other files"):
        _train(tmp_path / "busy")
    with pytest.raises(ConfigError, match="unknown recipe 'resnet9'.*spiking-resnet18-mnist"):
        EpochRun("resnet9", tmp_path / "y")


def test_a_corrupt_weights_file_is_refused_naming_the_epoch(run, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    path = copy / read_run(copy)["epochs"]["2"]["file"]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"epoch 2: weights/epoch_002\.pt does not match its sha256"):
        verify_run(copy)
    with pytest.raises(WeightsError, match="corrupt: its sha256 does not match"):
        run_network(copy, epoch=2)
    assert run_network(copy, epoch=3).T == 4  # the intact epochs still load
    assert main(["--verify", str(copy)]) == 2
    assert "epoch 2" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="no checkpoint for epoch 9.*saved epochs: 1-3"):
        run_network(run, epoch=9)


def test_bundle_keeps_chosen_epochs_and_every_epochs_hash(run, tmp_path):
    dest = bundle_run(run, tmp_path / "bundle", [1, 3])
    assert run_epochs(dest) == [1, 3] and verify_run(dest) == [1, 3]
    bundled, full = read_run(dest), read_run(run)
    assert bundled["full_run_sha256"] == {e: v["sha256"] for e, v in full["epochs"].items()}
    assert run_accuracy(dest) == run_accuracy(run)  # metrics of all epochs, also those not bundled
    a, b = run_network(dest, epoch=3).module.state_dict(), run_network(run, epoch=3).module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match=r"cannot bundle epochs \[7\]"):
        bundle_run(run, tmp_path / "other", [1, 7])
    assert not (tmp_path / "bundle" / "resume.pt").exists()
    assert json.loads((dest / "manifest.json").read_text())["recipe"] == "demo-snn"


def test_cli_trains_resumes_and_reports_finished_runs(tmp_path, capsys):
    args = ["--model", "demo-snn", "--out", str(tmp_path / "cli"), "--epochs", "1", "--T", "3",
            "--set", "train_limit=60", "--set", "heldout_limit=40", "--set", "batch_size=20"]
    assert main(args) == 0
    assert "demo-snn epoch 1/1" in capsys.readouterr().out
    assert main(args) == 0
    assert "already trained" in capsys.readouterr().out
    assert main(["--model", "demo-snn", "--set", "width"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main([*args, "--bundle", str(tmp_path / "b")]) == 2
    assert "--bundle needs --bundle-epochs" in capsys.readouterr().err
    assert main([*args, "--bundle", str(tmp_path / "b"), "--bundle-epochs", "1"]) == 0
    assert run_epochs(tmp_path / "b") == [1]


def test_a_run_is_a_sweep_model_source(run):
    import pickle

    from mango_widgets.engine.spec import model_source
    from mango_widgets.models.trained import TrainedRunSource

    source = model_source(TrainedRunSource(str(run)))
    assert source.name == "demo" and source.epochs() == [1, 2, 3] and source.default_T() == 4
    assert source.layer_units()["lif3"] == 64
    network = source.network(2, 3)
    assert network.T == 3 and network.name == "demo-snn@epoch2"
    assert source.generator("uniform").grid.d == 128
    assert len(pickle.dumps(source)) < 500


def test_a_reproduced_run_is_checked_epoch_by_epoch_against_a_bundle(run, tmp_path, monkeypatch):
    from mango_widgets.models import trained

    monkeypatch.setattr(trained, "bundled_root", lambda: tmp_path / "package")
    bundle_run(run, tmp_path / "package" / "quick", [3])
    assert trained.bundled_names() == ["quick"] and trained.bundled_epochs("quick") == [3]
    assert trained.same_weights_as_bundle(run, "quick") == {1: True, 2: True, 3: True}
    _train(tmp_path / "other-seed", seed=1, epochs=2)
    with pytest.raises(ConfigError, match="other settings"):
        _train(tmp_path / "other-seed", seed=1)  # epochs 2 vs 3: the schedule differs
    assert trained.same_weights_as_bundle(tmp_path / "other-seed", "quick") == {1: False, 2: False}


def test_the_spiking_resnet_recipe_trains_saves_and_reloads_in_sequence_mode(tmp_path):
    settings = dict(epochs=1, width=2, T=2, train_limit=40, heldout_limit=20, batch_size=20, warmup_steps=1)
    manifest = EpochRun("spiking-resnet18-mnist", tmp_path / "srn", settings, progress=lambda m: None).run()
    assert manifest["network"] == {"input_shape": [1, 28, 28], "T": 2, "time_mode": "sequence",
                                   "classes": [str(i) for i in range(10)]}
    network = run_network(tmp_path / "srn", T=3)
    assert network.T == 3 and network.layers()["layer2.1.sn1"].units == 4
    assert network.preprocess is not None  # MNIST normalisation, as in training
    saved = torch.load(tmp_path / "srn" / "weights" / "epoch_001.pt", weights_only=True)
    assert any("running_mean" in k for k in saved)  # BatchNorm statistics travel with the weights
    assert all(torch.equal(saved[k], v) for k, v in network.module.state_dict().items())
