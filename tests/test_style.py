"""The lint configuration in pyproject.toml is one the code passes: ruff over everything we write."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["mango_widgets", "tests", "conftest.py", "benchmarks", "tools", "tutorials", "notebooks"]


def ruff_command() -> list:
    """ruff from this environment (declared in the test extra), else from PATH."""
    beside_python = Path(sys.executable).with_name("ruff")
    found = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    assert found, "ruff is not installed: it is part of the test extra (pip install -e '.[test]')"
    return [found]


def test_ruff_passes():
    result = subprocess.run([*ruff_command(), "check", "--no-cache", *CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff found problems (fix them, or `ruff check --fix`):\n{result.stdout}{result.stderr}"
