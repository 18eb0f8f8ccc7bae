"""Network wrapper and probe: the activation of any unit of any layer, for SNNs and ANNs.

The activation of a unit is its output averaged over the T time steps of exposure and over
its spatial positions. For a spiking layer that is the spike count over T divided by T and
averaged over positions, so it lies in [0, 1]; for an analog layer it is the mean value.
The image is repeated for T steps; the network's state is reset before every batch, for
this network only.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import torch
from torch import nn

from mango_widgets.errors import ConfigError, ModelOutputError, unknown_choice
from mango_widgets.runtime.snn_state import reset_state

TIME_MODES = ("auto", "step", "sequence", "internal", "static")
#: pseudo-layer name of the network's output (class scores)
OUTPUT = "output"


@dataclass(frozen=True)
class LayerInfo:
    """A probe-able layer: dotted name, number of units (channels), unit shape, kind."""

    name: str
    units: int
    unit_shape: tuple
    spiking: bool
    module_type: str

    def describe(self) -> str:
        kind = "spiking" if self.spiking else "analog"
        return f"{self.name} ({self.module_type}, {kind}, {self.units} units)"


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


def detect_time_mode(module: nn.Module) -> str:
    """Guess how the module consumes time from the neuron layers it contains."""
    spiking = [m for m in module.modules() if is_spiking_module(m)]
    if not spiking:
        return "static"
    if any(getattr(m, "step_mode", None) == "m" for m in spiking):
        return "sequence"
    if all(getattr(m, "step_mode", None) == "s" or getattr(m, "init_hidden", False) for m in spiking):
        return "step"
    return "internal"


def _first_tensor(output):
    """The tensor a layer emitted: snnTorch neurons may return (spikes, membrane)."""
    if isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, torch.Tensor) else None


class Network:
    """Wraps an ``nn.Module`` classifier (SNN or ANN) for probing.

    time_mode: ``step`` calls the module once per time step (snnTorch ``init_hidden`` nets,
    SpikingJelly single-step nets); ``sequence`` feeds [T, B, ...] once (SpikingJelly
    multi-step); ``internal`` calls once and lets the module loop over time itself
    (it must return outputs stacked as [steps, B, classes]); ``static`` is an ANN (T = 1).
    ``auto`` picks from the neuron layers found.
    """

    def __init__(
        self,
        module: nn.Module,
        input_shape: Sequence[int],
        T: int = 20,
        time_mode: str = "auto",
        classes: Optional[Sequence[str]] = None,
        preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        max_batch: int = 256,
        device: str = "cpu",
        name: str = "network",
    ):
        if not isinstance(module, nn.Module):
            raise ConfigError(f"a network must be a torch.nn.Module, got {type(module).__name__}")
        if time_mode not in TIME_MODES:
            raise unknown_choice("time mode", time_mode, TIME_MODES)
        if int(T) < 1:
            raise ConfigError(f"T (time steps of exposure) must be >= 1, got {T}")
        self.module = module.to(device).eval()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.time_mode = detect_time_mode(module) if time_mode == "auto" else time_mode
        self.T = 1 if self.time_mode == "static" else int(T)
        self.classes = tuple(classes) if classes is not None else None
        self.preprocess = preprocess
        self.max_batch = int(max_batch)
        self.device = torch.device(device)
        self.name = name
        self._layers: Optional[Dict[str, LayerInfo]] = None
        self._layouts: Dict[str, str] = {}
        # the SNN state lives inside the module: one exposure at a time per network
        self._lock = threading.RLock()

    def __getstate__(self):
        """For copy/pickle: without the lock, and with the SNN state cleared (a finished
        exposure leaves inference-mode state tensors that cannot be deep-copied)."""
        with self._lock:
            reset_state(self.module)
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Network({self.name!r}, time_mode={self.time_mode!r}, T={self.T}, input_shape={self.input_shape})"

    @property
    def spiking(self) -> bool:
        return self.time_mode != "static"

    # ----------------------------------------------------------------- layers
    def layers(self) -> Dict[str, LayerInfo]:
        """Every probe-able layer by dotted name (found with one dry forward pass)."""
        with self._lock:
            if self._layers is None:
                self._layers = self._discover_layers()
            return self._layers

    def layer(self, name: str) -> LayerInfo:
        """Info of one layer, or a clear error listing the valid names."""
        layers = self.layers()
        if name not in layers:
            raise unknown_choice("layer", name, [info.describe() for info in layers.values()])
        return layers[name]

    def check_unit(self, layer: str, unit: int) -> None:
        units = self.layer(layer).units
        if not 0 <= int(unit) < units:
            raise ConfigError(f"unit {unit} is out of range for layer {layer!r}: valid units are 0..{units - 1}")

    def _discover_layers(self) -> Dict[str, LayerInfo]:
        modules = self._candidate_modules()
        batch = 3 if self.T != 3 else 5
        seen: Dict[str, torch.Tensor] = {}

        def recorder(name):
            def hook(_module, _inputs, output):
                tensor = _first_tensor(output)
                if tensor is not None and name not in seen:
                    seen[name] = tensor.detach()

            return hook

        with self._hooks({name: recorder(name) for name in modules}):
            self._forward(torch.zeros((batch,) + self.input_shape, device=self.device))
        layers = {}
        for name, tensor in seen.items():
            layout = self._layout_of(tensor, batch)
            if layout is None:
                continue
            per_sample = tensor.shape[2:] if layout == "time-major" else tensor.shape[1:]
            if len(per_sample) == 0:
                continue
            self._layouts[name] = layout
            layers[name] = LayerInfo(
                name=name,
                units=int(per_sample[0]),
                unit_shape=tuple(int(s) for s in per_sample[1:]),
                spiking=is_spiking_module(modules[name]),
                module_type=type(modules[name]).__name__,
            )
        if not layers:
            raise ConfigError(f"{self.name} has no probe-able layer (no leaf module emitted a [batch, units, ...] tensor)")
        return layers

    def _candidate_modules(self) -> Dict[str, nn.Module]:
        """Leaf modules and neuron layers (whose surrogate-gradient children are skipped)."""
        candidates: Dict[str, nn.Module] = {}
        inside_neuron: List[str] = []
        for name, module in self.module.named_modules():
            if not name or any(name.startswith(prefix + ".") for prefix in inside_neuron):
                continue
            if is_spiking_module(module):
                inside_neuron.append(name)
                candidates[name] = module
            elif not list(module.children()):
                candidates[name] = module
        return candidates

    def _layout_of(self, tensor: torch.Tensor, batch: int) -> Optional[str]:
        """How a layer lays out time and batch: [B, ...], [T, B, ...] or [T*B, ...]."""
        if tensor.ndim < 1:
            return None
        if self.time_mode == "sequence" and tensor.ndim >= 2 and tensor.shape[:2] == (self.T, batch):
            return "time-major"
        if self.time_mode == "sequence" and tensor.shape[0] == self.T * batch:
            return "flat"
        if tensor.shape[0] == batch:
            return "batch"
        return None

    # ---------------------------------------------------------------- running
    @contextmanager
    def _hooks(self, hooks: Dict[str, Callable]):
        modules = dict(self.module.named_modules())
        handles = [modules[name].register_forward_hook(fn) for name, fn in hooks.items()]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _forward(self, images: torch.Tensor) -> List[torch.Tensor]:
        """Run the full exposure on one batch; return the module's per-call outputs."""
        reset_state(self.module)
        x = self.preprocess(images) if self.preprocess is not None else images
        if self.time_mode == "sequence":
            return [self.module(x.unsqueeze(0).expand(self.T, *x.shape).contiguous())]
        if self.time_mode == "step":
            return [self.module(x) for _ in range(self.T)]
        return [self.module(x)]

    def _check_images(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.input_shape:
            raise ConfigError(
                f"{self.name} expects images [batch, {', '.join(map(str, self.input_shape))}], "
                f"got {tuple(images.shape)}; use a generator whose image_shape matches the network's input_shape"
            )
        return images.to(self.device)

    @torch.inference_mode()
    def run(self, images: torch.Tensor, layers: Iterable[str] = ()) -> Dict[str, torch.Tensor]:
        """Activations [B, units] of every unit of the given layers, plus ``output`` [B, classes].

        ``output`` is the time-averaged network output: the spike rate of each class for an
        SNN, the logits for an ANN.
        """
        images = self._check_images(images)
        layers = list(dict.fromkeys(layers))
        for name in layers:
            self.layer(name)
        results: Dict[str, List[torch.Tensor]] = {name: [] for name in layers + [OUTPUT]}
        with self._lock:  # safe to share between searches in several threads
            for chunk in images.split(self.max_batch):
                for name, value in self._run_chunk(chunk, layers).items():
                    results[name].append(value)
        merged = {name: torch.cat(values) for name, values in results.items()}
        for name, value in merged.items():
            if not torch.isfinite(value).all():
                raise ModelOutputError(
                    f"{self.name} produced NaN or infinite activations in {name!r}; "
                    "check the network's weights and its input range"
                )
        return merged

    def run_with_grad(self, images: torch.Tensor, layers: Iterable[str] = ()) -> Dict[str, torch.Tensor]:
        """Like :meth:`run`, in one chunk and keeping the autograd graph: for gradient ascent on
        the input (SNNs through their surrogate gradients), e.g. ``studies.ceiling``."""
        images = self._check_images(images)
        layers = list(dict.fromkeys(layers))
        for name in layers:
            self.layer(name)
        with self._lock, torch.enable_grad():
            return self._run_chunk(images, layers)

    def _run_chunk(self, images: torch.Tensor, layers: List[str]) -> Dict[str, torch.Tensor]:
        batch = images.shape[0]
        sums: Dict[str, torch.Tensor] = {}
        steps: Dict[str, int] = {}

        def accumulator(name):
            layout = self._layouts[name]

            def hook(_module, _inputs, output):
                tensor = _first_tensor(output).float()
                if layout == "flat":
                    tensor = tensor.reshape(self.T, batch, *tensor.shape[1:])
                if layout == "batch":
                    tensor = tensor.unsqueeze(0)
                per_unit = tensor.flatten(3).mean(3) if tensor.ndim > 3 else tensor  # [t, B, units]
                sums[name] = sums.get(name, 0) + per_unit.sum(0)
                steps[name] = steps.get(name, 0) + per_unit.shape[0]

            return hook

        with self._hooks({name: accumulator(name) for name in layers}):
            outputs = self._forward(images)
        result = {name: sums[name] / steps[name] for name in layers}
        result[OUTPUT] = self._aggregate_output(outputs, batch)
        return result

    def _aggregate_output(self, outputs: List, batch: int) -> torch.Tensor:
        """Time-average of the network output: [B, classes]."""
        tensors = [_first_tensor(out) for out in outputs]
        if any(t is None for t in tensors):
            raise ModelOutputError(f"{self.name} did not return a tensor of class scores")
        if self.time_mode in ("sequence", "internal"):
            stacked = tensors[0].float()
            if stacked.ndim == 2:  # an internal-loop net that already summed over time
                stacked = stacked.unsqueeze(0)
            stacked = stacked.reshape(-1, batch, stacked.shape[-1])
        else:
            stacked = torch.stack([t.float() for t in tensors]).reshape(len(tensors), batch, -1)
        return stacked.mean(0)

    def class_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B, classes]: softmax of the logits (ANN) or of the output
        spike counts over T (SNN; the demo SNN is trained with exactly this readout)."""
        scores = self.run(images)[OUTPUT]
        if self.spiking:
            scores = scores * self.T
        return torch.softmax(scores, dim=1)
