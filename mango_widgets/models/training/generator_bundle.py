"""Bundle a generator trained by ``mango train`` (e.g. the VQ-VAE) with its quality numbers and sha256.

    mango train --model vqvae28 --epochs 40 --threads 1 --device cpu --model-arg hidden=64 \\
        --model-arg embedding_dim=32 --out ~/.cache/mango_widgets/runs/vqvae28
    python -m mango_widgets.models.training.generator_bundle --run ~/.cache/mango_widgets/runs/vqvae28 \\
        --dest mango_widgets/models/weights/vqvae28

Quality, measured the way a search sees the generator: the demo SNN's mean top-class
probability (softmax of output spike counts) on 1,000 random points of the generator's search
grid, the class histogram of those samples, and for autoencoders the held-out reconstruction
error (mean squared error per pixel, images in [0, 1]) and how many codebook entries the
held-out images use. The demo DCGAN measured the same way is recorded alongside for reference.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.errors import reports_errors
from mango_widgets.models import zoo
from mango_widgets.models.checkpoints import sha256_of
from mango_widgets.models.trained import GENERATOR_KIND, MANIFEST, RUN_FORMAT
from mango_widgets.models.training.epochs import environment
from mango_widgets.records.atomic import write_json


@torch.no_grad()
def sample_quality(generator: Generator, network: Network, samples: int = 1000, seed: int = 0,
                   batch: int = 250) -> dict:
    """Mean top-class probability and class histogram of ``network`` on random grid points of ``generator``."""
    rng = np.random.default_rng(seed)
    top, histogram = [], np.zeros(len(network.classes), dtype=int)
    for start in range(0, samples, batch):
        probabilities = network.class_probabilities(generator(generator.grid.random(min(batch, samples - start), rng)))
        top.append(probabilities.max(1).values)
        histogram += np.bincount(probabilities.argmax(1).numpy(), minlength=len(histogram))
    return {"snn_mean_top_class_probability": round(torch.cat(top).mean().item(), 5),
            "class_histogram": histogram.tolist(), "samples": samples, "seed": seed}


@torch.no_grad()
def reconstruction(autoencoder: torch.nn.Module, images: torch.Tensor, batch: int = 250) -> dict:
    """Held-out reconstruction error (MSE per pixel) and codebook entries used, of a VQ-VAE-like module."""
    autoencoder.eval()
    squared, used = 0.0, set()
    for chunk in images.split(batch):
        recon, _, indices = autoencoder(chunk)
        squared += torch.nn.functional.mse_loss(recon, chunk, reduction="sum").item()
        used.update(indices.unique().tolist())
    return {"heldout_reconstruction_mse": round(squared / images.numel(), 6), "heldout_codebook_used": len(used),
            "heldout_images": len(images)}


@torch.no_grad()
def save_figure(generator: Generator, path, held_out: torch.Tensor, seed: int = 0, columns: int = 10) -> Path:
    """PNG: a row of random grid samples per ``columns``, then held-out images over their reconstructions."""
    from torchvision.utils import save_image

    rows = [generator(generator.grid.random(2 * columns, np.random.default_rng(seed))).cpu()]
    module = generator.zoo_module
    if hasattr(module, "quantize"):  # an autoencoder: originals, then what comes back through the codebook
        originals = held_out[torch.linspace(0, len(held_out) - 1, columns).long()]  # spread: files are by class
        rows += [originals, module(originals)[0].cpu()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(rows), path, nrow=columns, padding=2, pad_value=0.5)
    return path


def bundle_generator(run, dest, samples: int = 1000, seed: int = 0) -> dict:
    """Measure the generator of a ``mango train`` run and copy it into ``dest`` with a manifest; returns it."""
    from mango_widgets.models.bundled import demo_generator, demo_network
    from mango_widgets.models.mnist_subset import load_mnist_subset

    run, dest = Path(run).expanduser(), Path(dest)
    spec = zoo.read_sidecar(run / "model.pt")
    generator = zoo.load(run / "model.pt")
    network = demo_network()
    metrics = {**sample_quality(generator, network, samples, seed),
               "reference_demo_dcgan": sample_quality(demo_generator(), network, samples, seed)}
    if zoo.generator_entry(spec["name"]).trainer == "autoencoder":
        metrics.update(reconstruction(generator.zoo_module, load_mnist_subset("heldout")[0]))
    history = json.loads((run / "metrics.json").read_text())
    checkpoints = sorted((run / "checkpoints").glob("epoch_*.json"))
    settings = json.loads(checkpoints[-1].read_text())["config"] if checkpoints else {}
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "model.pt", dest / "generator.pt")
    manifest = {"format": RUN_FORMAT, "kind": GENERATOR_KIND, "zoo": spec["name"], "kwargs": spec["kwargs"],
                "grid": spec.get("grid"), "file": "generator.pt", "sha256": sha256_of(dest / "generator.pt"),
                "bytes": (dest / "generator.pt").stat().st_size, "settings": settings,
                "environment": environment(settings.get("threads") or torch.get_num_threads()),
                "metrics": metrics, "history": history}
    write_json(dest / MANIFEST, manifest, indent=1)
    return manifest


@reports_errors
def main(argv=None) -> int:
    """Entry point; 0 on success, 2 on a usage or data error (printed)."""
    p = argparse.ArgumentParser(prog="python -m mango_widgets.models.training.generator_bundle",
                                description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="output folder of `mango train --model <generator>`")
    p.add_argument("--dest", required=True, help="bundle folder, e.g. mango_widgets/models/weights/vqvae28")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--figure", default=None, help="also write a PNG of samples (and reconstructions), e.g. "
                                                  "docs/vqvae28_samples.png")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    manifest = bundle_generator(args.run, args.dest, args.samples, args.seed)
    if args.figure:
        from mango_widgets.models.mnist_subset import load_mnist_subset
        from mango_widgets.models.trained import load_generator

        save_figure(load_generator(args.dest), args.figure, load_mnist_subset("heldout")[0], args.seed)
    print(json.dumps({k: v for k, v in manifest["metrics"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
