"""The package's floors: each subpackage imports only the floors below it (lazy imports included)."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mango_widgets"
#: each floor and the floors it may import (errors.py is the foundation every floor may use)
ALLOWED = {
    "runtime": set(),
    "core": {"runtime"},
    "analysis": set(),
    "records": {"runtime", "core"},
    "models": {"runtime", "core", "records"},
    "engine": {"runtime", "core", "analysis", "records", "models"},
    "studies": {"runtime", "core", "analysis", "records", "models", "engine"},
    "widgets": {"runtime", "core", "analysis", "records", "models", "engine", "studies"},
    "cli": {"runtime", "core", "analysis", "records", "models", "engine", "studies", "widgets"},
}


def floor_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_floors(path: Path):
    """(floor, line) of every mango_widgets import in a module, at any depth (function-level imports too)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: use absolute imports (from mango_widgets.x import y)"
            if node.module == "mango_widgets":
                names = [f"mango_widgets.{alias.name}" for alias in node.names]
            elif node.module and node.module.startswith("mango_widgets."):
                names = [node.module]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("mango_widgets.")]
        else:
            continue
        for name in names:
            yield floor_of(name), node.lineno


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def test_every_module_lives_in_a_known_floor():
    floors = {p.relative_to(PACKAGE).parts[0] for p in modules()}
    assert floors <= set(ALLOWED), f"unknown floors {floors - set(ALLOWED)}: add them to ALLOWED with their rules"
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "errors.py"], f"modules outside the floors: {top}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path):
    own = path.relative_to(PACKAGE).parts[0]
    allowed = ALLOWED[own] | {own, "errors", "__init__"}
    upward = [f"line {line}: imports {floor}" for floor, line in imported_floors(path) if floor not in allowed]
    assert not upward, f"{path.relative_to(PACKAGE)} ({own}) may import only {sorted(allowed)}: " + "; ".join(upward)


def test_the_rule_catches_an_upward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from mango_widgets.widgets.explorer import MEIExplorer\n")
    assert [floor for floor, _ in imported_floors(module)] == ["widgets"]
