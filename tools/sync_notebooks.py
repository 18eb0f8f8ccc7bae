"""Write every notebook (without outputs) from its single source, the jupytext py:percent twin.

Each ``tutorials/NAME.py`` / ``notebooks/NAME.py`` is the source of ``NAME.ipynb`` beside it; nbval runs the
``.ipynb``. Edit the ``.py`` (or edit the notebook in Jupyter with jupytext installed: the pair stays in sync),
then run this script. ``--check`` only reports notebooks that differ from their source (exit 1), for the tests.

Run: .venv/bin/python tools/sync_notebooks.py [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tutorials", "notebooks")


def sources(root: Path = ROOT) -> List[Path]:
    """Every notebook source (py:percent file) in the notebook folders."""
    return sorted(path for folder in FOLDERS for path in (root / folder).glob("*.py"))


def cells_of(notebook) -> list:
    """What a notebook says: cell types and sources (ids, outputs and metadata aside)."""
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def build(source: Path):
    """The notebook a source describes, with no outputs and the python3 kernel."""
    notebook = jupytext.read(source, fmt="py:percent")
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}
    for cell in notebook.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def out_of_sync(root: Path = ROOT) -> List[str]:
    """Notebooks that are missing, differ from their source, or have no source."""
    problems = []
    for source in sources(root):
        target = source.with_suffix(".ipynb")
        if not target.exists():
            problems.append(f"{target.relative_to(root)} is missing")
        elif cells_of(nbformat.read(target, as_version=4)) != cells_of(build(source)):
            problems.append(f"{target.relative_to(root)} differs from {source.name}")
    for folder in FOLDERS:
        for target in (root / folder).glob("*.ipynb"):
            if not target.with_suffix(".py").exists():
                problems.append(f"{target.relative_to(root)} has no py:percent source")
    return problems


def write_all(root: Path = ROOT) -> List[Path]:
    """(Re)write every notebook whose cells differ from its source; returns those written."""
    written = []
    for source in sources(root):
        target = source.with_suffix(".ipynb")
        notebook = build(source)
        if target.exists() and cells_of(nbformat.read(target, as_version=4)) == cells_of(notebook):
            continue
        nbformat.validate(notebook)
        nbformat.write(notebook, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks out of sync with their source")
    args = parser.parse_args(argv)
    if args.check:
        problems = out_of_sync()
        print("\n".join(problems) or "every notebook matches its source")
        return 1 if problems else 0
    for path in write_all():
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
