"""The model zoo: networks and generators by name, built into :class:`Network` / :class:`Generator`.

``make_network("spiking-resnet18", T=50)`` and ``make_generator("sngan32")`` look the name up
in a registry of entries (builder + input shape, default T, dataset, latent grid...), so the
core never branches on model names. :func:`register_network` / :func:`register_generator`
add your own. :func:`save` writes a zoo model as a state_dict (``.pt``) plus a JSON sidecar
(``.json``: entry name, builder kwargs, T, dataset); :func:`load` rebuilds it in one call.
Weights are always read with ``weights_only=True`` and checked key by key.
"""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

import torch
from torch import nn
from torch.nn import functional as F

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models.checkpoints import load_state_dict, read_json_manifest
from mango_widgets.models.datasets import dataset_spec
from mango_widgets.models.registry import add_named, named
from mango_widgets.records.atomic import write_json, write_torch

#: version of the JSON sidecar written by :func:`save`
FORMAT = 1


@dataclass(frozen=True)
class NetworkEntry:
    """How to build a network: ``builder(**kwargs)`` -> nn.Module taking ``input_shape`` images."""

    name: str
    builder: Callable[..., nn.Module]
    input_shape: Tuple[int, int, int]
    T: int
    dataset: str
    description: str
    kwargs: dict = field(default_factory=dict)
    resize: Optional[int] = None  # side the images are resized to before the module (ANNs)
    loads_weights: bool = False  # the builder takes ``weights=`` itself (e.g. torchvision ImageNet)


@dataclass(frozen=True)
class GeneratorEntry:
    """How to build a generator: ``builder(**kwargs)`` -> the trainable module; ``searchable``
    turns it into what the search calls (e.g. a VQ-VAE's index decoder)."""

    name: str
    builder: Callable[..., nn.Module]
    grid: LatentGrid
    image_shape: Tuple[int, int, int]
    dataset: str
    description: str
    trainer: str  # "gan" or "autoencoder": which loop `mango train` uses
    kwargs: dict = field(default_factory=dict)
    takes_indices: bool = False
    searchable: Optional[Callable[[nn.Module], nn.Module]] = None
    discriminator: Optional[Callable[..., nn.Module]] = None
    discriminator_kwargs: dict = field(default_factory=dict)


NETWORKS: Dict[str, NetworkEntry] = {}
GENERATORS: Dict[str, GeneratorEntry] = {}


def register_network(entry: NetworkEntry, replace: bool = False) -> NetworkEntry:
    """Add a network entry (``replace=True`` to overwrite one of the same name)."""
    return add_named(NETWORKS, entry, "network", replace)


def register_generator(entry: GeneratorEntry, replace: bool = False) -> GeneratorEntry:
    """Add a generator entry (``replace=True`` to overwrite one of the same name)."""
    return add_named(GENERATORS, entry, "generator", replace)


def network_entry(name: str) -> NetworkEntry:
    """The registered network entry called ``name``."""
    return named(NETWORKS, name, "network")


def generator_entry(name: str) -> GeneratorEntry:
    """The registered generator entry called ``name``."""
    return named(GENERATORS, name, "generator")


def describe() -> Dict[str, str]:
    """Every registered name with a one-line description."""
    return {**{n: e.description for n, e in NETWORKS.items()}, **{n: e.description for n, e in GENERATORS.items()}}


class Preprocess(nn.Module):
    """Images in [0, 1] -> what the network was trained on: optional resize, then (x - mean) / std."""

    def __init__(self, mean, std, resize: Optional[int] = None):
        super().__init__()
        self.resize = resize
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resize is not None and tuple(x.shape[-2:]) != (self.resize, self.resize):
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        return (x - self.mean.to(x.device)) / self.std.to(x.device)

    def extra_repr(self) -> str:
        return f"resize={self.resize}, mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


def _call_builder(builder: Callable, kwargs: dict, device: str) -> nn.Module:
    params = inspect.signature(builder).parameters
    if "device" in params and "device" not in kwargs:
        kwargs = {**kwargs, "device": device}
    try:
        return builder(**kwargs)
    except TypeError as error:
        raise ConfigError(f"cannot build {getattr(builder, '__name__', builder)} with {kwargs}: {error}") from error


def build_network_module(name: str, weights=None, device: str = "cpu", **kwargs) -> nn.Module:
    """The bare nn.Module of a zoo network (random weights unless ``weights`` is given)."""
    entry = network_entry(name)
    kwargs = {**entry.kwargs, **kwargs}
    if entry.loads_weights:
        module = _call_builder(entry.builder, {**kwargs, "weights": weights}, device)
        weights = None
        kwargs.pop("download", None)
    else:
        if "download" in kwargs:
            raise ConfigError(f"{name} has no downloadable weights; pass weights=<state_dict file>")
        module = _call_builder(entry.builder, kwargs, device)
    if weights is not None:
        load_state_dict(module, weights)
    module.mango_spec = {"kind": "network", "name": name, "kwargs": _jsonable(kwargs, name)}
    return module


def make_network(name: str, T: Optional[int] = None, weights=None, dataset: Optional[str] = None,
                 device: str = "cpu", input_size: Optional[int] = None, resize: Optional[int] = None,
                 **kwargs) -> Network:
    """A zoo network wrapped for probing.

    ``T``: time steps of exposure (default: the paper's value for that network);
    ``weights``: a state_dict file (or ``"imagenet"`` for torchvision ANNs, from the hub cache;
    add ``download=True`` to fetch); ``dataset``: whose class names and normalisation to use;
    ``input_size``/``resize``: for ANNs, the image side the generator delivers and the side it
    is resized to; other ``kwargs`` go to the builder (e.g. ``width``, ``num_classes``).
    """
    entry = network_entry(name)
    spec = dataset_spec(dataset or entry.dataset)
    if "num_classes" not in kwargs and "num_classes" in inspect.signature(entry.builder).parameters \
            and "num_classes" not in entry.kwargs:
        kwargs["num_classes"] = len(spec.classes)
    module = build_network_module(name, weights=weights, device=device, **kwargs)
    input_shape = entry.input_shape
    if input_size is not None:
        if entry.resize is None:
            raise ConfigError(f"{name} takes {entry.input_shape} images; input_size only applies to resized ANNs")
        input_shape = (input_shape[0], int(input_size), int(input_size))
    if len(spec.mean) != input_shape[0]:
        raise ConfigError(f"dataset {spec.name} has {len(spec.mean)}-channel images but {name} takes {input_shape}; "
                          f"pick a dataset with {input_shape[0]} channel(s) (its own is {entry.dataset!r})")
    side = resize or entry.resize
    network = Network(module, input_shape=input_shape, T=entry.T if T is None else T, classes=spec.classes,
                      preprocess=Preprocess(spec.mean, spec.std, side), device=device, name=name)
    network.zoo_spec = {**module.mango_spec, "T": network.T, "dataset": spec.name,
                        "input_size": input_size, "resize": resize}
    return network


def build_generator_module(name: str, weights=None, device: str = "cpu", **kwargs) -> nn.Module:
    """The trainable nn.Module of a zoo generator (e.g. the whole VQ-VAE)."""
    entry = generator_entry(name)
    kwargs = {**entry.kwargs, **kwargs}
    module = _call_builder(entry.builder, kwargs, device)
    if weights is not None:
        load_state_dict(module, weights)
    module.mango_spec = {"kind": "generator", "name": name, "kwargs": _jsonable(kwargs, name)}
    return module


def make_generator(name: str, weights=None, grid: Optional[LatentGrid] = None, device: str = "cpu",
                   **kwargs) -> Generator:
    """A zoo generator with its search grid (default: the entry's, e.g. 128 axes x 64 points on [-4, 4])."""
    entry = generator_entry(name)
    module = build_generator_module(name, weights=weights, device=device, **kwargs)
    model = entry.searchable(module) if entry.searchable is not None else module
    generator = Generator(model, grid or entry.grid, image_shape=generator_image_shape(entry, module),
                          takes_indices=entry.takes_indices, device=device, name=name)
    generator.zoo_module = module
    generator.zoo_spec = {**module.mango_spec, "grid": generator.grid.to_dict()}
    return generator


def generator_image_shape(entry: GeneratorEntry, module: nn.Module) -> Tuple[int, int, int]:
    """Image shape a built generator makes (its ``channels``/``image_size`` if it has them, else the entry's)."""
    channels = getattr(module, "channels", entry.image_shape[0])
    side = getattr(module, "image_size", entry.image_shape[1])
    return (int(channels), int(side), int(side))


def _jsonable(kwargs: dict, name: str) -> dict:
    try:
        return json.loads(json.dumps(kwargs))
    except TypeError as error:
        raise ConfigError(f"builder arguments of {name} must be plain JSON values to be saved: {error}") from error


# ------------------------------------------------------------------ save / load
def save(obj: Union[Network, Generator, nn.Module], path) -> Path:
    """Write a zoo model as ``path`` (state_dict, ``.pt``) + ``path`` with ``.json`` (how to rebuild it)."""
    if isinstance(obj, Generator):
        module, spec = getattr(obj, "zoo_module", None), getattr(obj, "zoo_spec", None)
    elif isinstance(obj, Network):
        module, spec = obj.module, getattr(obj, "zoo_spec", None)
    else:
        module, spec = obj, getattr(obj, "mango_spec", None)
    if module is None or spec is None:
        raise ConfigError("only models made by the zoo can be saved with zoo.save; for your own module use "
                          "torch.save(module.state_dict(), path) and checkpoints.load_state_dict")
    path = Path(path).with_suffix(".pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_torch(path, module.state_dict())
    write_json(path.with_suffix(".json"), {"format": FORMAT, **spec}, indent=1)
    return path


def read_sidecar(path) -> dict:
    """The JSON description saved next to a zoo weights file."""
    sidecar = Path(path).with_suffix(".json")
    spec = read_json_manifest(sidecar, "it tells which zoo model the weights belong to; for weights without it "
                              "use make_network/make_generator(name, weights=path)", "save the model again with zoo.save", beside=path)
    if spec.get("format") != FORMAT or spec.get("kind") not in ("network", "generator"):
        raise WeightsError(f"{sidecar} is not a mango_widgets zoo sidecar (format {FORMAT})")
    return spec


def load(path, device: str = "cpu", **overrides) -> Union[Network, Generator]:
    """Rebuild a model written by :func:`save` or ``mango train`` (weights + JSON sidecar) in one call."""
    path = Path(path).with_suffix(".pt")
    spec = read_sidecar(path)
    if spec["kind"] == "network":
        options = {k: spec.get(k) for k in ("T", "dataset", "input_size", "resize") if spec.get(k) is not None}
        return make_network(spec["name"], weights=path, device=device, **{**spec["kwargs"], **options, **overrides})
    grid = LatentGrid(**spec["grid"]) if "grid" in spec else None
    return make_generator(spec["name"], weights=path, grid=overrides.pop("grid", grid), device=device,
                          **{**spec["kwargs"], **overrides})


# ------------------------------------------------------------------ the built-in entries
def _builtin() -> None:
    """Register the models the toolkit ships (builders import their libraries lazily)."""
    from mango_widgets.models.architectures import ann, conv_snn, spiking_resnet
    from mango_widgets.models.architectures.dcgan import DCGANGenerator, SNDiscriminator
    from mango_widgets.models.architectures.sngan32 import SNGANDiscriminator, SNGANGenerator
    from mango_widgets.models.architectures.vqvae import VQVAE, IndexDecoder

    paper_grid = LatentGrid(d=128, n=64, low=-4.0, high=4.0)
    codebook_grid = LatentGrid(d=64, n=512)
    register_network(NetworkEntry(
        "conv-snn-mnist", conv_snn.conv_snn, (1, 28, 28), conv_snn.T_DEFAULT, "mnist-subset",
        "snnTorch conv SNN (LIF, decay 0.9), 28x28 grey input, T=100", {"in_channels": 1, "image_size": 28}))
    register_network(NetworkEntry(
        "conv-snn-cifar", conv_snn.conv_snn, (3, 32, 32), conv_snn.T_DEFAULT, "cifar10",
        "snnTorch conv SNN (LIF, decay 0.9), 32x32 colour input, T=100", {"in_channels": 3, "image_size": 32}))
    register_network(NetworkEntry(
        "spiking-resnet18", spiking_resnet.spiking_resnet18, (3, 32, 32), spiking_resnet.T_DEFAULT, "cifar10",
        "SpikingJelly spiking ResNet18, multi-step LIF (tau=10: decay 0.9), 32x32 colour input, T=50"))
    register_network(NetworkEntry(
        "spiking-resnet18-mnist", spiking_resnet.spiking_resnet18, (1, 28, 28), spiking_resnet.T_MNIST, "mnist-subset",
        f"the same spiking ResNet18 at width {spiking_resnet.WIDTH_MNIST} (stages {spiking_resnet.WIDTH_MNIST}x1/2/4/8 "
        f"channels), 3x3 stem + 2x2 pool for 28x28 grey input, T={spiking_resnet.T_MNIST} (trained: bundled_network)",
        {"in_channels": 1, "stem": "small", "width": spiking_resnet.WIDTH_MNIST}))
    for arch in ann.ARCHITECTURES:
        register_network(NetworkEntry(
            arch, ann.torchvision_ann, (3, 224, 224), 1, "imagenet",
            f"torchvision {arch} (ANN); weights='imagenet' from the torch hub cache or your file",
            {"arch": arch}, resize=224, loads_weights=True))
    register_generator(GeneratorEntry(
        "sngan32", SNGANGenerator, paper_grid, (3, 32, 32), "cifar10",
        "SN-GAN ResNet generator, 128-d latent -> 32x32 colour (hinge loss, spectral-norm critic)", "gan",
        discriminator=SNGANDiscriminator))
    register_generator(GeneratorEntry(
        "dcgan28", DCGANGenerator, paper_grid, (1, 28, 28), "mnist-subset",
        "DCGAN-size generator, 128-d latent -> 28x28 grey (hinge loss, spectral-norm critic)", "gan",
        discriminator=SNDiscriminator))
    register_generator(GeneratorEntry(
        "vqvae32", VQVAE, codebook_grid, (3, 32, 32), "cifar10",
        "VQ-VAE, discrete 8x8 latent over 512 codebook entries -> 32x32 colour", "autoencoder",
        {"channels": 3, "image_size": 32}, takes_indices=True, searchable=IndexDecoder))
    register_generator(GeneratorEntry(
        "vqvae28", VQVAE, codebook_grid, (1, 28, 28), "mnist-subset",
        "VQ-VAE, discrete 8x8 latent over 512 codebook entries -> 28x28 grey", "autoencoder",
        {"channels": 1, "image_size": 28}, takes_indices=True, searchable=IndexDecoder))


_builtin()
