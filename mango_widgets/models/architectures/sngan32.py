"""SN-GAN for 32x32 colour images (Miyato et al. 2018, CIFAR-10 ResNet architecture).

Generator: latent [B, 128] -> linear to 4x4xW -> three up-sampling residual blocks (4 -> 32)
-> BN, ReLU, 3x3 conv -> tanh, returned rescaled to [0, 1]. Discriminator: spectral-normalised
residual blocks with global sum pooling, trained with the hinge loss (functions below).
``width`` is 256 / 128 in the paper; tests use a few channels.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

#: the paper's latent size
LATENT_DIM = 128


class _GenBlock(nn.Module):
    """BN-ReLU-upsample-conv-BN-ReLU-conv with an upsample-1x1-conv shortcut (doubles H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.shortcut = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class SNGANGenerator(nn.Module):
    """Latent [B, latent_dim] -> image [B, channels, 32, 32] in [0, 1]."""

    def __init__(self, latent_dim: int = LATENT_DIM, width: int = 256, channels: int = 3):
        super().__init__()
        self.latent_dim, self.width, self.channels = int(latent_dim), int(width), int(channels)
        self.linear = nn.Linear(self.latent_dim, 4 * 4 * self.width)
        self.block1, self.block2, self.block3 = (_GenBlock(self.width) for _ in range(3))
        self.bn = nn.BatchNorm2d(self.width)
        self.conv_out = nn.Conv2d(self.width, channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.linear(z).view(-1, self.width, 4, 4)
        h = self.block3(self.block2(self.block1(h)))
        return (torch.tanh(self.conv_out(F.relu(self.bn(h)))) + 1) / 2


class _DisBlock(nn.Module):
    """Spectral-normalised residual block; ``first`` skips the leading ReLU (the optimized block)."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = spectral_norm(nn.Conv2d(c_in, c_out, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.shortcut = spectral_norm(nn.Conv2d(c_in, c_out, 1)) if (down or c_in != c_out) else None

    def forward(self, x):
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.shortcut is not None:
            s = F.avg_pool2d(self.shortcut(x), 2) if (self.first and self.down) else self.shortcut(x)
            if self.down and not self.first:
                s = F.avg_pool2d(s, 2)
        return h + s


class SNGANDiscriminator(nn.Module):
    """Image [B, channels, 32, 32] in [0, 1] -> realness score [B] (hinge-loss critic)."""

    def __init__(self, width: int = 128, channels: int = 3):
        super().__init__()
        self.blocks = nn.Sequential(
            _DisBlock(channels, width, down=True, first=True),  # 32 -> 16
            _DisBlock(width, width, down=True),  # 16 -> 8
            _DisBlock(width, width, down=False),
            _DisBlock(width, width, down=False),
        )
        self.linear = spectral_norm(nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.blocks(x * 2 - 1)).sum(dim=(2, 3))  # global sum pooling
        return self.linear(h).squeeze(1)


def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss: mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss: -mean(D(fake))."""
    return -fake_scores.mean()
