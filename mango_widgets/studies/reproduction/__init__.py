"""Reproduction of the paper's study of neuron selectivity over layers and training (``mango reproduce``).

config (presets ci / demo / paper) -> sources (models at checkpoints + generators) -> plan (cold
searches, warm starts with equal-budget controls, a second generator) on the engine -> baseline
(random images per epoch) -> tables, claims with intervals, figures -> report.
"""
