"""Model architectures shipped with the toolkit (the demo SNN and generator)."""
