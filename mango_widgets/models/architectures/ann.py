"""torchvision ANNs (AlexNet, VGG, DenseNet, ResNet) with optional pretrained weights.

Weights come from a local state_dict file, or from torchvision's ImageNet weights already in
the torch hub cache (``torch.hub.get_dir()/checkpoints``). Nothing is downloaded unless the
caller passes ``download=True``. Every file is read with ``weights_only=True`` and checked
against the architecture by :func:`mango_widgets.models.checkpoints.load_state_dict`.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Optional, Union
from urllib.parse import urlparse

import torch
from torch import nn

from mango_widgets.errors import ConfigError, WeightsError, unknown_choice
from mango_widgets.models.checkpoints import load_state_dict, sha256_of

#: torchvision architectures offered by the zoo
ARCHITECTURES = ("alexnet", "vgg11", "vgg16", "densenet121", "resnet18", "resnet50")
#: ``weights=`` value that asks for torchvision's ImageNet weights from the hub cache
IMAGENET = "imagenet"
#: smallest input side AlexNet's pooling survives (others need 32)
MIN_SIDE = {"alexnet": 63}

# old torchvision DenseNet files name "norm.1" what the module calls "norm1"
_DENSENET_LEGACY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def imagenet_weights(arch: str):
    """torchvision's default ImageNet weights entry for ``arch`` (url, categories, transforms)."""
    from torchvision.models import get_model_weights

    return get_model_weights(arch).DEFAULT


def hub_cache_file(arch: str) -> Path:
    """Where torchvision keeps (or would keep) the ImageNet weights of ``arch``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(imagenet_weights(arch).url).path).name


def torchvision_ann(arch: str, num_classes: int = 1000, weights: Optional[Union[str, Path]] = None,
                    download: bool = False) -> nn.Module:
    """Build ``arch`` with random weights, a local state_dict file, or ImageNet weights.

    ``weights``: None (random), a path to a state_dict file, or ``"imagenet"`` (torchvision's
    default weights from the torch hub cache; ``download=True`` fetches them if missing).
    """
    if arch not in ARCHITECTURES:
        raise unknown_choice("architecture", arch, ARCHITECTURES)
    from torchvision import models

    module = models.get_model(arch, weights=None, num_classes=int(num_classes))
    if weights is None:
        return module
    if str(weights) != IMAGENET:
        return load_state_dict(module, weights)
    if int(num_classes) != 1000:
        raise ConfigError(f"ImageNet weights have 1000 classes; drop num_classes={num_classes} or load your own file")
    return _load_imagenet(module, arch, download)


def _load_imagenet(module: nn.Module, arch: str, download: bool) -> nn.Module:
    path = hub_cache_file(arch)
    if not path.is_file():
        if not download:
            raise WeightsError(
                f"no ImageNet weights for {arch} at {path}; pass download=True (needs network), or copy "
                f"{imagenet_weights(arch).url} there, or pass weights=<your state_dict file>"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(imagenet_weights(arch).url, str(path), progress=True)
    prefix = path.stem.rsplit("-", 1)[-1]
    if re.fullmatch(r"[0-9a-f]{8,}", prefix) and not sha256_of(path).startswith(prefix):
        raise WeightsError(f"{path} is corrupt (its sha256 does not start with {prefix}); delete it and download again")
    state = torch.load(path, map_location="cpu", weights_only=True)
    renamed = {(_DENSENET_LEGACY.sub(r"\1\2", k)): v for k, v in state.items()}
    if list(renamed) == list(state):
        return load_state_dict(module, path)
    with tempfile.TemporaryDirectory() as folder:  # reuse the checked loader on the renamed keys
        fixed = Path(folder) / path.name
        torch.save(renamed, fixed)
        return load_state_dict(module, fixed)
