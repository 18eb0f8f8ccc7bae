"""Jupyter widgets (ipywidgets + plotly FigureWidget) over the search core.

They only build Searches from choices, run them off the UI thread and observe them:

- :class:`MEIExplorer`: one neuron, one or several methods racing, live curve, run history, MEIs,
  the network's classes on each MEI and the dataset images that excite the neuron most;
- :class:`LayerOverview`: the MEIs of N units of a layer at once;
- :class:`EpochExplorer`: specializations over training epochs, from computed results;
- :class:`MangoApp` / :func:`demo_app`: all three in tabs, wired together (the Voila app);
- :class:`SweepProgress`: live progress of a sweep.

Needs the ``widgets`` extra (ipywidgets, plotly, anywidget).
"""
from mango_widgets.widgets.dashboard import MangoApp, demo_app, demo_models, stand_in_models
from mango_widgets.widgets.epoch_explorer import EpochExplorer
from mango_widgets.widgets.epoch_tab import EpochStudy, EpochTab
from mango_widgets.widgets.explorer import MEIExplorer
from mango_widgets.widgets.methods import DEFAULT_METHODS
from mango_widgets.widgets.overview import LayerOverview
from mango_widgets.widgets.sweep_progress import SweepProgress
from mango_widgets.widgets.updates import LiveRun, WriteStats

__all__ = ["DEFAULT_METHODS", "EpochExplorer", "EpochStudy", "EpochTab", "LayerOverview", "LiveRun", "MEIExplorer",
           "MangoApp", "SweepProgress", "WriteStats", "demo_app", "demo_models", "stand_in_models"]
