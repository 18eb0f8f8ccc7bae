"""A download/export button with the line under it where its files (or its error) appear."""
from __future__ import annotations

from typing import Tuple

import ipywidgets as widgets


def download_controls(description: str, tooltip: str, button_class: str, result_class: str) -> Tuple[widgets.Button, widgets.HTML]:
    """A disabled button (enabled once there is something to write) and an empty result line, with CSS classes."""
    button = widgets.Button(description=description, icon="download", disabled=True, tooltip=tooltip)
    button.add_class(button_class)
    result = widgets.HTML("")
    result.add_class(result_class)
    return button, result
