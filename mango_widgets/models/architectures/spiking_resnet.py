"""SpikingJelly spiking ResNet18 (multi-step LIF) for CIFAR-size input, as in the paper.

The network is SpikingJelly's own ``spiking_resnet18`` (so layer names such as
``layer2.1.sn1`` match the SpikingJelly model zoo and its weight files), in multi-step mode:
it takes the image repeated for T frames as one ``[T, B, C, H, W]`` tensor.

LIF choice: the paper's membrane decay of 0.9 is SpikingJelly's ``LIFNode(tau=10,
decay_input=False)``: ``v <- v - v / tau + x = 0.9 v + x``, the same update as snnTorch's
``Leaky(beta=0.9)``. We also use the soft ("subtract") reset (``v_reset=None``) like
snnTorch's default, so the two libraries' neurons agree step for step.

Stem: ``stem="imagenet"`` keeps SpikingJelly's 7x7/2 convolution and max-pool (the paper's
reference setting, and 10-16x cheaper on 32x32 input); ``stem="cifar"`` uses a 3x3/1
convolution without max-pool (the usual CIFAR ResNet stem: more accurate, much slower).

The accelerated neuron backend is chosen by :mod:`mango_widgets.runtime.gpu_backend` and shown in the
model's ``backend`` attribute and repr.
"""
from __future__ import annotations

from functools import lru_cache

from torch import nn

from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.runtime.gpu_backend import BackendInfo, describe_backend, lif_backend_kwargs

#: SpikingJelly time constant that gives the paper's membrane decay of 0.9 (decay_input=False)
TAU = 10.0
#: stems that adapt the network to the input size
STEMS = ("imagenet", "cifar")
#: default exposure (the paper's T for the spiking ResNet18)
T_DEFAULT = 50


@lru_cache(maxsize=None)
def _with_backend_repr(base: type) -> type:
    """A subclass of SpikingJelly's ResNet class whose repr names the neuron backend."""

    def extra_repr(self) -> str:
        return f"backend={self.backend!r} ({self.backend_info.line} SpikingJelly), multi-step, tau={self.tau}"

    return type(base.__name__, (base,), {"extra_repr": extra_repr, "__module__": __name__})


def spiking_resnet18(
    num_classes: int = 10,
    in_channels: int = 3,
    stem: str = "imagenet",
    tau: float = TAU,
    v_threshold: float = 1.0,
    soft_reset: bool = True,
    device: str = "cpu",
    backend: str = "auto",
) -> nn.Module:
    """Build the multi-step spiking ResNet18 (random weights).

    ``backend``: ``auto`` picks the fastest neuron kernels for ``device`` (CuPy on the
    SpikingJelly 0.0.0.0.14 line, CUDA/Triton on 2.x), ``torch`` forces plain PyTorch,
    ``cupy`` insists on CuPy. The result's ``backend`` attribute says what was chosen.
    """
    if stem not in STEMS:
        raise unknown_choice("stem", stem, STEMS)
    if float(tau) <= 1.0:
        raise ConfigError(f"tau must be > 1 (decay 1 - 1/tau), got {tau}; tau=10 gives the paper's decay 0.9")
    info: BackendInfo = describe_backend(device, backend)
    from spikingjelly.activation_based import functional, layer, neuron
    from spikingjelly.activation_based.model import spiking_resnet as sj

    net = sj.spiking_resnet18(
        spiking_neuron=neuron.LIFNode,
        num_classes=int(num_classes),
        tau=float(tau),
        decay_input=False,
        v_threshold=float(v_threshold),
        v_reset=None if soft_reset else 0.0,
        detach_reset=True,
        **lif_backend_kwargs(info),
    )
    if stem == "cifar":
        net.conv1 = layer.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = layer.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    functional.set_step_mode(net, "m")
    net.__class__ = _with_backend_repr(type(net))
    net.backend = info.backend
    net.backend_info = info
    net.tau = float(tau)
    return net
