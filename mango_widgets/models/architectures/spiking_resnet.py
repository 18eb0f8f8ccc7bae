"""SpikingJelly spiking ResNet18 (multi-step LIF), as in the paper, at full or reduced width.

The network is SpikingJelly's own ``SpikingResNet`` with its ``BasicBlock`` (layers
[2, 2, 2, 2]), so layer names such as ``layer2.1.sn1`` match the SpikingJelly model zoo and
its weight files, in multi-step mode: it takes the image repeated for T frames as one
``[T, B, C, H, W]`` tensor. ``width`` sets the channels of the four stages (w, 2w, 4w, 8w;
SpikingJelly's is 64): ``width=8`` has 1/64 of the weights and trains on a CPU.

LIF choice: the paper's membrane decay of 0.9 is SpikingJelly's ``LIFNode(tau=10,
decay_input=False)``: ``v <- v - v / tau + x = 0.9 v + x``, the same update as snnTorch's
``Leaky(beta=0.9)``. We also use the soft ("subtract") reset (``v_reset=None``) like
snnTorch's default, so the two libraries' neurons agree step for step.

Stem: ``stem="imagenet"`` keeps SpikingJelly's 7x7/2 convolution and max-pool (the paper's
reference setting, and 10-16x cheaper on 32x32 input); ``stem="cifar"`` uses a 3x3/1
convolution without max-pool (the usual CIFAR ResNet stem: more accurate, much slower);
``stem="small"`` is a 3x3/1 convolution then a 2x2 max-pool, for 28x28 digits (the four
stages see 14, 7, 4 and 2 pixels a side; the imagenet stem would leave layer4 at 1x1).

The accelerated neuron backend is chosen by :mod:`mango_widgets.runtime.gpu_backend` and shown in the
model's ``backend`` attribute and repr.
"""
from __future__ import annotations

from functools import cache

from torch import nn

from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.runtime.gpu_backend import BackendInfo, describe_backend, lif_backend_kwargs

#: SpikingJelly time constant that gives the paper's membrane decay of 0.9 (decay_input=False)
TAU = 10.0
#: stems that adapt the network to the input size
STEMS = ("imagenet", "cifar", "small")
#: channels of the first stage in SpikingJelly's (and torchvision's) ResNet18
FULL_WIDTH = 64
#: BasicBlocks per stage of a ResNet18
BLOCKS = (2, 2, 2, 2)
#: default exposure (the paper's T for the spiking ResNet18)
T_DEFAULT = 50
#: width and exposure of the 28x28 digit network trained on this CPU (benchmarks/resnet_throughput.py)
WIDTH_MNIST = 8
T_MNIST = 16


@cache
def _with_backend_repr(base: type) -> type:
    """A subclass of SpikingJelly's ResNet class whose repr names the neuron backend."""

    def extra_repr(self) -> str:
        return f"backend={self.backend!r} ({self.backend_info.line} SpikingJelly), multi-step, tau={self.tau}"

    return type(base.__name__, (base,), {"extra_repr": extra_repr, "__module__": __name__})


@cache
def _narrow_resnet_class() -> type:
    """SpikingJelly's ``SpikingResNet`` with stage widths w, 2w, 4w, 8w (its own blocks and forward)."""
    from spikingjelly.activation_based import layer
    from spikingjelly.activation_based.model import spiking_resnet as sj

    class NarrowSpikingResNet(sj.SpikingResNet):
        """``SpikingResNet`` whose stages have ``width`` x (1, 2, 4, 8) channels (64 = SpikingJelly's)."""

        def __init__(self, width, blocks, num_classes, in_channels, spiking_neuron, **neuron_kwargs):
            nn.Module.__init__(self)
            self._norm_layer = layer.BatchNorm2d
            self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
            self.conv1 = layer.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = layer.BatchNorm2d(width)
            self.sn1 = spiking_neuron(**neuron_kwargs)
            self.maxpool = layer.MaxPool2d(kernel_size=3, stride=2, padding=1)
            for stage, count in enumerate(blocks):
                stride = 1 if stage == 0 else 2
                setattr(self, f"layer{stage + 1}", self._make_layer(
                    sj.BasicBlock, width * 2 ** stage, count, stride=stride, spiking_neuron=spiking_neuron,
                    **neuron_kwargs))
            self.avgpool = layer.AdaptiveAvgPool2d((1, 1))
            self.fc = layer.Linear(width * 2 ** (len(blocks) - 1), num_classes)
            for m in self.modules():
                if isinstance(m, layer.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, layer.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    return NarrowSpikingResNet


def __getattr__(name: str):
    """``NarrowSpikingResNet`` resolved on first use (SpikingJelly is imported lazily), so models pickle."""
    if name == "NarrowSpikingResNet":
        return _with_backend_repr(_narrow_resnet_class())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def spiking_resnet18(
    num_classes: int = 10,
    in_channels: int = 3,
    stem: str = "imagenet",
    tau: float = TAU,
    v_threshold: float = 1.0,
    soft_reset: bool = True,
    device: str = "cpu",
    backend: str = "auto",
    width: int = FULL_WIDTH,
) -> nn.Module:
    """Build the multi-step spiking ResNet18 (random weights).

    ``width``: channels of the first stage (the four stages have w, 2w, 4w, 8w; 64 is the
    paper's and SpikingJelly's network). ``backend``: ``auto`` picks the fastest neuron kernels
    for ``device`` (CuPy on the SpikingJelly 0.0.0.0.14 line, CUDA/Triton on 2.x), ``torch``
    forces plain PyTorch, ``cupy`` insists on CuPy. The result's ``backend`` attribute says
    what was chosen.
    """
    if stem not in STEMS:
        raise unknown_choice("stem", stem, STEMS)
    if float(tau) <= 1.0:
        raise ConfigError(f"tau must be > 1 (decay 1 - 1/tau), got {tau}; tau=10 gives the paper's decay 0.9")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"width must be a positive whole number of channels, got {width!r}; "
                          f"64 is the full ResNet18, 8 trains on a CPU")
    info: BackendInfo = describe_backend(device, backend)
    from spikingjelly.activation_based import functional, layer, neuron

    neuron_kwargs = dict(tau=float(tau), decay_input=False, v_threshold=float(v_threshold),
                         v_reset=None if soft_reset else 0.0, detach_reset=True, **lif_backend_kwargs(info))
    net = _narrow_resnet_class()(int(width), BLOCKS, int(num_classes), int(in_channels), neuron.LIFNode,
                                 **neuron_kwargs)
    if stem in ("cifar", "small"):
        net.conv1 = layer.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = layer.MaxPool2d(kernel_size=2, stride=2) if stem == "small" else nn.Identity()
        nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    functional.set_step_mode(net, "m")
    net.__class__ = _with_backend_repr(type(net))
    net.backend = info.backend
    net.backend_info = info
    net.tau = float(tau)
    net.width = int(width)
    return net
