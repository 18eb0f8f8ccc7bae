"""Train the demo DCGAN generator on the MNIST subset, with latents drawn like the search grid.

The toolkit searches 64 points per latent axis spaced uniformly on [-4, 4], so the generator
is trained on z ~ uniform[-4, 4]^d (not N(0, 1)): every grid point is then in-distribution.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch

from mango_widgets.errors import unknown_choice
from mango_widgets.models.architectures.dcgan import DCGANGenerator, SNDiscriminator
from mango_widgets.models.mnist_subset import load_mnist_subset, random_shift
from mango_widgets.records.atomic import write_torch

#: the latent grid the toolkit searches (the paper's setting)
GRID = dict(d=128, n=64, low=-4.0, high=4.0)

#: default training settings (recorded in the manifest)
GENERATOR_DEFAULTS = dict(epochs=120, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                          n_critic=1, latent_dim=128, width=128, disc_width=64, seed=0,
                          ema_decay=0.999, lr_decay="linear", d_augment_shift=0, loss="hinge",
                          bn_recalibration_batches=40)


def uniform_latents(n: int, d: int, generator: torch.Generator, low=-4.0, high=4.0):
    """Latents drawn uniformly from [low, high]^d (the training distribution)."""
    return torch.rand(n, d, generator=generator) * (high - low) + low


def grid_latents(n: int, generator: torch.Generator, d=GRID["d"], n_points=GRID["n"],
                 low=GRID["low"], high=GRID["high"]):
    """Random grid points: every coordinate is one of linspace(low, high, n_points), uniformly."""
    axis = torch.from_numpy(np.linspace(low, high, n_points)).float()
    return axis[torch.randint(0, n_points, (n, d), generator=generator)]


@torch.no_grad()
def recalibrate_batchnorm(g: DCGANGenerator, batches: int, batch_size: int, generator):
    """Re-estimate BatchNorm running statistics as exact averages over fresh latents.

    This makes eval() mode (used by the toolkit) match the batch statistics seen in training.
    """
    norms = [m for m in g.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    g.train()
    for _ in range(batches):
        g(uniform_latents(batch_size, g.latent_dim, generator))
    for m, mom in zip(norms, saved):
        m.momentum = mom
    g.eval()


def train_demo_generator(epochs: int = 120, batch_size: int = 64, lr_g: float = 2e-4,
                         lr_d: float = 2e-4, betas=(0.5, 0.999), n_critic: int = 1,
                         latent_dim: int = 128, width: int = 128, disc_width: int = 64,
                         seed: int = 0, ema_decay: float = 0.999, lr_decay: str = "linear",
                         d_augment_shift: int = 0,
                         bn_recalibration_batches: int = 40,
                         out_dir="mango_widgets/models/weights", progress=None):
    """Hinge-loss GAN training against the spectral-norm critic; saves ``generator.pt``.

    The saved generator is an exponential moving average of the trained weights (``ema_decay``,
    0 = off), which gives cleaner samples, with BatchNorm statistics re-estimated for eval().
    ``lr_decay="linear"`` lowers both learning rates linearly to zero over training;
    ``d_augment_shift`` > 0 shows the critic randomly shifted real and fake images (DiffAugment).

    Returns (generator in eval mode, list of per-epoch loss dicts). ``progress`` (optional)
    is called with a message string after every epoch.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    x_tr, _ = load_mnist_subset("train", seed=0)
    g = DCGANGenerator(latent_dim=latent_dim, width=width)
    d = SNDiscriminator(width=disc_width)
    ema = copy.deepcopy(g).requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr_g, betas=tuple(betas))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr_d, betas=tuple(betas))
    if lr_decay not in ("none", "linear"):
        raise unknown_choice("lr_decay", lr_decay, ("none", "linear"))
    total = epochs * (len(x_tr) // batch_size)
    factor = (lambda s: 1.0 - s / total) if lr_decay == "linear" else (lambda s: 1.0)
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in (opt_g, opt_d)]
    def aug(x):
        return random_shift(x, d_augment_shift, rng) if d_augment_shift else x

    history = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        g.train()
        d.train()
        order = torch.randperm(len(x_tr), generator=rng)
        d_sum, g_sum, n_d, n_g = 0.0, 0.0, 0, 0
        for step, i in enumerate(range(0, len(x_tr) - batch_size + 1, batch_size)):
            real = x_tr[order[i:i + batch_size]]
            fake = g(uniform_latents(batch_size, latent_dim, rng))
            loss_d = (torch.relu(1 - d(aug(real))).mean()
                      + torch.relu(1 + d(aug(fake.detach()))).mean())
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            d_sum, n_d = d_sum + loss_d.item(), n_d + 1
            if (step + 1) % n_critic == 0:
                loss_g = -d(aug(fake)).mean()
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                with torch.no_grad():
                    for pe, p in zip(ema.parameters(), g.parameters()):
                        pe.lerp_(p, 1.0 - ema_decay)
                g_sum, n_g = g_sum + loss_g.item(), n_g + 1
            for sch in scheds:
                sch.step()
        m = dict(epoch=epoch, d_loss=round(d_sum / max(n_d, 1), 5),
                 g_loss=round(g_sum / max(n_g, 1), 5), seconds=round(time.perf_counter() - t0, 2))
        history.append(m)
        if progress is not None:
            progress(f"generator epoch {epoch}/{epochs}: " + ", ".join(f"{k}={v}" for k, v in m.items()))
    recalibrate_batchnorm(ema, bn_recalibration_batches, 256, rng)
    write_torch(out_dir / "generator.pt", ema.state_dict())
    return ema, history


@torch.no_grad()
def generator_quality(g, snn, T: int = 20, n_samples: int = 1000, seed: int = 0,
                      batch_size: int = 250) -> dict:
    """Quality gate: SNN mean top-class probability and class histogram on random grid points.

    ``g`` and ``snn`` are put in eval mode; probabilities are softmax of output spike counts.
    """
    from mango_widgets.models.training.demo_snn import spike_counts

    g.eval()
    snn.eval()
    rng = torch.Generator().manual_seed(seed)
    top, hist = 0.0, torch.zeros(10, dtype=torch.long)
    for i in range(0, n_samples, batch_size):
        z = grid_latents(min(batch_size, n_samples - i), rng, d=g.latent_dim)
        probs = spike_counts(snn, g(z), T).softmax(1)
        top += probs.max(1).values.sum().item()
        hist += torch.bincount(probs.argmax(1), minlength=10)
    return {"snn_mean_top_class_probability": round(top / n_samples, 5),
            "class_histogram": hist.tolist(), "n_samples": n_samples}


@torch.no_grad()
def save_sample_grid(g, path, seed: int = 0, rows: int = 8, scale: int = 3) -> None:
    """Save a rows x rows grid of samples from random grid-point latents as a PNG.

    Pixels are repeated ``scale`` times (nearest neighbour) so the digits are readable.
    """
    from mango_widgets.records.atomic import write_png

    g.eval()
    imgs = g(grid_latents(rows * rows, torch.Generator().manual_seed(seed), d=g.latent_dim))
    tiles = imgs[:, 0].reshape(rows, rows, 28, 28).permute(0, 2, 1, 3).reshape(rows * 28, rows * 28)
    write_png(path, tiles.numpy(), scale)
