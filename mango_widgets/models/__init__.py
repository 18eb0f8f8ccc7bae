"""Model architectures: the demo SNN and generator, and the paper-scale zoo (see zoo.py)."""
