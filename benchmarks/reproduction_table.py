"""The claims table of docs/reproduction.md, rendered from the committed studies' ``summary.json``.

One row per claim of the paper: our number with its interval and the verdict in each committed
study (the 12-epoch ``demo`` study, the 100-epoch ``long`` study where it exists). The docs carry the
output verbatim and ``tests/test_docs.py`` checks that they still match the result files.

Run:  .venv/bin/python benchmarks/reproduction_table.py      (prints the table)
"""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
STUDIES = {"demo study (12 epochs)": RESULTS / "reproduction", "long study (100 epochs)": RESULTS / "reproduction-long"}


def load_summaries() -> dict:
    """label -> summary of every committed study that has one."""
    return {label: json.loads((folder / "summary.json").read_text())
            for label, folder in STUDIES.items() if (folder / "summary.json").is_file()}


def coverage(summary: dict) -> str:
    """'1804 of 4320 cold searches; epochs complete: 1, 3, 6, 12' for a study's summary."""
    done, planned = summary["coverage"]["searches"]["cold"]
    epochs = ", ".join(str(e) for e in summary["coverage"]["epochs_complete"]) or "none"
    state = "complete" if summary["coverage"]["complete"] else "partial"
    return f"{state}: {done} of {planned} cold searches; epochs with every seed and neuron: {epochs}"


def render(summaries: dict) -> str:
    """Markdown: a coverage line per study, then the claims with each study's number and verdict."""
    labels = list(summaries)
    lines = [f"* **{label}**: {coverage(summary)}" for label, summary in summaries.items()]
    lines += ["", "| claim (paper) | figure | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    claims = {}
    for label, summary in summaries.items():
        for claim in summary["claims"]:
            claims.setdefault(claim["id"], {"paper": claim["paper"], "figure": claim["figure"]})[label] = claim
    for entry in claims.values():
        cells = []
        for label in labels:
            claim = entry.get(label)
            cells.append("-" if claim is None else f"**{claim['verdict']}**: {claim['ours']}".replace("|", "/"))
        lines.append(f"| {entry['paper']} | {entry['figure']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(load_summaries()))
