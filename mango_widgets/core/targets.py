"""What a search maximises: one unit of a layer, or one output class.

Targets are small values that parse from strings like ``"lif2:5"`` (unit 5 of layer lif2)
or ``"class:3"`` (class 3), and read their activation out of :meth:`Network.run` results.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Union

import torch

from mango_widgets.core.network import OUTPUT, Network
from mango_widgets.errors import ConfigError


@dataclass(frozen=True)
class UnitTarget:
    """Unit (channel) ``unit`` of the layer with dotted name ``layer``."""

    layer: str
    unit: int

    def __str__(self) -> str:
        return f"{self.layer}:{self.unit}"

    def validate(self, network: Network) -> None:
        network.check_unit(self.layer, self.unit)

    @property
    def layers(self) -> tuple:
        return (self.layer,)

    #: a unit target reads a hidden layer only (the network may skip the layers after it)
    reads_output = False

    def read(self, network: Network, activations: Dict[str, torch.Tensor]) -> torch.Tensor:
        return activations[self.layer][:, self.unit]


@dataclass(frozen=True)
class ClassTarget:
    """Output class ``index``: its probability for an ANN, its output spike rate for an SNN."""

    index: int

    def __str__(self) -> str:
        return f"class:{self.index}"

    def validate(self, network: Network) -> None:
        shape = network.output_shape
        if shape is None or len(shape) != 1:
            per_image = "no tensor" if shape is None else f"{list(shape)} ({math.prod(shape):,} values)"
            raise ConfigError(
                f"a class target needs a classifier output [batch, classes], but {network.name} returns {per_image} per image; "
                "probe a unit of a layer instead ('layer:unit', see network.layers()) or add a classification head"
            )
        classes = shape[0]
        if not 0 <= int(self.index) < classes:
            raise ConfigError(f"class {self.index} is out of range: {network.name} has classes 0..{classes - 1}")

    @property
    def layers(self) -> tuple:
        return ()

    #: a class target reads the network's output
    reads_output = True

    def read(self, network: Network, activations: Dict[str, torch.Tensor]) -> torch.Tensor:
        scores = activations[OUTPUT]
        if network.spiking:
            return scores[:, self.index]
        return torch.softmax(scores, dim=1)[:, self.index]


Target = Union[UnitTarget, ClassTarget]


def parse_target(text: Union[str, Target]) -> Target:
    """``"layer:unit"`` -> UnitTarget, ``"class:k"`` -> ClassTarget (targets pass through)."""
    if isinstance(text, (UnitTarget, ClassTarget)):
        return text
    name, sep, number = str(text).rpartition(":")
    if not sep or not name or not number.strip().lstrip("-").isdigit():
        raise ConfigError(f"cannot read target {text!r}; write 'layer:unit' (e.g. 'lif2:5') or 'class:k' (e.g. 'class:3')")
    if name in ("class", OUTPUT):
        return ClassTarget(int(number))
    return UnitTarget(name, int(number))
