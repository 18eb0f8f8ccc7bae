"""The leaderboard's tables in Markdown, rendered from ``results/leaderboard.json`` alone.

``summarize_leaderboard.py`` writes them to ``results/leaderboard.md``; the README and
docs/optimizers.md carry the per-network tables verbatim, and ``tests/test_docs.py`` checks that
they still match the committed summary.

Run:  .venv/bin/python benchmarks/leaderboard_table.py      (prints the tables of the committed summary)
      .venv/bin/python benchmarks/leaderboard_table.py --paste README.md docs/optimizers.md
      (replaces each table a page carries by the committed one; a budget the page lacks goes after
      that network's previous table, so a new budget's table appears without hand editing)
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

SUMMARY = Path(__file__).parent / "results" / "leaderboard.json"


def network_table(network: str, budget: str, entry: dict) -> str:
    """One network and budget: every method against the default, best median first."""
    source = "paired against" if entry.get("default_given") else "default (auto)"
    lines = [f"**{network}, {budget} queries** — {source}: `{entry['default']}`; "
             f"{entry['neurons']} neurons x {entry['seeds']} seeds", "",
             "| method | median fraction of ceiling | reached 90% | vs default: mean diff [95% CI, Holm] | W/L/T "
             "| AUC log-budget | optimizer share | repeat rate | runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows = sorted(entry["methods"].items(), key=lambda kv: -kv[1]["median_fraction_of_ceiling"])
    for method, row in rows:
        vs = row.get("vs_default")
        versus = f"{vs['mean_diff']:+.3f} [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]" if vs else "—"
        wlt = f"{vs['wins']}/{vs['losses']}/{vs['ties']}" if vs else "—"
        name = f"{method}{' (from 10k curve)' if row['from_curve'] else ''}"
        lines.append(f"| {name} | {row['median_fraction_of_ceiling']:.3f} | {100 * row['reached_90_percent']:.0f}% | "
                     f"{versus} | {wlt} | {row['auc_log_budget']:.3f} | {100 * row['optimizer_share_median']:.1f}% | "
                     f"{row['repeat_rate_median']:.3f} | {row['runs']} |")
    if "best_peer" in entry:
        q = entry["default_queries_to_best_peer_median"]
        reached = ("its median run never reaches that median within the budget" if q is None or not math.isfinite(q)
                   else f"the default reaches that median in {q:.0f} queries (median over runs)")
        lines.append(f"\nBest peer: `{entry['best_peer']}`; {reached}{_shares(entry)}.")
    return "\n".join(lines)


def markdown(summary: dict) -> str:
    """The whole summary: how much of the plan is done, then one table per network and budget."""
    lines = [f"Runs done: {summary['runs_done']}" + (f" ({summary['planned_runs_done']} of {summary['runs_planned']} planned)"
                                                       if summary["runs_planned"] else "")]
    if summary.get("progress"):
        lines.append("\n" + progress_sentence(summary) + ".")
    for network, budgets in summary["networks"].items():
        for budget, entry in budgets.items():
            lines.append("\n" + network_table(network, budget, entry))
    if summary.get("t100"):
        lines.append("\n" + t100_table(summary["t100"]))
    return "\n".join(lines) + "\n"


def t100_table(t100: dict) -> str:
    """The T = 100 condition: each method's median at both T, and the TT method's gap to each peer."""
    T, main_T, tt = t100["T"], t100["main_T"], t100["tt_method"]
    lines = [f"**{t100['network']}, T = {T} vs T = {main_T}, {t100['budget']} queries** ({t100['runs_at_T']} runs at T = {T}; "
             f"fractions of the frozen T = {main_T} ceiling)", "",
             f"| method | median at T = {main_T} | median at T = {T} | pairs |", "|---|---|---|---|"]
    for method, row in t100["medians"].items():
        lines.append(f"| {method} | {row['main_T']:.3f} | {row['T']:.3f} | {row['pairs']} |")
    if t100["gaps"]:
        lines += ["", f"| {tt} minus | gap at T = {main_T} [95% CI] | gap at T = {T} [95% CI] | change [95% CI] | neurons |",
                  "|---|---|---|---|---|"]
        for peer, row in t100["gaps"].items():
            cells = [f"{row[k]['mean']:+.3f} [{row[k]['ci95'][0]:+.3f}, {row[k]['ci95'][1]:+.3f}]" for k in ("gap_main_T", "gap_T", "change")]
            lines.append(f"| {peer} | " + " | ".join(cells) + f" | {row['neurons']} |")
    return "\n".join(lines)


PROGRESS_OPEN, PROGRESS_CLOSE = "<!-- leaderboard-progress -->", "<!-- /leaderboard-progress -->"


def progress_sentence(summary: dict) -> str:
    """How much of the held-out plan is done, budget by budget, in one sentence (pasted between the
    ``<!-- leaderboard-progress -->`` markers of a page, so status lines never go stale)."""
    parts = []
    for budget, row in summary.get("progress", {}).items():
        state = "complete" if row["done"] == row["planned"] else \
            f"seeds complete: {len(row['complete_seeds'])} of {row['seeds']}"
        parts.append(f"{int(budget):,} queries {row['done']:,} of {row['planned']:,} ({state})")
    return (f"{summary['planned_runs_done']:,} of the {summary['runs_planned']:,} planned held-out runs are done"
            + (": " + "; ".join(parts) if parts else ""))


def paste_generated(text: str, summary: dict) -> str:
    """``text`` with the sentence between the progress markers (and the bullets between the goal
    markers) replaced by the summary's."""
    text = _paste_between(text, PROGRESS_OPEN, PROGRESS_CLOSE, lambda: progress_sentence(summary))
    return _paste_between(text, GOAL_OPEN, GOAL_CLOSE, lambda: "\n" + goal_check(summary) + "\n")


GOAL_OPEN, GOAL_CLOSE = "<!-- leaderboard-goal -->", "<!-- /leaderboard-goal -->"


def _diff(row: dict) -> str:
    vs = row["vs_default"]
    return f"{vs['mean_diff']:+.3f} [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]"


def _shares(entry: dict) -> str:
    """"; x% of its runs do within a third of the budget, y% within the budget" (empty for older summaries)."""
    shares = entry.get("default_share_reaching_best_peer_median")
    if not shares:
        return ""
    return (f"; {100 * shares['within_a_third']:.0f}% of its runs do within a third of the budget, "
            f"{100 * shares['within_the_budget']:.0f}% within the budget")


def goal_check(summary: dict) -> str:
    """Issue 15's goal, network by network and budget by budget, read off the summary: which peers
    the default is ahead of (Holm interval of peer - default below 0), level with, behind; how
    many of its runs reach 90% of the ceiling; its optimizer share; and whether its median run
    reaches the best peer's median within a third of the budget."""
    lines = []
    for network, budgets in summary["networks"].items():
        for budget, entry in budgets.items():
            default, methods = entry["default"], entry["methods"]
            if default not in methods:
                continue
            own = methods[default]
            peers = {m: r for m, r in methods.items() if m != default and "vs_default" in r}
            ahead = [m for m, r in peers.items() if r["vs_default"]["ci95"][1] < 0]
            level = [m for m, r in peers.items() if r["vs_default"]["ci95"][0] <= 0 <= r["vs_default"]["ci95"][1]]
            behind = [m for m, r in peers.items() if r["vs_default"]["ci95"][0] > 0]
            q = entry.get("default_queries_to_best_peer_median")
            third = int(budget) / 3
            reach = ("never within the budget (median run)" if q is None or not math.isfinite(q)
                     else f"after {q:,.0f} queries ({'within' if q <= third else 'more than'} a third of the budget)")
            reach += _shares(entry)
            verdict = "**beats every peer**" if peers and not level and not behind else "does **not** beat every peer"
            lines.append(
                f"- **{network}, {int(budget):,} queries** (`{default}`, {entry['neurons']} neurons x {entry['seeds']} seeds): {verdict}. "
                f"Median {own['median_fraction_of_ceiling']:.3f} of the ceiling; {100 * own['reached_90_percent']:.0f}% of its runs "
                f"reach 90% of it; optimizer share {100 * own['optimizer_share_median']:.1f}%. "
                f"Ahead of {', '.join(f'{m} ({_diff(peers[m])})' for m in ahead) or 'none'}; "
                f"level with {', '.join(f'{m} ({_diff(peers[m])})' for m in level) or 'none'}; "
                f"behind {', '.join(f'{m} ({_diff(peers[m])})' for m in behind) or 'none'}. "
                f"It reaches the best peer's median (`{entry.get('best_peer', '-')}`) {reach}.")
    return "\n".join(lines)


def _paste_between(text: str, opening: str, closing: str, content) -> str:
    """``text`` with what lies between the two markers replaced by ``content()`` (unchanged without them)."""
    start = text.find(opening)
    end = text.find(closing, start)
    if start < 0 or end < 0:
        return text
    return text[:start + len(opening)] + content() + text[end:]


def table_span(text: str, header: str):
    """(start, end) of the table block that opens with ``header``: the header line, then groups of
    ``|`` rows and a "Best peer" line, each after one blank line; None when the page lacks it."""
    start = text.find(header)
    if start < 0 or (start > 0 and text[start - 1] != "\n"):
        return None
    lines = text[start:].split("\n")
    used = 1
    while used + 1 < len(lines) and lines[used] == "" and (lines[used + 1].startswith("|") or lines[used + 1].startswith("Best peer:")):
        used += 2
        while used < len(lines) and lines[used].startswith("|"):
            used += 1
    return start, start + len("\n".join(lines[:used]))


def paste(text: str, summary: dict, t100: bool = False) -> str:
    """``text`` with every per-network table (and, with ``t100``, the T = 100 table) replaced by the
    summary's; a missing budget's table is inserted after the same network's previous table; the
    progress sentence and the goal check between their markers brought up to date."""
    for network, budgets in summary["networks"].items():
        after = None
        for budget, entry in budgets.items():
            table = network_table(network, budget, entry)
            span = table_span(text, table.split("\n", 1)[0].split("** —")[0] + "**")
            if span:
                text = text[:span[0]] + table + text[span[1]:]
                after = span[0] + len(table)
            elif after is not None:
                text = text[:after] + "\n\n" + table + text[after:]
                after += 2 + len(table)
    if t100 and summary.get("t100"):
        table = t100_table(summary["t100"])
        span = table_span(text, table.split("** (", 1)[0] + "**")
        if span:
            text = text[:span[0]] + table + text[span[1]:]
    return paste_generated(text, summary)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paste", nargs="*", metavar="PAGE", help="Markdown pages whose tables to bring up to date")
    args = parser.parse_args(argv)
    summary = json.loads(SUMMARY.read_text())
    if args.paste is None:
        print(markdown(summary))
        return
    for page in map(Path, args.paste):
        before = page.read_text()
        after = paste(before, summary, t100=True)
        page.write_text(after)
        print(f"{page}: {'updated' if after != before else 'already up to date'}")


if __name__ == "__main__":
    main()
