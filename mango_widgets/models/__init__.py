"""Model sources: the bundled demo models, the paper-scale zoo, checkpoints, datasets, and training.

``architectures/`` holds the torch modules; ``bundled.py`` the demo SNN and generator shipped in
``weights/``; ``zoo.py`` networks and generators by name; ``training/`` the scripts that made them.
"""
