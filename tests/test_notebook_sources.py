"""Every notebook has one source: its jupytext py:percent twin, and the committed .ipynb matches it."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_notebook_matches_its_py_percent_source():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_notebooks.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, f"run `python tools/sync_notebooks.py` after editing a notebook source:\n{result.stdout}{result.stderr}"


def test_notebooks_are_committed_without_outputs_and_names_are_unique():
    notebooks = sorted(ROOT.glob("tutorials/*.ipynb")) + sorted(ROOT.glob("notebooks/*.ipynb"))
    assert len(notebooks) >= 8
    names = [path.stem for path in notebooks]
    assert len(set(names)) == len(names), f"two notebooks share a name: {names}"
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} was committed with outputs"
