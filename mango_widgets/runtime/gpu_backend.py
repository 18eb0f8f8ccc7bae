"""Which accelerated SpikingJelly neuron backend this machine can use, made visible.

SpikingJelly ships two incompatible lines:

* **2.x** (Python >= 3.11, torch >= 2.6): neurons have no ``backend`` argument; on CUDA the
  multi-step LIF kernel is picked automatically (hand-written CUDA, then Triton, then plain
  torch), overridable with the environment variable ``SJ_LIF_CUDA_IMPLEMENTATION``
  (``auto``/``cuda``/``triton``/``torch``). On the CPU it always runs the torch reference.
* **0.0.0.0.14**: neurons take ``backend="torch"`` or ``backend="cupy"``; the CuPy kernels
  need a CUDA device and the ``cupy`` package (our ``gpu`` extra: ``cupy-cuda12x``).

:func:`describe_backend` reports which of these applies; :func:`lif_backend_kwargs` gives
the keyword arguments a LIF neuron needs to use it. Nothing here runs at import time.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from typing import Dict, Optional

import torch

from mango_widgets.errors import ConfigError

#: SpikingJelly 2.x environment variable that forces a CUDA implementation of LIF
SJ2_LIF_ENV = "SJ_LIF_CUDA_IMPLEMENTATION"
#: backend names a user may ask for
BACKEND_CHOICES = ("auto", "torch", "cupy")


@dataclass(frozen=True)
class BackendInfo:
    """What the spiking neurons of a model run on, and why."""

    spikingjelly: str  # installed version, or "missing"
    line: str  # "2.x", "0.0.0.0.14" or "missing"
    device: str
    backend: str  # the name to show: "torch", "cupy", "cuda", "triton", "torch-reference"
    accelerated: bool
    options: Dict[str, str] = field(default_factory=dict)  # candidate -> why (un)available
    note: str = ""

    def __str__(self) -> str:
        kind = "accelerated" if self.accelerated else "plain torch"
        text = f"SpikingJelly {self.spikingjelly} ({self.line} line) on {self.device}: {self.backend} ({kind})"
        return text + (f"; {self.note}" if self.note else "")


def spikingjelly_version() -> Optional[str]:
    """The installed SpikingJelly version, or None."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("spikingjelly")
    except PackageNotFoundError:
        return None


def spikingjelly_line(version: Optional[str] = None) -> str:
    """``"2.x"``, ``"0.0.0.0.14"`` (any 0.0.0.0.x release) or ``"missing"``."""
    version = spikingjelly_version() if version is None else version
    if version is None:
        return "missing"
    return "0.0.0.0.14" if version.startswith("0.0.0.0.") else "2.x"


def cupy_status() -> str:
    """``"ok"`` if CuPy imports and sees a GPU, otherwise the reason it cannot be used."""
    if importlib.util.find_spec("cupy") is None:
        return "cupy is not installed (pip install 'mango_widgets[gpu]' installs cupy-cuda12x)"
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy raises its own CUDA errors
        return f"cupy is installed but unusable: {error}"
    return "ok"


def triton_status() -> str:
    """``"ok"`` if Triton is importable, else why not."""
    return "ok" if importlib.util.find_spec("triton") is not None else "triton is not installed"


def describe_backend(device="cpu", backend: str = "auto") -> BackendInfo:
    """Describe the LIF backend a SpikingJelly model built for ``device`` will use.

    ``backend`` is the user's wish: ``auto`` (the fastest available), ``torch`` (plain
    PyTorch, for comparison), or ``cupy`` (0.0.0.0.14 line only; an error elsewhere).
    """
    if backend not in BACKEND_CHOICES:
        raise ConfigError(f"unknown backend {backend!r}; use one of {', '.join(BACKEND_CHOICES)}")
    device = torch.device(device)
    version = spikingjelly_version()
    line = spikingjelly_line(version)
    if line == "missing":
        raise ConfigError("SpikingJelly is not installed; `pip install spikingjelly` (2.x needs Python >= 3.11)")
    if line == "0.0.0.0.14":
        return _describe_014(version, device, backend)
    return _describe_2x(version, device, backend)


def _describe_014(version: str, device: torch.device, backend: str) -> BackendInfo:
    cupy = cupy_status() if device.type == "cuda" else "needs a CUDA device"
    options = {"torch": "ok", "cupy": cupy}
    if backend == "cupy" and cupy != "ok":
        raise ConfigError(f"backend 'cupy' is not available: {cupy}; use backend='torch' or 'auto'")
    use_cupy = backend in ("auto", "cupy") and cupy == "ok"
    note = "" if use_cupy or device.type != "cuda" else f"CuPy kernels unavailable ({cupy})"
    return BackendInfo(version, "0.0.0.0.14", str(device), "cupy" if use_cupy else "torch", use_cupy, options, note)


def _describe_2x(version: str, device: torch.device, backend: str) -> BackendInfo:
    if backend == "cupy":
        raise ConfigError(
            f"SpikingJelly {version} (2.x) has no 'cupy' backend: it picks CUDA or Triton kernels itself; "
            "use backend='auto' (or 'torch' for plain PyTorch), or install spikingjelly==0.0.0.0.14 for CuPy"
        )
    if device.type != "cuda":
        return BackendInfo(version, "2.x", str(device), "torch-reference", False, {"cuda": "needs a CUDA device",
                           "triton": "needs a CUDA device"}, "SpikingJelly 2.x runs its torch reference on the CPU")
    forced = os.environ.get(SJ2_LIF_ENV, "auto")
    if backend == "torch" and forced != "torch":
        raise ConfigError(
            f"SpikingJelly 2.x picks its CUDA kernels per process: for plain torch set the environment "
            f"variable {SJ2_LIF_ENV}=torch before Python starts (now {forced!r}), or use backend='auto'"
        )
    from spikingjelly.activation_based.functional.neuron import neuron_implementation

    found = neuron_implementation("lif", device)
    name = str(found["implementation"])
    options = {k: str(v) for k, v in dict(found.get("unavailable", {})).items()}
    options.setdefault(name, "ok")
    note = f"{SJ2_LIF_ENV}={forced}" if forced != "auto" else "picked automatically"
    return BackendInfo(version, "2.x", str(device), name, name in ("cuda", "triton"), options, note)


def lif_backend_kwargs(info: BackendInfo) -> dict:
    """Keyword arguments for ``neuron.LIFNode`` that select ``info.backend`` (0.0.0.0.14 only)."""
    if info.line == "0.0.0.0.14":
        return {"backend": info.backend}
    return {}
