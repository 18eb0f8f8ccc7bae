"""Reproducible training of the bundled demo weights (demo SNN and latent-grid generator)."""
