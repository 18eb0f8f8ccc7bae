"""Network wrapper and probe: the activation of any unit of any layer, for SNNs and ANNs.

The activation of a unit is its output averaged over the T time steps of exposure and over
its spatial positions. For a spiking layer that is the spike count over T divided by T and
averaged over positions, so it lies in [0, 1]; for an analog layer it is the mean value.
The image is repeated for T steps; the network's state is reset before every batch, for
this network only.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import nn

from mango_widgets.core.static_prefix import StaticPrefix
from mango_widgets.core.time_mode import (
    PROBE_BATCH,
    PROBE_STEPS,
    DryRun,
    TimeMode,
    decide,
    first_tensor,
    is_spiking_module,
    multi_step_layers,
)
from mango_widgets.errors import ConfigError, ModelOutputError, unknown_choice, whole_number
from mango_widgets.runtime.snn_state import reset_state

TIME_MODES = ("auto", "step", "sequence", "internal", "static")
#: time modes in which a forward pass may stop once the probed layers have run
EARLY_EXIT_MODES = ("step", "sequence", "static")
#: time modes that feed the same image at every step (ours, the module's own loop, or a repeated sequence)
STATIC_PREFIX_MODES = ("step", "internal", "sequence")
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


class _LayersDone(Exception):
    """Raised by a probe hook once every layer asked for has run: the rest of the call is skipped."""


def _call(module: nn.Module, x: torch.Tensor):
    """``module(x)``, or None when a probe hook stopped the call early."""
    try:
        return module(x)
    except _LayersDone:
        return None


def _image_shape(input_shape) -> tuple:
    """``input_shape`` as a tuple of positive ints (one image, channels first), or a clear error."""
    fix = "give the shape of one image, channels first, e.g. input_shape=(1, 28, 28)"
    try:
        sizes = tuple(input_shape) if not isinstance(input_shape, (str, bytes)) else ()
    except TypeError:
        sizes = ()
    if not sizes:
        raise ConfigError(f"input_shape must be a sequence of sizes, got {input_shape!r}; {fix}")
    return tuple(whole_number(size, "every size in input_shape", minimum=1, fix=fix) for size in sizes)


class Network:
    """Wraps an ``nn.Module`` classifier (SNN or ANN) for probing.

    time_mode: ``step`` calls the module once per time step (snnTorch ``init_hidden`` nets,
    SpikingJelly single-step nets); ``sequence`` feeds [T, B, ...] once (SpikingJelly
    multi-step); ``internal`` calls once and lets the module loop over time itself
    (it returns outputs stacked as [steps, B, classes], or already summed as [B, classes]);
    ``static`` is an ANN (T = 1). ``auto`` learns the mode from one dry forward pass (how often
    each neuron layer runs in one call, and the output's leading dimensions); ``time_mode_reason``
    says what it saw. The same pass finds the probe-able layers and checks ``input_shape``.

    early_exit: when a caller reads hidden layers only (``run(..., output=False)``), each forward
    call stops once those layers have run, so a shallow unit costs a shallow pass. It is used for a
    set of layers only after one full pass gave the same activations (a later layer that feeds back
    into an earlier one fails that check), never for modules that loop over time themselves, and
    only for layers that run once per call; ``early_exits`` shows the verdicts.

    static_prefix: the image is the same at every step (``step``; inside a module's own time loop,
    ``internal``; repeated T times in the sequence, ``sequence``), so stateless layers that read it
    (conv -> pool before the first neuron layer) are computed once per exposure instead of T times (see
    :mod:`~mango_widgets.core.static_prefix`). It is used only after one batch gave identical
    activations in every layer with and without it; ``static_prefix_layers`` shows the layers it
    spares (empty: none, or the check failed).
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
        early_exit: bool = True,
        static_prefix: bool = True,
    ):
        if not isinstance(module, nn.Module):
            raise ConfigError(f"a network must be a torch.nn.Module, got {type(module).__name__}")
        if time_mode not in TIME_MODES:
            raise unknown_choice("time mode", time_mode, TIME_MODES)
        T = whole_number(T, "T (time steps of exposure)", minimum=1, fix="the paper exposes each image for T = 20..100 steps")
        self.module = module.to(device).eval()
        self.input_shape = _image_shape(input_shape)
        self.classes = tuple(classes) if classes is not None else None
        self.preprocess = preprocess
        self.max_batch = whole_number(max_batch, "max_batch", minimum=1)
        self.device = torch.device(device)
        self.name = name
        self.T = T
        self.time_mode = time_mode
        self._layers: Optional[Dict[str, LayerInfo]] = None
        self._layouts: Dict[str, str] = {}
        self.output_shape: Optional[tuple] = None  # per image, e.g. (10,) for a 10-class classifier
        self.early_exit = bool(early_exit)
        self._calls_per_forward: Dict[str, int] = {}
        self._early_exit_verdicts: Dict[frozenset, bool] = {}
        self.static_prefix = bool(static_prefix)
        self._static_prefix_layers: Optional[Tuple[str, ...]] = None  # None: not checked yet
        self._prefix: Optional[StaticPrefix] = None
        # the SNN state lives inside the module: one exposure at a time per network
        self._lock = threading.RLock()
        chosen, run = self._detect(time_mode)
        self.time_mode, self.time_mode_reason = chosen.mode, chosen.reason
        self.T = 1 if self.time_mode == "static" else T
        self._learn_from(run)

    def __getstate__(self):
        """For copy/pickle: without the lock, and with the SNN state cleared (a finished
        exposure leaves inference-mode state tensors that cannot be deep-copied)."""
        with self._lock:
            reset_state(self.module)
        state = dict(self.__dict__)
        del state["_lock"]
        state["_prefix"] = None  # rebuilt on demand
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()
        for name, default in (("early_exit", True), ("_calls_per_forward", {}), ("_early_exit_verdicts", {}),
                              ("static_prefix", True), ("_static_prefix_layers", None), ("_prefix", None)):
            self.__dict__.setdefault(name, default)  # a network pickled before these existed

    def __repr__(self) -> str:
        return (
            f"Network({self.name!r}, time_mode={self.time_mode!r}, T={self.T}, input_shape={self.input_shape}) "
            f"# {self.time_mode_reason}"
        )

    @property
    def spiking(self) -> bool:
        return self.time_mode != "static"

    # ----------------------------------------------------------------- layers
    def layers(self) -> Dict[str, LayerInfo]:
        """Every probe-able layer by dotted name (found by the dry forward pass at construction)."""
        return dict(self._layers)

    def layer(self, name: str) -> LayerInfo:
        """Info of one layer, or a clear error listing the valid names."""
        layers = self._layers
        if name not in layers:
            raise unknown_choice("layer", name, [info.describe() for info in layers.values()])
        return layers[name]

    def check_unit(self, layer: str, unit: int) -> None:
        units = self.layer(layer).units
        unit = whole_number(unit, "unit", fix=f"units of layer {layer!r} are 0..{units - 1}")
        if not 0 <= unit < units:
            raise ConfigError(f"unit {unit} is out of range for layer {layer!r}: valid units are 0..{units - 1}")

    # ------------------------------------------------------------ dry run
    def _detect(self, time_mode: str) -> Tuple[TimeMode, DryRun]:
        """The time mode (given, or learned from a dry forward pass) and that pass."""
        if time_mode != "auto":
            return TimeMode(time_mode, f"{time_mode}: given as time_mode={time_mode!r}"), self._dry_run(time_mode)
        spiking = [name for name, m in self.module.named_modules() if name and is_spiking_module(m)]
        tries = ["sequence", "step"] if multi_step_layers(self.module) else ["step", "sequence"]
        if not spiking:
            tries = ["static"]
        try:
            run = self._dry_run(tries[0])
        except ConfigError as first:
            if len(tries) == 1:
                raise
            try:
                run = self._dry_run(tries[1])
            except ConfigError:
                raise first from None
        return decide(run, spiking), run

    @torch.inference_mode()
    def _dry_run(self, mode: str) -> DryRun:
        """One forward call on zero images, recording how often each layer ran and what it emitted."""
        modules = self._candidate_modules()
        steps = PROBE_STEPS if mode == "sequence" else 1
        images = torch.zeros((PROBE_BATCH,) + self.input_shape, device=self.device)
        calls: Dict[str, int] = {}
        outputs: Dict[str, torch.Tensor] = {}

        def recorder(name):
            def hook(_module, _inputs, output):
                calls[name] = calls.get(name, 0) + 1
                tensor = first_tensor(output)
                if tensor is not None and name not in outputs:
                    outputs[name] = tensor.detach()

            return hook

        x = images
        try:
            x = self.preprocess(images) if self.preprocess is not None else images
            if mode == "sequence":
                x = x.unsqueeze(0).expand(steps, *x.shape).contiguous()
            reset_state(self.module)
            with self._hooks({name: recorder(name) for name in modules}):
                output = self.module(x)
        except Exception as error:
            raise ConfigError(
                f"{self.name} failed on a dry forward pass with input_shape={self.input_shape} "
                f"(fed a tensor of shape {tuple(x.shape)}): {type(error).__name__}: {error}. "
                "Pass the shape of one image the module takes, channels first (e.g. input_shape=(1, 28, 28) for MNIST, "
                "(3, 32, 32) for CIFAR-10), the preprocess= that turns generator images into it, or time_mode= if it "
                "expects another layout of time"
            ) from error
        finally:
            reset_state(self.module)
        return DryRun(tuple(x.shape), PROBE_BATCH, steps, calls, outputs, first_tensor(output))

    def _learn_from(self, run: DryRun) -> None:
        """Probe-able layers, their layouts and the output shape, from a dry run."""
        modules = self._candidate_modules()
        layers = {}
        for name, tensor in run.outputs.items():
            layout = self._layout_of(tensor, run.batch, run.steps)
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
        self._layers = layers
        self._calls_per_forward = dict(run.calls)
        out = run.output
        if out is not None:
            layout = self._layout_of(out, run.batch, run.steps)
            if self.time_mode == "internal" and layout is None and out.ndim >= 2 and out.shape[1] == run.batch:
                layout = "time-major"  # [steps, B, ...] stacked by the module's own loop
            if layout is not None:
                self.output_shape = tuple(int(s) for s in (out.shape[2:] if layout == "time-major" else out.shape[1:]))

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

    def _layout_of(self, tensor: torch.Tensor, batch: int, steps: int) -> Optional[str]:
        """How a layer lays out time and batch: [B, ...], [T, B, ...] or [T*B, ...]."""
        if tensor.ndim < 1:
            return None
        if self.time_mode == "sequence" and tensor.ndim >= 2 and tensor.shape[:2] == (steps, batch):
            return "time-major"
        if self.time_mode == "sequence" and tensor.shape[0] == steps * batch:
            return "flat"
        if tensor.shape[0] == batch:
            return "batch"
        if self.time_mode == "internal" and tensor.ndim >= 3 and tensor.shape[1] == batch:
            return "time-major"  # a multi-step layer inside a module that makes its own time axis
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

    def _forward(self, images: torch.Tensor, static_prefix: bool = False) -> List[torch.Tensor]:
        """Run the full exposure on one batch; return the module's per-call outputs (None for a
        call that a probe hook stopped early). ``static_prefix``: compute the stateless layers that
        read the repeated image once (see :mod:`~mango_widgets.core.static_prefix`)."""
        reset_state(self.module)
        x = self.preprocess(images) if self.preprocess is not None else images
        calls, steps = (self.T if self.time_mode == "step" else 1), None
        if self.time_mode == "sequence":
            x, steps = x.unsqueeze(0).expand(self.T, *x.shape).contiguous(), self.T
        reusing = static_prefix and self.time_mode in STATIC_PREFIX_MODES
        with self._static_prefix().feeding(x, steps=steps) if reusing else nullcontext():
            return [_call(self.module, x) for _ in range(calls)]

    def _static_prefix(self) -> StaticPrefix:
        if self._prefix is None:
            self._prefix = StaticPrefix(self.module)
        return self._prefix

    @property
    def static_prefix_layers(self) -> Tuple[str, ...]:
        """Layers computed once per exposure instead of once per step (empty until the first
        run, and when the check found none or found a difference)."""
        return self._static_prefix_layers or ()

    def _prefix_unchecked(self) -> bool:
        return (self.static_prefix and self.time_mode in STATIC_PREFIX_MODES and self._static_prefix_layers is None
                and bool(self._static_prefix().candidates))

    def _use_prefix(self) -> bool:
        return self.static_prefix and bool(self._static_prefix_layers) and not torch.is_grad_enabled()

    def _check_static_prefix(self, chunk: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run ``chunk`` with and without the static prefix, reading every layer and the output;
        the prefix is kept (for the network's lifetime) when all are identical. Returns the
        plain pass's values of every layer and the output."""
        every = list(self.layers())
        plain = self._run_chunk(chunk, every, output=True, static_prefix=False)
        try:
            reusing = self._run_chunk(chunk, every, output=True, static_prefix=True)
            same = all(torch.equal(plain[name], reusing[name]) for name in plain)
        except Exception:  # noqa: BLE001 - e.g. an in-place op on a repeated (stride-0) output: not reusable
            same = False
        self._static_prefix_layers = tuple(self._prefix.reused) if same else ()
        return plain

    @property
    def early_exits(self) -> Dict[Tuple[str, ...], bool]:
        """Sets of layers checked for early exit so far -> whether their passes stop early."""
        return {tuple(sorted(layers)): verdict for layers, verdict in self._early_exit_verdicts.items()}

    def _may_stop_early(self, layers: List[str]) -> bool:
        """Whether reading only ``layers`` may stop each forward call once they have run."""
        return (self.early_exit and bool(layers) and self.time_mode in EARLY_EXIT_MODES
                and all(self._calls_per_forward.get(name) == 1 for name in layers))

    def _check_early_exit(self, chunk: torch.Tensor, layers: List[str],
                          full: Optional[Dict[str, torch.Tensor]] = None) -> Dict[str, torch.Tensor]:
        """Run ``chunk`` in full (unless ``full`` already holds a full pass's values) and cut short;
        early exit holds for this set of layers (for the network's lifetime) when both give
        identical activations. Returns the full pass's."""
        if full is None:
            full = self._run_chunk(chunk, layers, output=False, static_prefix=self._use_prefix())
        cut = self._run_chunk(chunk, layers, output=False, stop_early=True, static_prefix=self._use_prefix())
        self._early_exit_verdicts[frozenset(layers)] = all(torch.equal(full[name], cut[name]) for name in layers)
        return full

    def _check_images(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.input_shape:
            raise ConfigError(
                f"{self.name} expects images [batch, {', '.join(map(str, self.input_shape))}], "
                f"got {tuple(images.shape)}; use a generator whose image_shape matches the network's input_shape"
            )
        return images.to(self.device)

    @torch.inference_mode()
    def run(self, images: torch.Tensor, layers: Iterable[str] = (), output: bool = True) -> Dict[str, torch.Tensor]:
        """Activations [B, units] of every unit of the given layers, plus ``output`` [B, classes].

        ``output`` is the time-averaged network output: the spike rate of each class for an
        SNN, the logits for an ANN. With ``output=False`` it is left out, and the forward pass
        may stop once the layers have run (see ``early_exit``).
        """
        images = self._check_images(images)
        layers = list(dict.fromkeys(layers))
        for name in layers:
            self.layer(name)
        results: Dict[str, List[torch.Tensor]] = {name: [] for name in layers + ([OUTPUT] if output else [])}
        with self._lock:  # safe to share between searches in several threads
            chunks = list(images.split(self.max_batch))
            first = self._check_static_prefix(chunks[0]) if self._prefix_unchecked() else None
            stop_early = not output and self._may_stop_early(layers)
            if stop_early and frozenset(layers) not in self._early_exit_verdicts:
                # the static-prefix check's plain pass is a full pass: only the cut one is left to run
                checked = self._check_early_exit(chunks[0], layers, full=first)
                first = checked if first is None else first
            if first is not None:  # a check's full pass answers the first chunk
                chunks.pop(0)
                for name in results:
                    results[name].append(first[name])
            stop_early = stop_early and self._early_exit_verdicts[frozenset(layers)]
            for chunk in chunks:
                for name, value in self._run_chunk(chunk, layers, output, stop_early, self._use_prefix()).items():
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

    def _run_chunk(self, images: torch.Tensor, layers: List[str], output: bool = True,
                   stop_early: bool = False, static_prefix: bool = False) -> Dict[str, torch.Tensor]:
        batch = images.shape[0]
        sums: Dict[str, torch.Tensor] = {}
        steps: Dict[str, int] = {}
        ran: set = set()  # layers that ran in this forward call (for stop_early)

        def accumulator(name):
            layout = self._layouts[name]

            def hook(_module, _inputs, emitted):
                tensor = first_tensor(emitted).float()
                if layout == "flat":
                    tensor = tensor.reshape(self.T, batch, *tensor.shape[1:])
                if layout == "batch":
                    tensor = tensor.unsqueeze(0)
                per_unit = tensor.flatten(3).mean(3) if tensor.ndim > 3 else tensor  # [t, B, units]
                sums[name] = sums.get(name, 0) + per_unit.sum(0)
                steps[name] = steps.get(name, 0) + per_unit.shape[0]
                if stop_early:
                    ran.add(name)
                    if len(ran) == len(layers):
                        ran.clear()
                        raise _LayersDone

            return hook

        with self._hooks({name: accumulator(name) for name in layers}):
            outputs = self._forward(images, static_prefix)
        result = {name: sums[name] / steps[name] for name in layers}
        if output:
            result[OUTPUT] = self._aggregate_output(outputs, batch)
        return result

    def _aggregate_output(self, outputs: List, batch: int) -> torch.Tensor:
        """Time-average of the network output: [B, classes]."""
        tensors = [first_tensor(out) for out in outputs]
        if any(t is None for t in tensors):
            raise ModelOutputError(f"{self.name} did not return a tensor of class scores")
        if self.time_mode in ("sequence", "internal"):
            stacked = tensors[0].float()
            per_image = math.prod(self.output_shape) if self.output_shape else stacked.shape[-1]
            # [steps, B, ...], [steps * B, ...] or (a net that already summed over time) [B, ...]
            stacked = stacked.reshape(-1, batch, per_image)
        else:
            stacked = torch.stack([t.float() for t in tensors]).reshape(len(tensors), batch, -1)
        return stacked.mean(0)

    def class_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B, classes]: softmax of the logits (ANN) or of the output
        spike counts over T (SNN; the demo SNN is trained with exactly this readout)."""
        return self.probabilities_from(self.run(images)[OUTPUT])

    def probabilities_from(self, scores: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B, classes] from a run's ``output`` (so a pass that also reads layers
        need not be repeated for them)."""
        return torch.softmax(scores * self.T if self.spiking else scores, dim=1)
