"""How every widget shows an error: the toolkit's own errors in their own words, in one red box."""
from __future__ import annotations

import html

from mango_widgets.errors import MangoError


def error_text(error: BaseException) -> str:
    """The message shown for an error: exactly the API's message for the toolkit's own errors."""
    return str(error) if isinstance(error, MangoError) else f"{type(error).__name__}: {error}"


def error_box(message: str, escape: bool = True) -> str:
    """``message`` (escaped unless ``escape=False``) as the red error box of the widgets."""
    text = html.escape(message) if escape else message
    return f'<div style="color:#b00020;white-space:pre-wrap">⚠ {text}</div>'
