"""Tiny hand-built networks and generators with known weights, for exact probe tests.

Each SNN has a 1x1 convolution with weight w[c] per channel on a 1x2x2 image, followed by
LIF neurons, then a linear readout to 2 classes; so unit c at position p receives the
constant current w[c] * pixel[p] at every time step.
"""
from collections import OrderedDict

import torch
from torch import nn

CHANNEL_WEIGHTS = (0.9, 1.7)
PIXELS = (0.2, 0.5, 0.7, 1.0)  # the 2x2 test image, row-major


def test_image(batch: int = 1) -> torch.Tensor:
    return torch.tensor(PIXELS, dtype=torch.float32).reshape(1, 1, 2, 2).repeat(batch, 1, 1, 1)


def _conv() -> nn.Conv2d:
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(CHANNEL_WEIGHTS).reshape(2, 1, 1, 1))
    return conv


def _readout() -> nn.Linear:
    fc = nn.Linear(8, 2, bias=False)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[1.0] * 4 + [0.0] * 4, [0.0] * 4 + [2.0] * 4]))
    return fc


def snntorch_step_net() -> nn.Sequential:
    """snnTorch with init_hidden=True: one call = one time step."""
    import snntorch

    return nn.Sequential(
        OrderedDict(
            conv=_conv(),
            lif=snntorch.Leaky(beta=0.9, init_hidden=True),
            flat=nn.Flatten(),
            fc=_readout(),
            out=snntorch.Leaky(beta=0.9, init_hidden=True),
        )
    )


class SnntorchLoopNet(nn.Module):
    """snnTorch without init_hidden: the module loops over its own ``num_steps``."""

    def __init__(self, num_steps: int):
        super().__init__()
        import snntorch

        self.num_steps = num_steps
        self.conv = _conv()
        self.lif = snntorch.Leaky(beta=0.9)
        self.flat = nn.Flatten()
        self.fc = _readout()
        self.out = snntorch.Leaky(beta=0.9)

    def forward(self, x):
        mem1, mem2 = self.lif.reset_mem(), self.out.reset_mem()
        spikes = []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif(self.conv(x), mem1)
            spk2, mem2 = self.out(self.fc(self.flat(spk1)), mem2)
            spikes.append(spk2)
        return torch.stack(spikes), mem2


class SnntorchSelfLoopingNet(nn.Module):
    """The paper's published style: init_hidden neurons, ``utils.reset`` and the module's own loop
    of ``num_steps``, returning the output spikes stacked as [num_steps, B, classes]."""

    def __init__(self, num_steps: int):
        super().__init__()
        import snntorch

        self.num_steps = num_steps
        self.conv = _conv()
        self.lif = snntorch.Leaky(beta=0.9, init_hidden=True)
        self.flat = nn.Flatten()
        self.fc = _readout()
        self.out = snntorch.Leaky(beta=0.9, init_hidden=True, output=True)

    def forward(self, x):
        from snntorch import utils

        utils.reset(self)
        spikes = []
        for _ in range(self.num_steps):
            spk_out, _mem = self.out(self.fc(self.flat(self.lif(self.conv(x)))))
            spikes.append(spk_out)
        return torch.stack(spikes)


class SpikingjellySelfLoopingNet(nn.Module):
    """SpikingJelly single-step neurons driven by the module's own loop over ``num_steps``."""

    def __init__(self, num_steps: int):
        super().__init__()
        self.num_steps = num_steps
        for name, module in spikingjelly_net("s").named_children():  # conv, lif, flat, fc, out
            self.add_module(name, module)

    def forward(self, x):
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        return torch.stack([self.out(self.fc(self.flat(self.lif(self.conv(x))))) for _ in range(self.num_steps)])


def spikingjelly_net(step_mode: str) -> nn.Sequential:
    """SpikingJelly LIF (tau 10, i.e. decay 0.9, no input decay, soft reset) in single- or multi-step mode."""
    from spikingjelly.activation_based import functional, layer, neuron

    net = nn.Sequential(
        OrderedDict(
            conv=layer.Conv2d(1, 2, 1, bias=False),
            lif=neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None),
            flat=layer.Flatten(),
            fc=layer.Linear(8, 2, bias=False),
            out=neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None),
        )
    )
    with torch.no_grad():
        net.conv.weight.copy_(_conv().weight)
        net.fc.weight.copy_(_readout().weight)
    functional.set_step_mode(net, step_mode)
    return net


def cnn() -> nn.Sequential:
    """A plain ANN: conv -> ReLU -> linear logits."""
    return nn.Sequential(OrderedDict(conv=_conv(), relu=nn.ReLU(), flat=nn.Flatten(), fc=_readout()))


class ConstantImageGenerator(nn.Module):
    """latent [B, d] -> image [B, 1, 2, 2] whose pixels scale with the mean of the latent."""

    def forward(self, z):
        scale = (z.mean(dim=1) + 4) / 8  # in [0, 1] for latents on [-4, 4]
        return test_image(z.shape[0]) * scale.reshape(-1, 1, 1, 1)


def tiny_generator(spacing: str = "uniform"):
    """Importable (so Dask could ship it): the constant-image generator on a small grid (6 axes x 16 points)."""
    from mango_widgets import Generator, LatentGrid

    return Generator(ConstantImageGenerator(), LatentGrid(d=6, n=16, spacing=spacing), image_shape=(1, 2, 2))


def save_two_epochs(folder) -> dict:
    """Two epochs of ``snntorch_step_net`` state_dicts in ``folder``: at epoch 1 nothing spikes (zero conv
    weights), at epoch 2 the known weights. Returns {epoch: path}."""
    from pathlib import Path

    silent, trained = snntorch_step_net(), snntorch_step_net()
    with torch.no_grad():
        silent.conv.weight.zero_()
    files = {1: Path(folder) / "e1.pt", 2: Path(folder) / "e2.pt"}
    torch.save(silent.state_dict(), files[1])
    torch.save(trained.state_dict(), files[2])
    return files
