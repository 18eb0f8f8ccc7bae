"""Process runtime settings: torch threads, XLA CPU flags, GPU neuron backends, SNN state reset."""
