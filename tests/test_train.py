"""`mango train` end to end on tiny data on the CPU: SNNs, ANNs, GAN and VQ-VAE generators."""
import csv
import json

import pytest
import torch

from mango_widgets import Generator, Network, Objective, Search
from mango_widgets.models import zoo
from mango_widgets.models.training.train import main, parse_args, train
from tests.test_datasets import write_cifar10, write_idx, write_imagenet

TINY = ["--threads", "1", "--batch-size", "8", "--test-limit", "8"]


def _run(tmp_path, *args):
    config = parse_args(["--out", str(tmp_path / "run"), "--data-root", str(tmp_path / "data"), *TINY, *args])
    messages = []
    metrics = train(config, progress=messages.append)
    return config, metrics, messages


def test_snn_classifier_metrics_checkpoints_and_trained_model_search(tmp_path):
    write_idx(tmp_path / "data", "MNIST", n_train=24, n_test=8)
    config, metrics, messages = _run(tmp_path, "--model", "conv-snn-mnist", "--dataset", "mnist", "--T", "3",
                                     "--epochs", "3", "--checkpoint-every", "2", "--model-arg", "channels=[4,8]")
    out = tmp_path / "run"
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] and rows == [{k: str(v) for k, v in m.items()} for m in metrics]
    assert {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"} <= set(rows[0])
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == ["epoch_002.pt", "epoch_003.pt"]
    assert "epoch 3/3" in messages[-1]
    network = zoo.load(out / "model.pt")
    assert isinstance(network, Network) and network.T == 3 and network.classes[0] == "0"
    search = Search(Objective(zoo.make_generator("dcgan28", width=8), network, "lif2:1"), "random", budget=50,
                    threads=1).run()
    assert search.queries == 50


def test_resume_repeats_the_uninterrupted_run(tmp_path):
    write_idx(tmp_path / "data", "FashionMNIST", n_train=16, n_test=8)
    common = ["--model", "conv-snn-mnist", "--dataset", "fashion-mnist", "--T", "2", "--model-arg", "channels=[2,4]"]
    _, straight, _ = _run(tmp_path, *common, "--epochs", "2")
    first = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    checkpoint = tmp_path / "run" / "checkpoints" / "epoch_001.pt"
    _, resumed, messages = _run(tmp_path, *common, "--epochs", "2", "--resume", str(checkpoint))
    assert "resumed from" in messages[0] and resumed == [dict(m, seconds=r["seconds"]) for m, r in zip(straight, resumed)]
    again = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert all(torch.equal(first[k], again[k]) for k in first)


def test_spiking_resnet_and_ann_train_on_cifar_and_imagenet_files(tmp_path):
    write_cifar10(tmp_path / "data", per_batch=2)
    _, metrics, _ = _run(tmp_path, "--model", "spiking-resnet18", "--dataset", "cifar10", "--no-verify", "--T", "2",
                         "--epochs", "1", "--batch-size", "4")
    assert metrics[0]["epoch"] == 1 and metrics[0]["train_loss"] > 0
    assert zoo.load(tmp_path / "run" / "model.pt").T == 2
    write_imagenet(tmp_path / "data")
    _, metrics, _ = _run(tmp_path, "--model", "resnet18", "--dataset", "imagenet", "--image-size", "32", "--epochs", "1",
                         "--model-arg", "input_size=32", "--model-arg", "num_classes=2")
    network = zoo.load(tmp_path / "run" / "model.pt")
    assert network.input_shape == (3, 32, 32) and len(network.classes) == 1000 and network.run(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize("model, extra", [
    ("sngan32", ["--model-arg", "width=8", "--disc-arg", "width=8"]),
    ("vqvae32", ["--model-arg", "hidden=8", "--model-arg", "embedding_dim=4"]),
])
def test_generators_train_save_load_and_write_a_sample_grid(tmp_path, model, extra):
    from PIL import Image

    write_cifar10(tmp_path / "data", per_batch=4)
    _, metrics, _ = _run(tmp_path, "--model", model, "--dataset", "cifar10", "--no-verify", "--epochs", "2",
                         "--sample-rows", "3", *extra)
    keys = {"sngan32": {"d_loss", "g_loss"}, "vqvae32": {"recon_loss", "vq_loss", "codebook_used"}}[model]
    assert keys <= set(metrics[-1]) and len(metrics) == 2
    generator = zoo.load(tmp_path / "run" / "model.pt")
    assert isinstance(generator, Generator) and generator.image_shape == (3, 32, 32)
    with Image.open(tmp_path / "run" / "samples.png") as grid:
        assert grid.size == (3 * 33 + 1, 3 * 33 + 1)  # 3x3 tiles of 32 px, 1 px padding


def test_dcgan_trains_on_the_offline_subset_by_default(tmp_path):
    _, metrics, _ = _run(tmp_path, "--model", "dcgan28", "--limit", "16", "--epochs", "1",
                         "--model-arg", "width=8", "--disc-arg", "width=4")
    assert metrics[0]["d_loss"] > 0 and (tmp_path / "run" / "samples.png").is_file()


def test_cli_main_reports_bad_input_with_the_fix(tmp_path, capsys):
    assert main(["--model", "conv-snn-cifar", "--dataset", "cifar10", "--data-root", str(tmp_path),
                 "--out", str(tmp_path / "x")]) == 2
    assert "cifar-10-batches-py" in capsys.readouterr().err
    assert main(["--model", "conv-snn-cifar", "--dataset", "mnist-subset", "--out", str(tmp_path / "x")]) == 2
    assert "mnist-subset has 1-channel images but conv-snn-cifar takes (3, 32, 32)" in capsys.readouterr().err
    assert main(["--model", "resnet9", "--out", str(tmp_path / "x")]) == 2
    assert "unknown model 'resnet9'" in capsys.readouterr().err
    assert main(["--model", "dcgan28", "--limit", "4", "--batch-size", "8", "--epochs", "1",
                 "--model-arg", "width=8", "--out", str(tmp_path / "y")]) == 2
    assert "lower --batch-size" in capsys.readouterr().err
