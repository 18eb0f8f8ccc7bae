"""Jupyter widgets (ipywidgets + plotly FigureWidget) over the search core.

They only build Searches from choices, run them off the UI thread and observe them:

- :class:`MEIExplorer`: one neuron, one or several methods racing, live curve and MEIs;
- :class:`LayerOverview`: the MEIs of N units of a layer at once;
- :class:`MangoApp` / :func:`demo_app`: both in tabs, wired together (the Voila app);
- :class:`EpochExplorer`: specializations over training epochs, from computed results;
- :class:`SweepProgress`: live progress of a sweep.

Needs the ``widgets`` extra (ipywidgets, plotly, anywidget).
"""
from .dashboard import MangoApp, demo_app, demo_models, stand_in_models
from .epoch_explorer import EpochExplorer
from .explorer import MEIExplorer
from .overview import LayerOverview
from .sweep_progress import SweepProgress
from .updates import LiveRun, WriteStats

__all__ = ["EpochExplorer", "LayerOverview", "LiveRun", "MEIExplorer", "MangoApp", "SweepProgress", "WriteStats",
           "demo_app", "demo_models", "stand_in_models"]
