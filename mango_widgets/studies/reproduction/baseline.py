"""The per-epoch random-image baseline: what the network makes of images the generator makes anyway.

At every checkpoint the same ``baseline_images`` random grid points (fixed seed) go through the
generator and the network once: their class probabilities (top probability, entropy) and the
activation of every unit of the studied layers. A criterion met by MEIs is only informative
beyond the rate at which random images meet it (random demo-DCGAN samples already get a mean
top-class probability of about 0.8). One ``.npz`` per (source, epoch), written atomically, so the
step resumes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

from mango_widgets.core.network import OUTPUT
from mango_widgets.records.atomic import write_npz

FOLDER = "baseline"


def baseline_file(folder, source_name: str, epoch: int) -> Path:
    """Where the baseline of one source and epoch lives in a study folder."""
    return Path(folder) / FOLDER / source_name / f"epoch{int(epoch):04d}.npz"


def compute_baseline(network, generator, layers: List[str], images: int, seed: int = 0, batch: int = 100) -> Dict[str, np.ndarray]:
    """Class probabilities [R, classes] and activations [R, units] per layer for ``images`` random grid points."""
    indices = generator.grid.random(images, np.random.default_rng(seed))
    probabilities, activations = [], {layer: [] for layer in layers}
    for start in range(0, images, batch):
        chunk = generator(indices[start:start + batch])
        run = network.run(chunk, layers)  # one pass: the layers and the output
        for layer in layers:
            activations[layer].append(run[layer].double().cpu().numpy())
        probabilities.append(network.probabilities_from(run[OUTPUT]).double().cpu().numpy())
    arrays = {"indices": indices.astype(np.int16), "probabilities": np.concatenate(probabilities)}
    arrays.update({f"activation:{layer}": np.concatenate(values) for layer, values in activations.items()})
    return arrays


def ensure_baselines(folder, source, epochs: List[int], T: int, layers: List[str], images: int, seed: int = 0,
                     log: Callable[[str], None] = print) -> List[Path]:
    """Compute the baseline of every epoch that has none yet in ``folder``; returns all files."""
    from mango_widgets.runtime.threads import default_threads, torch_threads

    paths, generator = [], None
    for epoch in epochs:
        path = baseline_file(folder, source.name, epoch)
        paths.append(path)
        if path.is_file():
            continue
        generator = generator or source.generator("uniform")
        with torch_threads(default_threads()):  # $MANGO_THREADS: one thread on a shared machine
            arrays = compute_baseline(source.network(epoch, T), generator, layers, images, seed)
            write_npz(path, **arrays)  # the one atomic writer: a kill never leaves half a file
        log(f"baseline: {images} random images at epoch {epoch} of {source.name}")
    return paths


def load_baselines(folder, source_name: str) -> Dict[int, Dict[str, np.ndarray]]:
    """{epoch: arrays} of every baseline file of a source."""
    result = {}
    for path in sorted((Path(folder) / FOLDER / source_name).glob("epoch*.npz")):
        with np.load(path) as data:
            result[int(path.stem[5:])] = {name: data[name] for name in data.files}
    return result
