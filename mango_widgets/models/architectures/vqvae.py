"""VQ-VAE with a discrete 8x8 latent over a codebook of 512 entries (the paper's discrete space).

An image (32x32, or 28x28 padded to 32) is encoded to an 8x8 grid of D-dimensional vectors,
each snapped to its nearest of ``num_embeddings`` codebook entries. For the search, an image
is *chosen* by 64 integer indices (one codebook entry per position): :class:`IndexDecoder`
maps indices [B, 64] -> images, so it plugs into ``Generator(..., takes_indices=True)`` with
``LatentGrid(d=64, n=512)``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from mango_widgets.errors import ConfigError

#: latent positions per side (8x8 = 64 positions) and the paper's codebook size
LATENT_SIDE = 8
NUM_EMBEDDINGS = 512


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class VQVAE(nn.Module):
    """Encoder (32 -> 8) + vector quantizer + decoder (8 -> 32); images in [0, 1]."""

    def __init__(self, channels: int = 3, image_size: int = 32, hidden: int = 128, embedding_dim: int = 64,
                 num_embeddings: int = NUM_EMBEDDINGS, commitment: float = 0.25):
        super().__init__()
        if image_size not in (28, 32):
            raise ConfigError(f"the VQ-VAE takes 32x32 images (or 28x28, padded to 32), got image_size={image_size}")
        self.channels, self.image_size = int(channels), int(image_size)
        self.num_embeddings, self.embedding_dim, self.commitment = int(num_embeddings), int(embedding_dim), commitment
        self.pad = (32 - self.image_size) // 2
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, hidden // 2, 4, 2, 1), nn.ReLU(),  # 32 -> 16
            nn.Conv2d(hidden // 2, hidden, 4, 2, 1), nn.ReLU(),  # 16 -> 8
            nn.Conv2d(hidden, hidden, 3, padding=1), _Residual(hidden), _Residual(hidden), nn.ReLU(),
            nn.Conv2d(hidden, embedding_dim, 1),
        )
        self.codebook = nn.Embedding(num_embeddings, embedding_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / num_embeddings, 1.0 / num_embeddings)
        self.decoder = nn.Sequential(
            nn.Conv2d(embedding_dim, hidden, 3, padding=1), _Residual(hidden), _Residual(hidden), nn.ReLU(),
            nn.ConvTranspose2d(hidden, hidden // 2, 4, 2, 1), nn.ReLU(),  # 8 -> 16
            nn.ConvTranspose2d(hidden // 2, channels, 4, 2, 1),  # 16 -> 32
        )

    @property
    def positions(self) -> int:
        """Number of discrete latent positions (64)."""
        return LATENT_SIDE * LATENT_SIDE

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Continuous encodings [B, D, 8, 8] of images [B, C, H, W] in [0, 1]."""
        x = F.pad(images * 2 - 1, (self.pad,) * 4) if self.pad else images * 2 - 1
        return self.encoder(x)

    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """Index [B, 64] of the nearest codebook entry at every position."""
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, self.embedding_dim)
        distances = torch.cdist(flat, self.codebook.weight)
        return distances.argmin(1).view(z_e.shape[0], -1)

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Images [B, C, H, W] in [0, 1] for codebook indices [B, 64]."""
        if indices.ndim != 2 or indices.shape[1] != self.positions:
            raise ConfigError(f"VQ-VAE indices must have shape [batch, {self.positions}], got {tuple(indices.shape)}")
        z_q = self.codebook(indices.long()).view(-1, LATENT_SIDE, LATENT_SIDE, self.embedding_dim)
        return self._decode(z_q.permute(0, 3, 1, 2))

    def _decode(self, z_q: torch.Tensor) -> torch.Tensor:
        x = torch.sigmoid(self.decoder(z_q))
        if self.pad:
            x = x[..., self.pad:-self.pad, self.pad:-self.pad]
        return x

    @torch.no_grad()
    def restart_dead_codes(self, images: torch.Tensor, usage: torch.Tensor, generator=None) -> int:
        """Move the codebook entries that no encoding chose (``usage == 0``) onto encodings of ``images``.

        Without this a VQ-VAE trained with Adam uses a handful of its 512 entries, and a search
        over all 512 mostly picks entries the decoder never saw. Returns how many were moved.
        """
        dead = (usage == 0).nonzero().flatten()
        if len(dead) == 0:
            return 0
        z_e = self.encode(images).permute(0, 2, 3, 1).reshape(-1, self.embedding_dim)
        pick = torch.randint(0, len(z_e), (len(dead),), generator=generator).to(z_e.device)
        noise = torch.randn(len(dead), self.embedding_dim, generator=generator).to(z_e.device)
        self.codebook.weight[dead.to(z_e.device)] = z_e[pick] + 0.01 * z_e.std() * noise
        return len(dead)

    def forward(self, images: torch.Tensor):
        """(reconstruction in [0, 1], VQ loss = codebook + commitment terms, indices [B, 64])."""
        z_e = self.encode(images)
        indices = self.quantize(z_e)
        z_q = self.codebook(indices).view(z_e.shape[0], LATENT_SIDE, LATENT_SIDE, -1).permute(0, 3, 1, 2)
        vq_loss = F.mse_loss(z_q, z_e.detach()) + self.commitment * F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()  # straight-through estimator
        return self._decode(z_st), vq_loss, indices


class IndexDecoder(nn.Module):
    """The searchable half of a VQ-VAE: codebook indices [B, 64] -> images (for takes_indices=True)."""

    def __init__(self, vqvae: VQVAE):
        super().__init__()
        self.vqvae = vqvae

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return self.vqvae.decode_indices(indices)
