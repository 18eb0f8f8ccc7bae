"""Every zoo network and generator builds, lists its layers, runs a search, saves and loads."""
import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Generator, LatentGrid, Network, Objective, Search, WeightsError
from mango_widgets.models import zoo
from mango_widgets.models.architectures import ann
from mango_widgets.runtime.gpu_backend import describe_backend, spikingjelly_line

SNNS = ["conv-snn-mnist", "conv-snn-cifar", "spiking-resnet18", "spiking-resnet18-mnist"]
TINY_GENERATORS = {
    "sngan32": {"width": 8},
    "dcgan28": {"width": 8},
    "vqvae32": {"hidden": 8, "embedding_dim": 4},
    "vqvae28": {"hidden": 8, "embedding_dim": 4},
}


def _generator_for(network: Network):
    return zoo.make_generator("dcgan28" if network.input_shape[0] == 1 else "sngan32", width=8)


def _search(network, generator, target, method="random", budget=50):
    search = Search(Objective(generator, network, target), method, budget=budget, seed=0, threads=1).run()
    assert search.state == "finished" and search.queries == budget
    assert search.mei.image.shape == network.input_shape
    return search


@pytest.mark.parametrize("name", SNNS)
@pytest.mark.slow
def test_snns_at_paper_T_list_spiking_layers_and_run_a_search(name):
    T = {"conv-snn-mnist": None, "conv-snn-cifar": 25, "spiking-resnet18": None, "spiking-resnet18-mnist": None}[name]
    network = zoo.make_network(name, T=T)  # default: T=100 for the snnTorch net, 50 for the spiking ResNet18
    assert network.T == {"conv-snn-mnist": 100, "conv-snn-cifar": 25, "spiking-resnet18": 50,
                         "spiking-resnet18-mnist": 16}[name]
    layers = network.layers()
    spiking = [info.name for info in layers.values() if info.spiking]
    assert spiking and network.spiking
    target = f"{spiking[len(spiking) // 2]}:0"
    search = _search(network, _generator_for(network), target)
    assert 0.0 <= search.history.best_value <= 1.0  # a spike rate


def test_spiking_resnet_names_blocks_like_spikingjelly_and_runs_multi_step():
    network = zoo.make_network("spiking-resnet18", T=4)
    assert network.time_mode == "sequence"
    layers = network.layers()
    assert layers["layer2.1.sn1"].units == 128 and layers["layer2.1.sn1"].spiking
    assert layers["layer4.1.sn2"].units == 512 and layers["fc"].units == 10


@pytest.mark.slow
def test_narrow_spiking_resnet_keeps_spikingjelly_names_and_scales_every_stage():
    network = zoo.make_network("spiking-resnet18-mnist", T=3)
    assert network.time_mode == "sequence" and network.input_shape == (1, 28, 28) and network.T == 3
    layers = network.layers()
    units = {name: layers[name].units for name in ("sn1", "layer1.1.sn2", "layer2.1.sn1", "layer3.0.sn2", "layer4.1.sn2")}
    assert units == {"sn1": 8, "layer1.1.sn2": 8, "layer2.1.sn1": 16, "layer3.0.sn2": 32, "layer4.1.sn2": 64}
    assert all(layers[name].spiking for name in units) and layers["fc"].units == 10
    assert sum(info.spiking for info in layers.values()) == 17  # stem + 2 per BasicBlock x 8
    out = network.run(torch.rand(2, 1, 28, 28), ["layer4.1.sn2"])
    assert out["output"].shape == (2, 10) and out["layer4.1.sn2"].shape == (2, 64)
    wide = zoo.make_network("spiking-resnet18-mnist", T=2, width=4).layers()
    assert wide["layer2.1.sn1"].units == 8 and wide["layer4.1.sn2"].units == 32


def test_full_width_is_spikingjellys_own_resnet18_and_bad_widths_are_refused():
    from spikingjelly.activation_based import neuron
    from spikingjelly.activation_based.model import spiking_resnet as sj

    ours = zoo.build_network_module("spiking-resnet18").state_dict()
    theirs = sj.spiking_resnet18(spiking_neuron=neuron.LIFNode, num_classes=10).state_dict()
    assert list(ours) == list(theirs) and all(ours[k].shape == theirs[k].shape for k in ours)
    for width in (0, 2.5, "8"):
        with pytest.raises(ConfigError, match="width must be a positive whole number"):
            zoo.make_network("spiking-resnet18-mnist", width=width)


@pytest.mark.slow
def test_narrow_spiking_resnet_pickles_and_gives_the_same_spikes():
    import pickle

    network = zoo.make_network("spiking-resnet18-mnist", T=4)
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    before = network.run(images, ["layer2.1.sn1"])["layer2.1.sn1"]
    again = pickle.loads(pickle.dumps(network))
    assert torch.equal(again.run(images, ["layer2.1.sn1"])["layer2.1.sn1"], before)


@pytest.mark.parametrize("arch", ann.ARCHITECTURES)
@pytest.mark.slow
def test_torchvision_anns_are_static_and_run_a_search(arch):
    network = zoo.make_network(arch, input_size=32, resize=64)  # ImageNet classes and normalisation
    assert network.time_mode == "static" and network.T == 1 and len(network.classes) == 1000
    layers = network.layers()
    assert len(layers) > 5
    _search(network, _generator_for(network), "class:1")


@pytest.mark.parametrize("name", list(TINY_GENERATORS))
def test_generators_make_unit_range_images_and_run_a_search(name):
    generator = zoo.make_generator(name, **TINY_GENERATORS[name])
    images = generator(generator.grid.random(3, np.random.default_rng(0)))
    assert images.shape == (3, *generator.image_shape) and 0 <= images.min() and images.max() <= 1
    network = zoo.make_network("conv-snn-mnist" if generator.image_shape[0] == 1 else "conv-snn-cifar", T=10)
    _search(network, generator, "lif1:0")


@pytest.mark.slow
def test_vqvae_search_space_is_discrete_codebook_indices():
    with torch.random.fork_rng():
        # seeded: with some initial weights the tiny untrained decoder is dead (all ReLUs off), and
        # every image is the same constant, whichever codes it gets
        torch.manual_seed(0)
        generator = zoo.make_generator("vqvae32", **TINY_GENERATORS["vqvae32"])
    assert generator.takes_indices and generator.grid == LatentGrid(d=64, n=512)
    seen = []
    vqvae = generator.zoo_module
    original = vqvae.decode_indices
    vqvae.decode_indices = lambda idx: seen.append(idx.clone()) or original(idx)
    generator(np.full((1, 64), 511))
    assert seen[0].dtype == torch.int64 and int(seen[0].max()) == 511  # an index picks a codebook entry
    a, b = np.zeros((1, 64), dtype=int), np.zeros((1, 64), dtype=int)
    b[0, 27] = 300
    assert not torch.equal(generator(a), generator(b))
    network = zoo.make_network("conv-snn-cifar", T=10)
    _search(network, generator, "lif2:3", method="tt", budget=50)  # PROTES on the 512-way grid


def test_save_and_load_in_one_call(tmp_path):
    generator = zoo.make_generator("sngan32", width=8)
    path = zoo.save(generator, tmp_path / "gan")
    again = zoo.load(path)
    idx = generator.grid.random(2, np.random.default_rng(1))
    assert isinstance(again, Generator) and torch.equal(generator(idx), again(idx))
    network = zoo.make_network("conv-snn-cifar", T=7, channels=[4, 8])
    loaded = zoo.load(zoo.save(network, tmp_path / "snn.pt"))
    assert isinstance(loaded, Network) and loaded.T == 7 and loaded.classes == network.classes
    images = torch.rand(2, 3, 32, 32)
    assert torch.equal(network.run(images, ["lif1"])["lif1"], loaded.run(images, ["lif1"])["lif1"])
    vq = zoo.make_generator("vqvae28", **TINY_GENERATORS["vqvae28"])
    assert zoo.load(zoo.save(vq, tmp_path / "vq")).takes_indices


def test_foreign_state_dict_reports_missing_unexpected_and_misshaped_keys(tmp_path):
    torch.save(zoo.build_network_module("conv-snn-mnist").state_dict(), tmp_path / "mnist.pt")
    with pytest.raises(WeightsError, match=r"mis-shaped keys: conv1\.weight.*file \(12, 1, 5, 5\) vs model \(12, 3, 5, 5\)"):
        zoo.make_network("conv-snn-cifar", weights=tmp_path / "mnist.pt")
    with pytest.raises(WeightsError, match=r"missing keys: .*layer1"):
        zoo.make_network("spiking-resnet18", weights=tmp_path / "mnist.pt")
    with pytest.raises(WeightsError, match="no model.json next to"):
        zoo.load(tmp_path / "model.pt")


@pytest.mark.slow
def test_ann_weights_from_local_file_or_hub_cache_never_downloaded_silently(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(WeightsError, match=r"no ImageNet weights for alexnet at .*alexnet-owt-7be5be79\.pth.*download=True"):
        zoo.make_network("alexnet", weights="imagenet")
    cached = ann.hub_cache_file("alexnet")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the real file")
    with pytest.raises(WeightsError, match="corrupt"):
        zoo.make_network("alexnet", weights="imagenet")
    module = zoo.build_network_module("resnet18", num_classes=10)
    torch.save(module.state_dict(), tmp_path / "mine.pt")
    network = zoo.make_network("resnet18", weights=tmp_path / "mine.pt", dataset="cifar10", resize=32)
    assert torch.equal(network.module.fc.weight, module.fc.weight)
    assert ann._DENSENET_LEGACY.sub(r"\1\2", "features.denseblock1.denselayer1.norm.1.weight") == \
        "features.denseblock1.denselayer1.norm1.weight"


def test_backend_choice_is_visible():
    info = describe_backend("cpu")
    assert spikingjelly_line() in ("2.x", "0.0.0.0.14") and not info.accelerated
    network = zoo.make_network("spiking-resnet18", T=2)
    assert network.module.backend == info.backend and f"backend={info.backend!r}" in repr(network.module)
    if spikingjelly_line() == "2.x":
        with pytest.raises(ConfigError, match=r"no 'cupy' backend.*backend='auto'"):
            zoo.make_network("spiking-resnet18", backend="cupy")


def test_spikingjelly_tau_10_decays_like_snntorch_beta_0_9():
    """Below threshold the two libraries' LIF membranes follow the same trace: v <- 0.9 v + x."""
    import snntorch
    from spikingjelly.activation_based import neuron

    current = torch.linspace(0.01, 0.09, 8).reshape(1, 8)  # never reaches the threshold 1
    sj = neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None, step_mode="m", store_v_seq=True)
    sj(current.expand(25, 1, 8).contiguous())
    leaky = snntorch.Leaky(beta=0.9, init_hidden=True)
    st_trace = []
    for _ in range(25):
        leaky(current)
        st_trace.append(leaky.mem.clone())
    torch.testing.assert_close(sj.v_seq, torch.stack(st_trace), rtol=1e-5, atol=1e-6)
    assert sj.v_seq[-1].max() > 0.5  # it did integrate


def test_registry_names_errors_and_your_own_entries():
    with pytest.raises(ConfigError, match=r"unknown network 'resnet9'.*spiking-resnet18.*alexnet"):
        zoo.make_network("resnet9")
    with pytest.raises(ConfigError, match=r"unknown generator 'biggan'.*sngan32.*vqvae32"):
        zoo.make_generator("biggan")
    with pytest.raises(ConfigError, match="input_size only applies"):
        zoo.make_network("conv-snn-mnist", input_size=64)
    entry = zoo.NetworkEntry("tiny-mlp-test", lambda num_classes=10: torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, num_classes)), (1, 28, 28), 1, "fashion-mnist", "a test MLP")
    zoo.register_network(entry)
    try:
        with pytest.raises(ConfigError, match="already registered"):
            zoo.register_network(entry)
        network = zoo.make_network("tiny-mlp-test")
        assert network.time_mode == "static" and network.classes[0] == "T-shirt/top"
        _search(network, zoo.make_generator("dcgan28", width=8), "class:0")
    finally:
        zoo.NETWORKS.pop("tiny-mlp-test")
