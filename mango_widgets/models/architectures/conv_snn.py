"""The paper's first model: an snnTorch convolutional SNN (LIF, decay 0.9) for MNIST- or CIFAR-size input.

Architecture (the snnTorch tutorial convolutional SNN the paper builds on): conv 5x5 ->
max-pool 2 -> LIF, conv 5x5 -> max-pool 2 -> LIF, linear -> LIF output. Each call of the
module is one time step (``init_hidden=True``), so the Network wrapper drives the time loop
(the paper exposes each image for T = 100 steps; any T works) and resets the state.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from torch import nn

from mango_widgets.errors import ConfigError
from mango_widgets.models.architectures.demo_snn import _lif

#: membrane decay of every LIF neuron (the paper's value)
BETA = 0.9
#: the paper's exposure for this network
T_DEFAULT = 100


def conv_snn(
    in_channels: int = 1,
    image_size: int = 28,
    num_classes: int = 10,
    channels: Sequence[int] = (12, 64),
    kernel_size: int = 5,
    beta: float = BETA,
    threshold: float = 1.0,
) -> nn.Sequential:
    """Build the conv SNN. Layers: conv1, pool1, lif1, conv2, pool2, lif2, flatten, fc, lif_out.

    ``image_size`` 28 (MNIST, Fashion-MNIST) or 32 (CIFAR-10); any size whose feature map
    survives two conv+pool stages works.
    """
    if not 0.0 < beta < 1.0:
        raise ConfigError(f"beta (membrane decay) must lie in (0, 1), got {beta}; the paper uses 0.9")
    c1, c2 = (int(c) for c in channels)
    size = image_size
    for _ in range(2):
        size = (size - kernel_size + 1) // 2
    if size < 1:
        raise ConfigError(f"image_size {image_size} is too small for two {kernel_size}x{kernel_size} conv + pool stages")
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(in_channels, c1, kernel_size),
            pool1=nn.MaxPool2d(2),
            lif1=_lif(beta, threshold),
            conv2=nn.Conv2d(c1, c2, kernel_size),
            pool2=nn.MaxPool2d(2),
            lif2=_lif(beta, threshold),
            flatten=nn.Flatten(),
            fc=nn.Linear(c2 * size * size, num_classes),
            lif_out=_lif(beta, threshold),
        )
    )
