"""Model architectures: the demo SNN and generator, and the paper-scale zoo's networks and generators."""
