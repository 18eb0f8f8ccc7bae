"""Count how the toolkit meets every bad input and fault of the reliability review.

Runs each case of ``tests/bad_input_cases.py`` (the ones ``tests/test_bad_inputs.py`` walks) in a
fresh temporary folder and sorts it: **clear** (an error, or a report the user reads, that names
the fix), **documented** (works as documented), **kept** (a fault after which nothing computed is
lost), **silent** (no error: a wrong or missing result nobody is told about), **lost** (a fault
that destroyed computed results) or **unclear** (a traceback, a wrong exit status, or a message
without the fix). Prints one line per case and the counts; writes ``benchmarks/results/bad_inputs.json``.

Run: ``MANGO_THREADS=1 .venv/bin/python benchmarks/bad_inputs.py [--only ID ...]``
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.bad_input_cases import CASES, outcome  # noqa: E402

VERDICTS = ("clear", "documented", "kept", "silent", "lost", "unclear")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="case ids to run (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bad_inputs.json"))
    args = parser.parse_args(argv)
    rows = []
    for case in CASES:
        if args.only and case.id not in args.only:
            continue
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mango-bad-input-") as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verdict, detail = outcome(case, Path(folder))
        rows.append({"case": case.id, "expect": case.expect, "verdict": verdict, "detail": detail,
                     "seconds": round(time.perf_counter() - started, 2)})
        print(f"{verdict:<10} {case.id:<40} {detail[:110]}", flush=True)
    counts = Counter(row["verdict"] for row in rows)
    summary = {"tried": len(rows), **{verdict: counts.get(verdict, 0) for verdict in VERDICTS}}
    print("\n" + ", ".join(f"{name} {value}" for name, value in summary.items()))
    if args.only is None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"command": "MANGO_THREADS=1 python benchmarks/bad_inputs.py",
                                              "summary": summary, "cases": rows}, indent=1) + "\n")
    return 0 if summary["silent"] == summary["lost"] == summary["unclear"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
