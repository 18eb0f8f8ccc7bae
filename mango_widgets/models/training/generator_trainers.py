"""``mango train`` for zoo generators: GANs (hinge loss against a discriminator) and VQ-VAEs.

A zoo generator entry names its loop in ``trainer`` ("gan" or "autoencoder"); :data:`GENERATOR_TRAINERS`
maps that name to the class here. Both write the trained generator and a sample grid of what a
search over its grid sees.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Tuple

import torch
import torch.nn.functional as F

from mango_widgets.errors import ConfigError
from mango_widgets.models import zoo
from mango_widgets.models.training.demo_generator import uniform_latents
from mango_widgets.models.training.trainer import Trainer


@torch.no_grad()
def save_sample_grid(generator, path, rows: int = 8, seed: int = 0) -> Path:
    """PNG of rows x rows images at random points of the generator's search grid (what a search sees)."""
    import numpy as np
    from torchvision.utils import save_image

    indices = generator.grid.random(rows * rows, np.random.default_rng(seed))
    images = generator(indices).cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images, path, nrow=rows, padding=1)
    return path


class GeneratorTrainer(Trainer):
    """A zoo generator (key ``generator``) trained with Adam; ``betas`` differ by loop."""

    betas = (0.9, 0.999)

    def _build(self) -> str:
        c = self.config
        self.entry = zoo.generator_entry(c.model)
        generator = zoo.build_generator_module(c.model, device=str(self.device), **c.model_args).to(self.device)
        self.models = {"generator": generator}
        self.optimizers = {"generator": torch.optim.Adam(generator.parameters(), lr=self.lr, betas=self.betas)}
        return c.dataset or self.entry.dataset

    def image_shape(self) -> Tuple[int, int, int]:
        return tuple(zoo.generator_image_shape(self.entry, self.models["generator"]))

    def save(self, out: Path) -> None:
        zoo.save(self.models["generator"], out / "model.pt")
        save_sample_grid(zoo.load(out / "model.pt", device=str(self.device)), out / "samples.png",
                         rows=self.config.sample_rows, seed=self.config.seed)


class GanTrainer(GeneratorTrainer):
    """SN-GAN style: hinge loss, one discriminator step per generator step, Adam betas (0, 0.9)."""

    kind = "gan"
    default_lr = 2e-4  # SN-GAN's rate with Adam betas (0, 0.9)
    betas = (0.0, 0.9)

    def _build(self) -> str:
        dataset = super()._build()
        discriminator = self._discriminator(self.models["generator"]).to(self.device)
        self.models["discriminator"] = discriminator
        self.optimizers["discriminator"] = torch.optim.Adam(discriminator.parameters(), lr=self.lr, betas=self.betas)
        return dataset

    def _discriminator(self, generator: torch.nn.Module) -> torch.nn.Module:
        builder = self.entry.discriminator
        kwargs = {**self.entry.discriminator_kwargs, **self.config.disc_args}
        if "channels" in inspect.signature(builder).parameters and hasattr(generator, "channels"):
            kwargs.setdefault("channels", generator.channels)
        return builder(**kwargs)

    def epoch(self, epoch: int) -> dict:
        from mango_widgets.models.architectures.sngan32 import hinge_d_loss, hinge_g_loss

        g, d = self.models["generator"], self.models["discriminator"]
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        grid, rng = self.entry.grid, torch.Generator().manual_seed(self.config.seed * 1000 + epoch)
        g.train()
        d.train()
        sums, n = {"d_loss": 0.0, "g_loss": 0.0}, 0
        for real, _ in self.batches(self.train_data, epoch, drop_last=True):
            real = real.to(self.device)
            z = uniform_latents(len(real), g.latent_dim, rng, grid.low, grid.high).to(self.device)
            fake = g(z)
            loss_d = hinge_d_loss(d(real), d(fake.detach()))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = hinge_g_loss(d(fake))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sums["d_loss"] += loss_d.item()
            sums["g_loss"] += loss_g.item()
            n += 1
        if n == 0:
            raise ConfigError(f"no full batch of {self.config.batch_size} in {len(self.train_data)} images; lower --batch-size")
        return {k: round(v / n, 5) for k, v in sums.items()}


class AutoencoderTrainer(GeneratorTrainer):
    """VQ-VAE: reconstruction (binary cross-entropy) + codebook loss; unused codes restart on encodings."""

    kind = "autoencoder"
    default_lr = 1e-3

    def epoch(self, epoch: int) -> dict:
        vq, opt, every = self.models["generator"], self.optimizers["generator"], self.config.codebook_restart
        vq.train()
        sums, n, used, restarted = {"recon_loss": 0.0, "recon_mse": 0.0, "vq_loss": 0.0}, 0, set(), 0
        usage = torch.zeros(vq.num_embeddings, dtype=torch.long)
        for step, (x, _) in enumerate(self.batches(self.train_data, epoch), 1):
            x = x.to(self.device)
            recon, vq_loss, indices = vq(x)
            # cross-entropy, not MSE: with MSE the sigmoid output saturates at 0 on mostly-dark images within
            # ~20 Adam steps and the decoder never recovers (it outputs a blank image)
            recon_loss = F.binary_cross_entropy(recon, x)
            opt.zero_grad()
            (recon_loss + vq_loss).backward()
            opt.step()
            sums["recon_loss"] += recon_loss.item() * len(x)
            sums["recon_mse"] += F.mse_loss(recon.detach(), x).item() * len(x)
            sums["vq_loss"] += vq_loss.item() * len(x)
            n += len(x)
            used.update(indices.unique().tolist())
            usage += torch.bincount(indices.flatten().cpu(), minlength=vq.num_embeddings)
            if every and step % every == 0:  # entries unused for `every` steps restart on fresh encodings
                restarted += vq.restart_dead_codes(x, usage)
                usage.zero_()
        row = {k: round(v / n, 5) for k, v in sums.items()}
        row.update(codebook_used=len(used), codebook_restarted=restarted)
        return row


#: trainer by the name a zoo generator entry gives in ``trainer``
GENERATOR_TRAINERS = {"gan": GanTrainer, "autoencoder": AutoencoderTrainer}
