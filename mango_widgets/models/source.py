"""One model source: "the networks and the generator of a model family, at each checkpoint".

Sweeps, plans, ``mango reproduce`` and the epoch tools take a source instead of building models
themselves. A source is a small picklable value (Dask ships it to every task) that builds its
models where they are used. :class:`ModelSource` is the interface; :class:`DemoModels` (the
bundled demo SNN and DCGAN), :class:`CheckpointSource` (a user's architecture and per-epoch
``state_dict`` files), :class:`~mango_widgets.models.trained.TrainedRunSource` (a run of
``mango train-long``) and :class:`UntrainedDemoModels` (random weights) implement it;
:func:`check_source` says what an object lacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Protocol, Tuple, Union, runtime_checkable

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError, WeightsError, unknown_choice


@runtime_checkable
class ModelSource(Protocol):
    """What every model source offers (the whole interface: six members)."""

    name: str

    def epochs(self) -> List[int]:
        """Checkpoints with weights, in order."""

    def default_T(self) -> int:
        """The exposure (time steps) the network was trained at."""

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts (the same at every checkpoint)."""

    def network(self, epoch: int, T: int) -> Network:
        """The network at checkpoint ``epoch``, exposed for ``T`` steps."""

    def generator(self, spacing: str) -> Generator:
        """The generator on its search grid (``spacing`` applies to continuous latent grids)."""


MEMBERS = ("name", "epochs", "default_T", "layer_units", "network", "generator")


def check_source(source) -> ModelSource:
    """``source`` if it is a model source, else a clear error naming what it lacks."""
    lacking = [member for member in MEMBERS if not hasattr(source, member)]
    if lacking:
        raise ConfigError(
            f"{type(source).__name__} is not a model source: it lacks {', '.join(lacking)} "
            "(see mango_widgets.models.source.ModelSource; CheckpointSource wraps your own checkpoints)"
        )
    return source


def layer_units_at(source: ModelSource, epoch: Optional[int] = None) -> Dict[str, int]:
    """Probe-able layers of ``source``'s network at ``epoch`` (default: the last) with their unit counts."""
    network = source.network(source.epochs()[-1] if epoch is None else epoch, source.default_T())
    return {name: info.units for name, info in network.layers().items()}


@dataclass(frozen=True)
class DemoModels:
    """The bundled demo SNN (checkpoints = training epochs) and DCGAN generator (or a zoo generator)."""

    directory: Optional[str] = None  # weights folder (default: the bundled weights)
    name: str = "demo"
    generator_file: Optional[str] = None  # a zoo generator (model.pt + model.json) instead of the demo DCGAN

    def epochs(self) -> List[int]:
        """Epochs with bundled weights, in order."""
        from mango_widgets.models.bundled import demo_epochs

        return demo_epochs(self.directory)

    def default_T(self) -> int:
        """The T in the bundled manifest."""
        from mango_widgets.models.bundled import load_manifest

        return int(load_manifest(self.directory)["snn"]["T"])

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts (same at every checkpoint)."""
        return layer_units_at(self)

    def network(self, epoch: int, T: int) -> Network:
        """The demo SNN at ``epoch`` (sha256-checked)."""
        from mango_widgets.models.bundled import demo_network

        return demo_network(epoch=epoch, T=T, directory=self.directory)

    def generator(self, spacing: str = "uniform") -> Generator:
        """The demo DCGAN on a ``spacing`` grid, or the zoo generator in ``generator_file`` on its own grid."""
        if self.generator_file is not None:
            from mango_widgets.models import zoo

            return zoo.load(self.generator_file)  # its own grid (e.g. a VQ-VAE's codebook indices)
        from mango_widgets.models.bundled import demo_generator

        return demo_generator(spacing=spacing, directory=self.directory)


@dataclass(frozen=True)
class UntrainedDemoModels:
    """The demo architectures with fixed random weights (``seed``): one checkpoint, epoch 0 (before training).
    A stand-in when the bundled weights are missing, and an untrained control for the trained network."""

    name: str = "untrained demo SNN (random weights)"
    seed: int = 0
    T: int = 20

    def epochs(self) -> List[int]:
        """The one checkpoint: epoch 0, before any training."""
        return [0]

    def default_T(self) -> int:
        """The T given when the source was made."""
        return self.T

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts."""
        return layer_units_at(self)

    def network(self, epoch: int = 0, T: Optional[int] = None) -> Network:
        """The demo SNN architecture with the random weights of ``seed`` (the same on every call)."""
        import torch

        from mango_widgets.models.architectures.demo_snn import demo_snn

        if int(epoch) != 0:
            raise ConfigError(f"no checkpoint for epoch {epoch}: the untrained stand-in has epoch 0 only")
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            module = demo_snn(threshold=0.3)  # a lower threshold than trained: random weights still make spikes
        return Network(module, input_shape=(1, 28, 28), T=self.T if T is None else T, name="untrained-snn")

    def generator(self, spacing: str = "uniform") -> Generator:
        """The demo DCGAN architecture with the random weights of ``seed``, on a ``spacing`` grid."""
        import torch

        from mango_widgets.core.space import LatentGrid
        from mango_widgets.models.architectures.dcgan import DCGANGenerator

        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            module = DCGANGenerator().eval()
        return Generator(module, LatentGrid(spacing=spacing), image_shape=(1, 28, 28), name="untrained-dcgan")


@dataclass(frozen=True)
class CheckpointSource:
    """A user's model family: ``build()`` makes the ``nn.Module``, ``checkpoints`` maps epoch -> ``state_dict``
    file, ``make_generator(spacing)`` makes the generator. ``build`` and ``make_generator`` must be
    importable functions (not lambdas) to run on Dask workers; ``network_options`` go to
    :class:`~mango_widgets.core.network.Network` (``input_shape``, ``time_mode``, ...)."""

    build: Callable[[], object]
    checkpoints: Tuple[Tuple[int, str], ...]
    make_generator: Optional[Callable[[str], Generator]] = None
    name: str = ""
    T: int = 20
    network_options: Tuple[Tuple[str, object], ...] = field(default_factory=tuple)

    @classmethod
    def from_files(cls, build: Callable[[], object], checkpoints: Dict[int, Union[str, object]],
                   make_generator: Optional[Callable[[str], Generator]] = None, name: str = "", T: int = 20,
                   check: bool = True, **network_options) -> CheckpointSource:
        """A source from ``{epoch: path}``; with ``check`` every file is loaded into ``build()`` first, so an
        incompatible checkpoint is refused before any search runs."""
        if not checkpoints:
            raise ConfigError("no checkpoints given: pass {epoch: path to a state_dict file}")
        pairs = tuple(sorted((int(epoch), str(path)) for epoch, path in checkpoints.items()))
        source = cls(build, pairs, make_generator, name, int(T), tuple(sorted(network_options.items())))
        if check:
            from mango_widgets.models.checkpoints import load_state_dict

            for epoch, path in pairs:
                try:
                    load_state_dict(build(), path)
                except WeightsError as error:
                    raise WeightsError(f"epoch {epoch}: {error}") from error
        return source

    def epochs(self) -> List[int]:
        """Epochs with a checkpoint, in order."""
        return [epoch for epoch, _ in self.checkpoints]

    def default_T(self) -> int:
        """The T given when the source was made."""
        return self.T

    def layer_units(self) -> Dict[str, int]:
        """Probe-able layers with their unit counts (same at every checkpoint)."""
        return layer_units_at(self)

    def network(self, epoch: int, T: Optional[int] = None) -> Network:
        """The network with the weights of ``epoch`` (an epoch without a checkpoint is a clear error)."""
        from mango_widgets.models.checkpoints import load_state_dict

        files = dict(self.checkpoints)
        if int(epoch) not in files:
            raise ConfigError(f"no checkpoint for epoch {epoch}; saved epochs are {self.epochs()}")
        module = load_state_dict(self.build(), files[int(epoch)])
        options = dict(self.network_options)
        base = self.name or type(module).__name__
        return Network(module, name=f"{base}@epoch{int(epoch)}", T=self.T if T is None else T, **options)

    def generator(self, spacing: str = "uniform") -> Generator:
        """The generator ``make_generator`` builds (none given: a clear error)."""
        if self.make_generator is None:
            raise ConfigError(f"source {self.name or 'CheckpointSource'} has no generator: pass make_generator=")
        return self.make_generator(spacing)


#: model sources by name (the value builds the source)
SOURCES = {"demo": DemoModels}


def model_source(source: Union[str, object]) -> ModelSource:
    """A model source from its name (``"demo"``) or a source object (checked, passed through)."""
    if isinstance(source, str):
        if source not in SOURCES:
            raise unknown_choice("network", source, SOURCES)
        return SOURCES[source]()
    return check_source(source)
