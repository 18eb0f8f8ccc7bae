"""How a network consumes time, learned from what it does in one dry forward pass.

A spiking module can be called once per time step (snnTorch ``init_hidden`` layers,
SpikingJelly single-step), take a whole [T, B, ...] sequence (SpikingJelly multi-step), or loop
over time itself inside ``forward`` (the paper's published snnTorch code: ``utils.reset`` and
``for step in range(num_steps)``, returning stacked outputs). Attributes such as
``init_hidden`` do not tell the last two apart, so :func:`decide` reads the behaviour instead:
how often each neuron layer ran during one call, and the leading dimensions of the output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import torch
from torch import nn

#: batch size of the dry forward pass (distinct from PROBE_STEPS so the two axes can be told apart)
PROBE_BATCH = 3
#: time steps fed to a multi-step module during the dry forward pass
PROBE_STEPS = 2


def is_spiking_module(module: nn.Module) -> bool:
    """True for snnTorch and SpikingJelly neuron layers (their outputs are spikes)."""
    root = type(module).__module__.split(".")[0]
    if root == "snntorch":
        import snntorch

        return isinstance(module, snntorch.SpikingNeuron)
    if root == "spikingjelly":
        from spikingjelly.activation_based import neuron

        return isinstance(module, neuron.BaseNode)
    return False


def first_tensor(output) -> Optional[torch.Tensor]:
    """The tensor a layer emitted: snnTorch neurons may return (spikes, membrane)."""
    if isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, torch.Tensor) else None


def multi_step_layers(module: nn.Module) -> list:
    """Dotted names of neuron layers set to SpikingJelly's multi-step mode (``step_mode='m'``)."""
    return [name for name, m in module.named_modules() if is_spiking_module(m) and getattr(m, "step_mode", None) == "m"]


@dataclass
class DryRun:
    """What one forward pass did: the input fed, calls per module, first output per module, the output."""

    input_shape: tuple  # the whole input tensor fed, e.g. (3, 1, 28, 28) or (2, 3, 1, 28, 28)
    batch: int
    steps: int  # length of the time axis fed (1 when images were fed without one)
    calls: Dict[str, int]
    outputs: Dict[str, torch.Tensor]
    output: Optional[torch.Tensor]


@dataclass(frozen=True)
class TimeMode:
    """The chosen mode and a sentence saying why (shown by ``Network`` and ``mango layers``)."""

    mode: str
    reason: str


def _shape(tensor: Optional[torch.Tensor]) -> str:
    return "no tensor" if tensor is None else "[" + ", ".join(str(s) for s in tensor.shape) + "]"


def decide(run: DryRun, spiking: Sequence[str]) -> TimeMode:
    """The time mode a dry run shows; ``spiking`` names the module's neuron layers."""
    if not spiking:
        return TimeMode("static", "static: the module has no snnTorch or SpikingJelly neuron layer, so it sees each image once (T = 1)")
    called = {name: run.calls.get(name, 0) for name in spiking if run.calls.get(name, 0) > 0}
    if not called:
        return TimeMode("static", f"static: none of its neuron layers ({', '.join(spiking[:3])}...) ran in a forward pass")
    busiest = max(called, key=called.get)
    least = min(called.values())
    out = run.output
    own_time_axis = (
        out is not None and out.ndim >= 3 and out.shape[1] == run.batch and out.shape[0] != run.batch and run.steps == 1
    )
    if least > 1 or own_time_axis:
        return TimeMode(
            "internal",
            f"internal: the module called {busiest} {called[busiest]} time{'s' if called[busiest] > 1 else ''} in one call "
            f"and returned {_shape(out)} for {run.batch} images, so it loops over time itself and is called once per batch",
        )
    if run.steps > 1:
        return TimeMode(
            "sequence",
            f"sequence: its neuron layers are SpikingJelly multi-step; fed a [{run.steps}, {run.batch}, ...] sequence, it ran "
            f"each neuron layer once and returned {_shape(out)}, so it gets the image repeated T times in one call",
        )
    return TimeMode(
        "step",
        f"step: one call ran each neuron layer once ({busiest} {called[busiest]} time) and returned {_shape(out)}, "
        "so it is called T times, once per time step, keeping its state in between",
    )


__all__ = ["DryRun", "PROBE_BATCH", "PROBE_STEPS", "TimeMode", "decide", "first_tensor", "is_spiking_module", "multi_step_layers"]
