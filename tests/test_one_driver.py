"""One ask/tell loop: outside the optimizers themselves, only the Driver steps an optimizer.

Searches, several optima, population search and closed-loop sessions all go through
``mango_widgets.core.driver.Driver`` (budget, repeats, batch cut, timing). A new ``.ask(``/``.tell(``
call elsewhere in the package is a second loop in the making: drive it through a Driver instead,
or, if it is not an optimizer loop, list it here with the reason.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mango_widgets"

#: files outside core/optimizers/ that call .ask( or .tell( and why that is not a second loop
NOT_A_LOOP = {
    "core/driver.py": "the one driver",
    "studies/several_optima.py": "one draw of samples from a learnt PROTES distribution, never told",
    "widgets/warmup.py": "one ask/tell at start-up so that PROTES compiles its kernels before the first Run",
    "studies/closed_loop/file_adapter.py": "the closed-loop session's own ask/tell protocol (its optimizer is stepped by a Driver)",
    "analysis/complexity.py": "BytesIO.tell(): a file position",
}


def ask_tell_calls(path: Path) -> list:
    """(line, receiver.method) of every ``x.ask(...)`` / ``x.tell(...)`` call in ``path`` whose receiver is not a driver."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("ask", "tell"):
            receiver = ast.unparse(node.func.value)
            if not receiver.split(".")[-1].endswith("driver"):  # a Driver's own spend/tell is the one loop
                calls.append((node.lineno, f"{receiver}.{node.func.attr}"))
    return calls


def test_only_the_driver_steps_optimizers():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("core/optimizers/"):  # composite optimizers delegate to their parts
            continue
        calls = ask_tell_calls(path)
        if calls:
            found[relative] = calls
    loops = {name: calls for name, calls in found.items() if name not in NOT_A_LOOP}
    assert not loops, f"optimizers stepped outside the Driver (use core/driver.Driver): {loops}"
    assert "self.optimizer.ask" in {call for _, call in found["core/driver.py"]}, "the scan no longer sees the driver's ask"


def test_closed_loop_sessions_step_their_optimizer_through_the_driver():
    from mango_widgets import Generator, LatentGrid
    from mango_widgets.core.driver import Driver
    from mango_widgets.studies.closed_loop import ClosedLoopSession
    from tests import tiny_models as tm

    grid = LatentGrid(d=8, n=16)
    session = ClosedLoopSession(Generator(tm.ConstantImageGenerator(), grid, image_shape=(1, 2, 2)), "random", budget=12,
                                batch_size=4, repeats=2)
    assert isinstance(session.driver, Driver) and session.optimizer is session.driver.optimizer
    batch = session.ask()
    assert session.driver.queries == 8 and len(batch) == 8  # the batch's showings are counted when it is asked
    session.tell(batch.ids, [1.0] * 8)
    assert session.optimizer.told == 4
    session.close()
