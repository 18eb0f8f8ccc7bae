"""An output folder checked before any work is done, and owned by the run that writes it.

A long run must not learn only at the end that its folder is a file or read-only, and a new
run must not leave its results beside an older run's files (a ``state: failed`` record next
to the previous run's ``mei.png`` reads as a result it is not). :func:`prepare_folder` creates
the folder, proves it writable by writing and removing a file, and refuses one that holds
files a run writes unless told to replace them.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, List, Union

from mango_widgets.errors import ConfigError

#: the files a search run writes into its folder (see :mod:`mango_widgets.records.results`)
SEARCH_FILES = ("search.json", "history.npz", "mei.npz", "mei.png", "curve.png", "mei_progress.gif")


def check_writable_folder(folder: Union[str, Path], what: str = "output folder") -> Path:
    """Create ``folder`` if needed and prove it writable; a ConfigError naming the fix otherwise."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"the {what} {folder} is a file; give a folder path (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot create the {what} {folder}: {error.strerror or error}; choose a folder you can write to"
        ) from None
    try:
        handle, probe = tempfile.mkstemp(prefix=".mango-write-test.", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ConfigError(
            f"the {what} {folder} is not writable ({error.strerror or error}); choose a folder you can write to"
        ) from None
    return folder


def check_folder_could_be_written(folder: Union[str, Path], what: str = "output folder") -> Path:
    """Like :func:`check_writable_folder`, but creating nothing (for dry runs and early checks):
    ``folder``, or the nearest folder above it that exists, must be a folder this process may write."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"the {what} {folder} is a file; give a folder path (it is created if missing)")
    existing = next(p for p in [folder, *folder.absolute().parents] if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"the {what} {folder} cannot be created: {existing} is a file; choose another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"the {what} {folder} is not writable ({existing} is read-only); choose a folder you can write to")
    return folder


def check_folder_for_a_run(folder: Union[str, Path], overwrite: bool = False, owned: Iterable[str] = SEARCH_FILES,
                           option: str = "--overwrite") -> None:
    """What :func:`prepare_folder` will refuse, found without creating or deleting anything (so a
    command can fail in its first second, before it loads models)."""
    folder = check_folder_could_be_written(folder)
    _previous_run_files(folder, owned, overwrite, option)


def prepare_folder(folder: Union[str, Path], overwrite: bool = False, owned: Iterable[str] = SEARCH_FILES,
                   option: str = "--overwrite") -> List[str]:
    """Make ``folder`` ready for a new run's files ``owned``; returns the names of an earlier run's files it removed.

    Refuses (ConfigError) a file, a folder it cannot write, and a folder holding any of ``owned``
    unless ``overwrite`` (then exactly those files are deleted, nothing else).
    """
    folder = check_writable_folder(folder)
    previous = _previous_run_files(folder, owned, overwrite, option)
    for name in previous:
        (folder / name).unlink()
    return previous


__all__ = ["SEARCH_FILES", "check_folder_could_be_written", "check_folder_for_a_run", "check_writable_folder", "prepare_folder"]


def _previous_run_files(folder: Path, owned, overwrite: bool, option: str) -> list:
    """The files of ``owned`` an earlier run left in ``folder``; refused unless ``overwrite``."""
    previous = [name for name in owned if (folder / name).exists()]
    if previous and not overwrite:
        raise ConfigError(
            f"{folder} holds a previous run's results ({', '.join(previous)}); pass {option} to replace them, "
            "or choose another folder"
        )
    return previous
