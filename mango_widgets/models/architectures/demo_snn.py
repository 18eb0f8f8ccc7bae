"""The demo spiking network: a small snnTorch convolutional SNN for 28x28 digits.

Each call of the module is one time step (snnTorch ``init_hidden=True`` neurons keep the
membrane state), so the :class:`mango_widgets.core.network.Network` wrapper drives the time loop
and resets the state per network before every batch.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

#: membrane decay of every LIF neuron, as in the paper
BETA = 0.9


def _lif(beta: float, threshold: float):
    import snntorch
    from snntorch import surrogate

    return snntorch.Leaky(
        beta=beta,
        threshold=threshold,
        spike_grad=surrogate.fast_sigmoid(slope=25),
        init_hidden=True,
    )


def demo_snn(beta: float = BETA, threshold: float = 1.0) -> nn.Sequential:
    """Build the demo SNN: four hidden spiking layers plus a spiking output layer.

    Layers (dotted names): conv1 -> pool1 -> lif1 (16 units), conv2 -> pool2 -> lif2 (32),
    conv3 -> lif3 (64), flatten -> fc1 -> lif4 (128), fc2 -> lif_out (10 classes).
    """
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 16, 5),  # 28 -> 24
            pool1=nn.MaxPool2d(2),  # 24 -> 12
            lif1=_lif(beta, threshold),
            conv2=nn.Conv2d(16, 32, 5),  # 12 -> 8
            pool2=nn.MaxPool2d(2),  # 8 -> 4
            lif2=_lif(beta, threshold),
            conv3=nn.Conv2d(32, 64, 3, padding=1),  # 4 -> 4
            lif3=_lif(beta, threshold),
            flatten=nn.Flatten(),
            fc1=nn.Linear(64 * 4 * 4, 128),
            lif4=_lif(beta, threshold),
            fc2=nn.Linear(128, 10),
            lif_out=_lif(beta, threshold),
        )
    )
