"""Static prefix: layers that see the same image at every time step compute it once per exposure.

A step-by-step SNN is called T times with the same image, so its stateless layers before the first
neuron layer (typically conv -> pool -> LIF) give the same output at every step. While a
:class:`StaticPrefix` is active, such a layer answers later steps from its first step's output. A
multi-step network gets the image repeated as a [T, B, ...] sequence; there such a layer runs on
one step's slice and its output is repeated T times. A layer counts as stateless only when its type
says so: an exact ``torch.nn`` convolution, pooling, linear, normalisation (in eval mode) or shape
layer, or SpikingJelly's direct wrapper of one. A layer joins the prefix only when its input is the
image itself or another prefix layer's output (the same tensor object), so nothing downstream of a
stateful layer is ever reused. :class:`~mango_widgets.core.network.Network` also checks once per network that a batch
gives identical activations with and without it before relying on it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

#: torch.nn layers whose output depends on their input (and parameters) alone
STATELESS_TYPES: Tuple[type, ...] = (
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
    nn.Linear, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
    nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm, nn.Flatten, nn.Unflatten, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.Upsample, nn.ZeroPad2d, nn.ReLU,
    nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.Hardtanh,
)
#: of those, the ones that are stateless in eval mode only
TRAINING_DEPENDENT: Tuple[type, ...] = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
#: the modules that hold SpikingJelly's step-mode wrappers of torch layers (``layer.Conv2d``,
#: ``layer.BatchNorm2d``...); only a wrapper named like its torch base class counts
SPIKINGJELLY_WRAPPERS = ("spikingjelly.activation_based.layer.stateless_wrapper", "spikingjelly.activation_based.layer.bn")


def is_stateless(module: nn.Module) -> bool:
    """Whether ``module``'s output is a function of its input alone, as far as its type tells."""
    kind = type(module)
    if kind in STATELESS_TYPES:
        pass
    elif not (kind.__module__ in SPIKINGJELLY_WRAPPERS
              and any(issubclass(kind, base) and base.__name__ == kind.__name__ for base in STATELESS_TYPES)):
        return False
    if getattr(module, "inplace", False):  # changes its input
        return False
    # train-mode norm layers update their statistics, dropout draws a new mask at every call
    return not (module.training and isinstance(module, TRAINING_DEPENDENT))


class StaticPrefix:
    """Memoises the stateless layers of ``module`` that read the repeated image (see module doc)."""

    def __init__(self, module: nn.Module):
        self.candidates: Dict[str, nn.Module] = {name: m for name, m in module.named_modules()
                                                 if name and is_stateless(m) and "forward" not in m.__dict__}
        self.reused: List[str] = []  # layers answered from the cache in the last exposure

    @contextmanager
    def feeding(self, image: torch.Tensor, steps: Optional[int] = None):
        """Within this block, a candidate layer called on ``image`` (or on a prefix layer's output)
        again returns the output of its first such call. ``steps``: ``image`` is a [steps, B, ...]
        sequence of one repeated image; a prefix layer then runs on its first step only."""
        static = {id(image): image}  # tensors that are the same at every step, kept alive
        cached: Dict[str, Tuple[torch.Tensor, object]] = {}
        reused: Dict[str, None] = {}
        layers = self.candidates

        def memo(name: str, forward):
            def remembered(*args, **kwargs):
                x = args[0] if len(args) == 1 and not kwargs else None
                if x is None or static.get(id(x)) is not x or not is_stateless(layers[name]):
                    return forward(*args, **kwargs)
                hit = cached.get(name)
                if hit is not None and hit[0] is x:
                    reused[name] = None
                    return hit[1]
                out = None if steps is None else _repeated(forward(x[:1]), steps)
                if out is None:  # step by step (reused from the next call on), or a layer that drops the step dimension
                    out = forward(x)
                else:
                    reused[name] = None  # ran on one step of T
                cached[name] = (x, out)
                if isinstance(out, torch.Tensor):
                    static[id(out)] = out
                return out

            return remembered

        for name, layer in self.candidates.items():
            layer.forward = memo(name, layer.forward)
        try:
            yield
        finally:
            for layer in self.candidates.values():
                del layer.forward  # the class's forward again
            self.reused = list(reused)


def _repeated(first: object, steps: int) -> Optional[torch.Tensor]:
    """A layer's output on one step, [1, B, ...], repeated to [steps, B, ...] (None for any other shape).
    A view, not a copy: a later in-place op on it raises, which fails the network's check."""
    if not isinstance(first, torch.Tensor) or first.ndim < 2 or first.shape[0] != 1:
        return None
    return first.expand(steps, *first.shape[1:])
