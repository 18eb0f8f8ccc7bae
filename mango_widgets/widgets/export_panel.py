"""Export controls: a folder (absolute, by default where the app or notebook was started), the
Export button, and a download button with every file zipped (for apps used from another machine).
"""
from __future__ import annotations

import base64
import html
import io
import os
import zipfile
from pathlib import Path
from typing import Dict, Optional, Union

import ipywidgets as widgets

from mango_widgets.widgets.download_controls import download_controls

#: environment variable the app sets to the folder `mango app` was started from (the kernel runs elsewhere)
START_DIR_ENV = "MANGO_APP_DIR"
#: sub-folder of the start folder that exports go to by default
DEFAULT_SUBFOLDER = "mango_results"


def start_folder() -> Path:
    """The folder the app (``$MANGO_APP_DIR``) or this notebook's kernel was started from, absolute."""
    return Path(os.environ.get(START_DIR_ENV) or os.getcwd()).expanduser().resolve()


def default_export_folder() -> Path:
    return start_folder() / DEFAULT_SUBFOLDER


def resolve_folder(text: Union[str, Path]) -> Path:
    """A folder typed in the box: relative paths are taken from the start folder, never from the kernel's."""
    path = Path(str(text).strip()).expanduser()
    return (path if path.is_absolute() else start_folder() / path).resolve()


def zip_bytes(folders: Dict[str, Path], root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in folders.values():
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
        for path in sorted(root.glob("curves.*")):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def export_summary_html(written: Dict[str, Path], root: Optional[Path] = None) -> str:
    """Where an export went (absolute paths) and a download button with every file zipped."""
    root = Path(root) if root is not None else Path(next(iter(written.values()))).parent
    link = base64.b64encode(zip_bytes(written, root)).decode("ascii")
    listing = "".join(f"<li><code>{html.escape(str(Path(path).resolve()))}</code></li>" for path in written.values())
    return (
        f"<div class='mango-export-result'>exported {len(written)} search{'es' if len(written) != 1 else ''} to "
        f"<code>{html.escape(str(root.resolve()))}</code>:<ul style='margin:2px 0'>{listing}</ul>"
        f'<a class="mango-link-button mango-download-zip" download="{html.escape(root.name)}.zip" '
        f'href="data:application/zip;base64,{link}">⬇ download all as {html.escape(root.name)}.zip</a></div>'
    )


class ExportPanel(widgets.VBox):
    """Folder box, Export button, and where the last export went."""

    def __init__(self, folder: Union[str, Path, None] = None, **kwargs):
        shown = resolve_folder(folder) if folder is not None else default_export_folder()
        self.folder = widgets.Text(value=str(shown), description="export to", layout=widgets.Layout(width="min(640px, 100%)"))
        self.folder.add_class("mango-export-folder")
        self.button, self.result = download_controls(
            "Export", "write search.json, history.npz, mei.npz, mei.png, a GIF and the curves", "mango-export", "mango-export-html")
        hint = widgets.HTML("<span class='mango-note-small'>relative folders are taken from the folder the app was "
                            f"started in ({html.escape(str(start_folder()))})</span>")
        super().__init__([widgets.HBox([self.folder, self.button], layout=widgets.Layout(flex_flow="row wrap")), hint,
                          self.result], **kwargs)

    @property
    def path(self) -> Path:
        return resolve_folder(self.folder.value)
