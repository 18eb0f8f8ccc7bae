"""Reset the hidden state of one spiking network without touching any other network.

``snntorch.utils.reset`` resets every ``init_hidden`` neuron in the whole process, which
would corrupt other networks being run at the same time; this resets only ``module``.
SpikingJelly's stateful modules are reset through their own per-module ``reset()``.
"""
from __future__ import annotations

import torch
from torch import nn


def _library(module: nn.Module) -> str:
    return type(module).__module__.split(".")[0]


def reset_state(module: nn.Module) -> nn.Module:
    """Clear the membrane (and other hidden) state of every neuron inside ``module``.

    snnTorch neurons keep their state in non-persistent buffers (``mem``, ``syn``...);
    emptied, they re-initialise to zeros of the right shape on the next call, so this also
    works when the batch size changes. Non-spiking modules are left alone. Returns ``module``.
    """
    for m in module.modules():
        library = _library(m)
        if library == "snntorch":
            import snntorch

            if isinstance(m, snntorch.SpikingNeuron):
                for name in list(m._non_persistent_buffers_set):
                    setattr(m, name, torch.zeros(0))
        elif library == "spikingjelly":
            from spikingjelly.activation_based import base

            if isinstance(m, base.MemoryModule):
                m.reset()
    return module
