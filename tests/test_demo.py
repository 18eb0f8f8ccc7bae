"""The bundled demo models: integrity, quality targets, and a real MEI search on them."""
import json
import shutil

import numpy as np
import pytest
import torch

from mango_widgets import Objective, Search, WeightsError
from mango_widgets.models.bundled import demo_epochs, demo_generator, demo_network, load_manifest, weights_dir
from mango_widgets.models.checkpoints import sha256_of
from mango_widgets.models.mnist_subset import load_mnist_subset


@pytest.fixture(scope="module")
def network(demo_network_at):
    return demo_network_at()


@pytest.fixture(scope="module")
def generator(demo_generator):
    return demo_generator


def test_manifest_hashes_match_and_weights_are_small():
    manifest = load_manifest()
    total = 0
    for name, entry in manifest["files"].items():
        path = weights_dir() / name
        assert sha256_of(path) == entry["sha256"]
        total += path.stat().st_size
    assert total < 30 * 2**20
    assert len(demo_epochs()) >= 10


@pytest.mark.slow
def test_demo_snn_has_four_spiking_layers_and_reaches_95_percent(network):
    spiking = [info.name for info in network.layers().values() if info.spiking]
    assert len(spiking) >= 4
    images, labels = load_mnist_subset("heldout")
    counts = torch.cat([network.run(chunk)["output"] for chunk in images.split(250)])
    accuracy = (counts.argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.95
    assert accuracy == pytest.approx(load_manifest()["snn"]["metrics"][-1]["heldout_accuracy"], abs=0.005)


@pytest.mark.slow
def test_generator_samples_are_confidently_classified(network, generator):
    """The manifest's quality gate, recomputed: 1,000 random grid points, SNN at T=20."""
    from mango_widgets.models.training.demo_generator import generator_quality

    gate = generator_quality(generator.model, network.module)
    recorded = load_manifest()["generator"]["metrics"]
    assert gate["snn_mean_top_class_probability"] >= 0.8
    # spike thresholds turn the CPU's float rounding into whole spikes: 0.81298 on an AMD EPYC host
    # against 0.8131 recorded; other weights or a broken pipeline miss by far more than 2e-3
    assert gate["snn_mean_top_class_probability"] == pytest.approx(recorded["snn_mean_top_class_probability"], abs=2e-3)
    assert min(gate["class_histogram"]) > 0  # every digit appears: no mode collapse
    # and through the toolkit's own path (Generator wrapper, Network.class_probabilities)
    probabilities = network.class_probabilities(generator(generator.grid.random(500, np.random.default_rng(1))))
    assert probabilities.max(1).values.mean().item() > 0.75


@pytest.mark.slow
def test_mei_excites_the_neuron_more_than_random_latents(network, generator):
    """TT-b against the best of as many random queries (same budget, same seeds): better on average
    over three seeds (at 500 queries random search wins some single seeds, so one seed proves little)."""
    def best(method, seed):
        return Search(Objective(generator, network, "lif3:0"), method, budget=500, seed=seed, threads=1).run()

    searches = [best("tt-b", seed) for seed in range(3)]
    random_bests = [best("random", seed).mei.activation for seed in range(3)]
    assert np.mean([s.mei.activation for s in searches]) > np.mean(random_bests)
    fresh = Objective(demo_generator(), demo_network(), "lif3:0")
    assert fresh(searches[0].mei.index[None])[0] == searches[0].mei.activation


def test_every_epoch_checkpoint_loads(generator):
    for epoch in demo_epochs():
        assert demo_network(epoch=epoch).layers()["lif4"].units == 128


def test_corrupt_or_missing_weights_are_clear_errors(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(weights_dir(), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    victim = folder / manifest["generator"]["file"]
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(WeightsError, match="corrupt.*sha256"):
        demo_generator(directory=str(folder))
    victim.unlink()
    with pytest.raises(WeightsError, match="does not exist"):
        demo_generator(directory=str(folder))
    with pytest.raises(WeightsError, match="no demo weights manifest"):
        demo_network(directory=str(tmp_path / "nowhere"))
