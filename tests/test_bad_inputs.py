"""Every bad input and fault of the reliability review gives a clear error that names the fix,
or documented behaviour, and loses nothing (cases: ``tests/bad_input_cases.py``; counts:
``python benchmarks/bad_inputs.py``)."""
import pytest

from tests.bad_input_cases import CASES, outcome

EXPECTED = {"error": "clear", "report": "clear", "works": "documented", "kept": "kept"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.slow
def test_bad_input_is_clear_and_loses_nothing(case, tmp_path):
    verdict, detail = outcome(case, tmp_path)
    assert verdict == EXPECTED[case.expect], f"{case.id}: {verdict}: {detail}"


def test_case_ids_are_unique():
    assert len({case.id for case in CASES}) == len(CASES)
