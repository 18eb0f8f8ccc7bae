"""Pure analysis of MEIs: class entropy, selectivity, stable/labile tracks, diversity, complexity.

Every function takes plain arrays or a results table (pandas DataFrame) and returns numbers or
tables; drawing lives in :mod:`mango_widgets.analysis.figures` and the widgets.
"""
from mango_widgets.analysis.complexity import compression_ratios
from mango_widgets.analysis.diversity import latent_diversity
from mango_widgets.analysis.entropy import normalized_entropy
from mango_widgets.analysis.selectivity import SelectivityCriteria, neuron_selectivity, selectivity_table
from mango_widgets.analysis.tracks import classify_tracks

__all__ = [
    "SelectivityCriteria", "classify_tracks", "compression_ratios", "latent_diversity",
    "neuron_selectivity", "normalized_entropy", "selectivity_table",
]
