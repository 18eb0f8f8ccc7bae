"""The written docs hold together: every relative link names a file that exists, and no page ships a
template placeholder (a bare ALL_CAPS line such as ``STUDY_RESULTS``) where its numbers should be."""
import json
import re
from pathlib import Path

import pytest

from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "benchmarks" / "results").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]{4,}")


def relative_links(text: str):
    for match in LINK.finditer(text):
        link = match.group(1)
        if not re.match(r"[a-z]+:", link) and not link.startswith("#"):
            yield link.split("#")[0]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_a_page_names_a_file_that_exists(page):
    missing = [link for link in relative_links(page.read_text()) if not (page.parent / link).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_ships_a_template_placeholder(page):
    lines = [line.strip() for line in page.read_text().splitlines()]
    assert not [line for line in lines if PLACEHOLDER.fullmatch(line)]


def test_the_checks_catch_a_broken_link_and_a_placeholder(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [the figure](figures/missing.png) and [docs](https://example.org).\n\nSTUDY_RESULTS\n")
    assert list(relative_links(page.read_text())) == ["figures/missing.png"]
    assert any(PLACEHOLDER.fullmatch(line.strip()) for line in page.read_text().splitlines())


def test_the_claims_table_of_the_reproduction_docs_matches_the_committed_studies():
    module = load_benchmark("reproduction_table")
    summaries = module.load_summaries()
    assert summaries, "no committed study summary found"
    assert module.render(summaries) in (ROOT / "docs" / "reproduction.md").read_text(), \
        "docs/reproduction.md is out of date: paste the output of benchmarks/reproduction_table.py into it"


def test_the_leaderboard_tables_of_the_readme_and_the_optimizer_docs_match_the_committed_summary():
    module = load_benchmark("leaderboard_table")
    summary = json.loads(module.SUMMARY.read_text())
    tables = [module.network_table(network, budget, entry)
              for network, budgets in summary["networks"].items() for budget, entry in budgets.items()]
    assert tables
    for page in (ROOT / "README.md", ROOT / "docs" / "optimizers.md"):
        text = page.read_text()
        stale = [table.splitlines()[0] for table in tables if table not in text]
        assert not stale, f"{page.name} does not carry the committed leaderboard table(s) {stale}: paste them from " \
                          "benchmarks/leaderboard_table.py"
    if summary.get("t100"):
        assert module.t100_table(summary["t100"]) in (ROOT / "docs" / "optimizers.md").read_text(), \
            "docs/optimizers.md does not carry the committed T = 100 table: paste it from benchmarks/leaderboard_table.py"
    for page in (ROOT / "README.md", ROOT / "docs" / "optimizers.md"):
        sentence = module.PROGRESS_OPEN + module.progress_sentence(summary) + module.PROGRESS_CLOSE
        assert sentence in page.read_text(), f"{page.name}'s leaderboard status is stale: paste it with " \
                                             "benchmarks/leaderboard_table.py --paste"
    goal = module.GOAL_OPEN + "\n" + module.goal_check(summary) + "\n" + module.GOAL_CLOSE
    assert goal in (ROOT / "docs" / "optimizers.md").read_text(), \
        "docs/optimizers.md's goal check is stale: paste it with benchmarks/leaderboard_table.py --paste"
    assert module.markdown(summary) == (ROOT / "benchmarks" / "results" / "leaderboard.md").read_text()
