"""Datasets load through torchvision's real loaders from tiny files in each dataset's on-disk format."""
import pickle
import struct

import numpy as np
import pytest
import torch

from mango_widgets import ConfigError, Objective, Search
from mango_widgets.models import zoo
from mango_widgets.models.datasets import DatasetNotFoundError, dataset_names, dataset_spec, load_dataset

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
WNIDS = {"n01440764": ("tench", "Tinca tinca"), "n01443537": ("goldfish", "Carassius auratus")}


# ----------------------------------------------------------------- fixture writers (real formats)
def _images(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def write_idx(root, folder="MNIST", n_train=20, n_test=10, seed=0):
    """MNIST / Fashion-MNIST: raw, uncompressed idx ubyte files under root/<folder>/raw."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = _images(n, (28, 28), seed), np.arange(n, dtype=np.uint8) % 10
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())
    return root


def write_cifar10(root, per_batch=4, seed=0):
    """CIFAR-10: the python pickle batches in root/cifar-10-batches-py (the dataset's own format)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        batch = {"data": _images(per_batch, (3 * 32 * 32,), seed + k), "labels": [(k + i) % 10 for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CIFAR_CLASSES}))
    return root


def write_imagenet(root, per_class=2, meta=True, seed=0):
    """ImageNet as torchvision prepares it: meta.bin + train/<wnid>/*.JPEG (+ val/)."""
    from PIL import Image

    for split in ("train", "val"):
        for k, wnid in enumerate(WNIDS):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                Image.fromarray(_images(1, (40, 48, 3), seed + 10 * k + i)[0]).save(folder / f"{wnid}_{i}.JPEG")
    if meta:
        torch.save((dict(WNIDS), list(WNIDS)), root / "meta.bin")
    return root


# ----------------------------------------------------------------- loaders
@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_idx_datasets_load_with_torchvision(tmp_path, name, folder):
    write_idx(tmp_path, folder)
    train = load_dataset(name, "train", root=tmp_path)
    test = load_dataset(name, "test", root=tmp_path)
    assert type(train).__name__ == folder  # the real torchvision class
    assert len(train) == 20 and len(test) == 10
    image, label = train[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
    assert label == 3 and list(train.classes) == list(dataset_spec(name).classes)


def test_cifar10_batches_load_and_md5_is_checked(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(DatasetNotFoundError, match=r"cifar-10-batches-py.*md5"):
        load_dataset("cifar10", root=tmp_path)  # tiny files do not match the official checksums
    train = load_dataset("cifar10", "train", root=tmp_path, verify=False)
    test = load_dataset("cifar10", "test", root=tmp_path, verify=False)
    assert len(train) == 20 and len(test) == 4
    image, label = train[5]
    assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1 and label == 2
    assert train.classes == CIFAR_CLASSES


def test_imagenet_with_meta_bin_uses_torchvision_imagenet(tmp_path):
    write_imagenet(tmp_path)
    data = load_dataset("imagenet", "train", root=tmp_path, image_size=32)
    assert type(data).__name__ == "ImageNet"
    assert data.classes == ["tench", "goldfish"] and len(data) == 4
    image, label = data[2]
    assert image.shape == (3, 32, 32) and label == 1
    assert len(load_dataset("imagenet", "test", root=tmp_path, image_size=32)) == 4  # "test" reads val/


def test_imagenet_without_meta_bin_falls_back_to_image_folder(tmp_path):
    write_imagenet(tmp_path, meta=False)
    data = load_dataset("imagenet", "train", root=tmp_path, image_size=24)
    assert type(data).__name__ == "ImageFolder" and data.classes == list(WNIDS)
    assert data[0][0].shape == (3, 24, 24)


@pytest.mark.parametrize("name, where", [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw"),
                                         ("cifar10", "cifar-10-batches-py"), ("imagenet", "train/<wnid>")])
def test_missing_data_says_where_and_how(tmp_path, name, where):
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset(name, root=tmp_path / "empty")
    message = str(error.value)
    assert str(tmp_path / "empty") in message and where in message and "mnist-subset" in message
    assert ("download=True" in message) or ("image-net.org" in message)


def test_imagenet_cannot_be_downloaded_and_bad_names_list_choices(tmp_path):
    with pytest.raises(ConfigError, match="licence"):
        load_dataset("imagenet", root=tmp_path, download=True)
    with pytest.raises(ConfigError, match=r"unknown dataset 'cifar100'.*cifar10"):
        load_dataset("cifar100")
    with pytest.raises(ConfigError, match=r"unknown split 'val'.*train, test"):
        load_dataset("mnist-subset", "val")


def test_offline_subset_is_the_default_and_limit_spreads_classes():
    data = load_dataset(limit=50)
    assert len(data) == 50 and data.classes[3] == "3"
    labels = {int(data[i][1]) for i in range(len(data))}
    assert len(labels) == 10  # the subset is sorted by class: the first 50 would be all zeros
    assert dataset_names()[0] == "mnist-subset"


def test_normalisation_and_class_names_per_dataset():
    assert dataset_spec("cifar10").mean == (0.4914, 0.4822, 0.4465) and dataset_spec("cifar10").classes[0] == "airplane"
    assert dataset_spec("fashion-mnist").classes[-1] == "Ankle boot"
    assert len(dataset_spec("imagenet").classes) == 1000 and dataset_spec("imagenet").classes[1] == "goldfish"


# ----------------------------------------------------------------- every dataset feeds a search
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "imagenet"])
def test_every_dataset_drives_a_network_and_a_search(tmp_path, name):
    write_idx(tmp_path, "MNIST"), write_idx(tmp_path, "FashionMNIST"), write_cifar10(tmp_path), write_imagenet(tmp_path)
    data = load_dataset(name, "test", root=tmp_path, verify=False, image_size=32)
    images = torch.stack([data[i][0] for i in range(2)])
    network_name, generator_name, extra = {
        1: ("conv-snn-mnist", "dcgan28", {"T": 10}),
        3: ("resnet18", "sngan32", {"input_size": 32, "resize": 32}),
    }[images.shape[1]]
    if name == "cifar10":
        network_name, extra = "conv-snn-cifar", {"T": 10}
    network = zoo.make_network(network_name, dataset=name, **extra)
    assert network.classes == tuple(dataset_spec(name).classes)
    probabilities = network.class_probabilities(images)
    assert probabilities.shape == (2, len(network.classes))
    generator = zoo.make_generator(generator_name, width=8)
    search = Search(Objective(generator, network, "class:1"), "random", budget=50, seed=0, threads=1).run()
    assert search.state == "finished" and search.queries == 50
