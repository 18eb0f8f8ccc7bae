"""The trained models bundled in the package: hashes, sizes, recomputed accuracy and quality, searches on them."""
import json
import shutil

import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Generator, Objective, Search, WeightsError
from mango_widgets.models import zoo
from mango_widgets.models.bundled import demo_network
from mango_widgets.models.mnist_subset import load_mnist_subset
from mango_widgets.models.trained import (
    GENERATOR_KIND,
    bundled_accuracy,
    bundled_dir,
    bundled_epochs,
    bundled_generator,
    bundled_names,
    bundled_network,
    bundled_root,
    load_generator,
    read_generator_manifest,
    read_run,
    run_network,
    verify_run,
)
from mango_widgets.models.training.epochs import evaluate
from mango_widgets.models.training.generator_bundle import bundle_generator, reconstruction, sample_quality, save_figure

RESNET = "spiking-resnet18-mnist"
#: all bundled weights together stay below this (issue 17)
MAX_BUNDLED_BYTES = 40 * 10**6


def test_bundled_files_are_listed_hashed_and_small_together():
    assert RESNET in bundled_names() and "vqvae28" in bundled_names(GENERATOR_KIND)
    for name in bundled_names():
        assert verify_run(bundled_dir(name)) == bundled_epochs(name)
    total = sum(p.stat().st_size for p in bundled_root().rglob("*.pt"))
    assert total <= MAX_BUNDLED_BYTES


@pytest.mark.slow
def test_bundled_resnet_is_the_paper_architecture_and_scores_what_its_manifest_says():
    manifest = read_run(bundled_dir(RESNET))
    last = bundled_epochs(RESNET)[-1]
    assert last == manifest["settings"]["epochs"] and set(bundled_accuracy(RESNET)) == set(range(1, last + 1))
    network = bundled_network(RESNET)
    assert network.time_mode == "sequence" and network.T == manifest["settings"]["T"] == 16
    assert network.layers()["layer2.1.sn1"].units == 2 * manifest["settings"]["width"]
    images, labels = load_mnist_subset("heldout")
    accuracy, top = evaluate(network, images, labels)
    recorded = manifest["metrics"][-1]
    # spike thresholds turn float rounding into whole spikes: other CPUs may differ by a few images
    assert accuracy == pytest.approx(recorded["heldout_accuracy"], abs=0.005)
    assert top == pytest.approx(recorded["heldout_mean_top_class_probability"], abs=0.005)
    assert accuracy >= 0.85  # 0.891 after 30 epochs (docs/training.md)


def test_every_bundled_epoch_loads_and_earlier_epochs_differ():
    epochs = bundled_epochs(RESNET)
    first, last = bundled_network(RESNET, epoch=epochs[0]), bundled_network(RESNET, epoch=epochs[-1], T=4)
    assert first.name == f"{RESNET}@epoch{epochs[0]}" and last.T == 4
    assert not torch.equal(first.module.fc.weight, last.module.fc.weight)
    with pytest.raises(ConfigError, match="no checkpoint for epoch"):
        bundled_network(RESNET, epoch=10**6)
    with pytest.raises(ConfigError, match="no bundled run called 'resnet9'"):
        bundled_network("resnet9")


def test_a_corrupted_bundled_copy_is_refused(tmp_path):
    copy = shutil.copytree(bundled_dir(RESNET), tmp_path / "copy")
    entry = read_run(copy)["epochs"][str(bundled_epochs(RESNET)[-1])]
    data = bytearray((copy / entry["file"]).read_bytes())
    data[len(data) // 2] ^= 1
    (copy / entry["file"]).write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        run_network(copy)
    gen_copy = shutil.copytree(bundled_dir("vqvae28", GENERATOR_KIND), tmp_path / "vq")
    (gen_copy / "generator.pt").write_bytes(b"\0" * 100)
    with pytest.raises(WeightsError, match="missing or corrupt"):
        load_generator(gen_copy)


@pytest.mark.slow
def test_bundled_vqvae_searches_codebook_indices_and_reproduces_its_quality_numbers():
    generator = bundled_generator("vqvae28")
    manifest = read_generator_manifest(bundled_dir("vqvae28", GENERATOR_KIND))
    assert generator.takes_indices and generator.grid.d == 64 and generator.grid.n == 512
    metrics = manifest["metrics"]
    held = reconstruction(generator.zoo_module, load_mnist_subset("heldout")[0])
    assert held["heldout_reconstruction_mse"] == pytest.approx(metrics["heldout_reconstruction_mse"], abs=1e-5)
    assert held["heldout_codebook_used"] == metrics["heldout_codebook_used"]
    quality = sample_quality(generator, demo_network(), metrics["samples"], metrics["seed"])
    assert quality["snn_mean_top_class_probability"] == pytest.approx(metrics["snn_mean_top_class_probability"], abs=2e-3)
    network = bundled_network(RESNET, T=4)
    search = Search(Objective(generator, network, "layer3.1.sn1:2"), "random", budget=40, seed=0, threads=1).run()
    assert search.queries == 40 and 0 <= search.history.best_value <= 1


@pytest.mark.slow
def test_bundle_generator_measures_and_hashes_a_trained_vqvae(tmp_path):
    from mango_widgets.models.training.train import main

    assert main(["--model", "vqvae28", "--epochs", "1", "--limit", "64", "--batch-size", "16", "--threads", "1",
                 "--device", "cpu", "--model-arg", "hidden=8", "--model-arg", "embedding_dim=4",
                 "--sample-rows", "2", "--out", str(tmp_path / "run")]) == 0
    manifest = bundle_generator(tmp_path / "run", tmp_path / "bundle", samples=30)
    assert manifest["metrics"]["samples"] == 30 and sum(manifest["metrics"]["class_histogram"]) == 30
    assert 0 < manifest["metrics"]["heldout_reconstruction_mse"] < 1
    assert manifest["metrics"]["reference_demo_dcgan"]["samples"] == 30
    assert manifest["settings"]["limit"] == 64 and manifest["history"][0]["epoch"] == 1
    generator = load_generator(tmp_path / "bundle")
    assert isinstance(generator, Generator) and generator.image_shape == (1, 28, 28)
    trained = zoo.load(tmp_path / "run" / "model.pt")
    idx = generator.grid.random(2, np.random.default_rng(0))
    assert torch.equal(generator(idx), trained(idx))
    assert json.loads((tmp_path / "bundle" / "manifest.json").read_text())["zoo"] == "vqvae28"
    from PIL import Image

    figure = save_figure(generator, tmp_path / "figure.png", load_mnist_subset("heldout")[0], columns=4)
    with Image.open(figure) as image:  # 2 rows of samples, originals, reconstructions: 4 rows of 4 tiles
        assert image.size == (4 * 30 + 2, 4 * 30 + 2)
