"""The leaderboard's statistics on hand-made records: paired differences, Holm, and the T = 100 gap."""
import numpy as np
import pytest

from tests.benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def stats():
    return load_benchmark("leaderboard_stats")


@pytest.fixture(scope="module")
def summarize():
    return load_benchmark("summarize_leaderboard")


def test_paired_difference_is_per_neuron_with_wins_losses_and_ties(stats):
    neurons = [f"lif1:{i}" for i in range(8)]
    base = {(t, s): 0.5 + 0.01 * i for i, t in enumerate(neurons) for s in range(3)}
    better = {k: v + 0.1 for k, v in base.items()}
    better[(neurons[0], 0)] = base[(neurons[0], 0)]  # one tie
    level = dict(base)
    result = stats.paired_vs_default({"default": base, "better": better, "level": level}, "default")
    assert result["better"]["mean_diff"] == pytest.approx(0.1 - 0.1 / 3 / 8)
    assert result["better"]["ci95"][0] > 0
    assert (result["better"]["wins"], result["better"]["losses"], result["better"]["ties"]) == (23, 0, 1)
    assert result["level"]["mean_diff"] == 0 and result["level"]["ties"] == 24
    # Holm: the smaller p-value is tested at alpha / 2, the other at alpha
    assert result["better"]["ci_level_holm"] == pytest.approx(0.975)
    assert result["level"]["ci_level_holm"] == pytest.approx(0.95)


def test_t100_gap_change_reads_the_tt_methods_gap_at_both_exposures(summarize):
    plan = summarize.load_plan()
    spec = plan["t100"]
    network = spec["network"]
    ceilings = summarize.ceilings_for(network, "heldout", [])
    neurons = list(ceilings)[:4]
    tt = next(m for m in spec["methods"] if m.startswith("tt"))
    peer = next(m for m in spec["methods"] if m != tt)
    main_T = plan["networks"][network]["T"]
    rng = np.random.default_rng(0)
    records = []
    for target in neurons:
        for seed in range(2):
            peer_fraction = 0.9 + 0.05 * rng.random()
            for T, gap in ((main_T, -0.20), (spec["T"], -0.05)):
                for label, fraction in ((peer, peer_fraction), (tt, peer_fraction + gap)):
                    records.append({"network": network, "T": T, "budget": spec["budget"], "label": label,
                                    "target": target, "seed": seed, "best": fraction * ceilings[target]})
    result = summarize.t100_comparison(records)
    gap = result["gaps"][peer]
    assert gap["neurons"] == 4 and gap["pairs"] == 8
    assert gap["gap_main_T"]["mean"] == pytest.approx(-0.20)
    assert gap["gap_T"]["mean"] == pytest.approx(-0.05)
    assert gap["change"]["mean"] == pytest.approx(0.15)
    assert result["medians"][tt]["pairs"] == 8
    # a peer never run at T = 100 has no gap (nothing is invented for it)
    assert all(m in (tt, peer) for m in result["gaps"]) and tt not in result["gaps"]


def _entry(median: float) -> dict:
    row = {"median_fraction_of_ceiling": median, "reached_90_percent": 0.5, "from_curve": False, "auc_log_budget": 0.7,
           "optimizer_share_median": 0.02, "repeat_rate_median": 0.0, "runs": 10}
    versus = {"mean_diff": -0.01, "ci95": [-0.02, 0.0], "wins": 1, "losses": 2, "ties": 3}
    return {"default": "a", "neurons": 2, "seeds": 5, "methods": {"a": row, "b": {**row, "median_fraction_of_ceiling": median - 0.1,
                                                                                   "vs_default": versus}},
            "best_peer": "b", "default_queries_to_best_peer_median": 123.0}


def test_paste_replaces_a_stale_table_and_inserts_a_new_budget_after_its_network():
    module = load_benchmark("leaderboard_table")
    stale = {"networks": {"net": {"2000": _entry(0.5)}}}
    fresh = {"networks": {"net": {"2000": _entry(0.9), "10000": _entry(0.95)}}}
    page = "# Results\n\n" + module.network_table("net", "2000", stale["networks"]["net"]["2000"]) + "\n\nProse after the table.\n"
    pasted = module.paste(page, fresh)
    expected = [module.network_table("net", b, e) for b, e in fresh["networks"]["net"].items()]
    assert pasted == "# Results\n\n" + expected[0] + "\n\n" + expected[1] + "\n\nProse after the table.\n"
    assert module.paste(pasted, fresh) == pasted  # idempotent: spans end where the tables end


def test_plan_progress_counts_runs_per_budget_and_the_seeds_whose_every_run_is_done(summarize):
    jobs = [{"network": "net", "target": f"l:{u}", "T": 20, "label": m, "settings": {}, "seed": s, "budget": b}
            for b in (2000, 10000) for s in range(3) for m in ("a", "b") for u in range(2)]
    done = {summarize.key(j) for j in jobs if j["budget"] == 2000 or (j["seed"] == 0 or (j["seed"] == 1 and j["label"] == "a"))}
    progress = summarize.plan_progress(jobs, done)
    assert progress["2000"] == {"planned": 12, "done": 12, "complete_seeds": [0, 1, 2], "seeds": 3}
    assert progress["10000"] == {"planned": 12, "done": 6, "complete_seeds": [0], "seeds": 3}


def test_paste_brings_the_progress_sentence_between_its_markers_up_to_date():
    module = load_benchmark("leaderboard_table")
    summary = {"networks": {}, "runs_planned": 24, "planned_runs_done": 18,
               "progress": {"2000": {"planned": 12, "done": 12, "complete_seeds": [0, 1, 2], "seeds": 3},
                            "10000": {"planned": 12, "done": 6, "complete_seeds": [0], "seeds": 3}}}
    page = f"**Status:** {module.PROGRESS_OPEN}5 of 24 runs{module.PROGRESS_CLOSE}. More prose.\n"
    pasted = module.paste(page, summary)
    assert pasted == (f"**Status:** {module.PROGRESS_OPEN}18 of the 24 planned held-out runs are done: 2,000 queries "
                      f"12 of 12 (complete); 10,000 queries 6 of 12 (seeds complete: 1 of 3){module.PROGRESS_CLOSE}. More prose.\n")
    assert module.paste(pasted, summary) == pasted
    assert module.paste("no markers here\n", summary) == "no markers here\n"


def test_the_goal_check_sorts_peers_by_their_interval_and_says_whether_the_default_beats_them_all():
    module = load_benchmark("leaderboard_table")
    row = {"median_fraction_of_ceiling": 0.9, "reached_90_percent": 0.75, "optimizer_share_median": 0.03}
    peer = lambda low, high: {**row, "vs_default": {"mean_diff": (low + high) / 2, "ci95": [low, high]}}  # noqa: E731
    entry = {"default": "a", "neurons": 3, "seeds": 2, "best_peer": "b", "default_queries_to_best_peer_median": 500.0,
             "methods": {"a": row, "b": peer(-0.3, -0.1), "c": peer(-0.1, 0.2), "d": peer(0.1, 0.2)}}
    line = module.goal_check({"networks": {"net": {"2000": entry}}})
    assert "does **not** beat every peer" in line and "75% of its runs reach 90%" in line
    assert "Ahead of b (-0.200 [-0.300, -0.100]); level with c (+0.050 [-0.100, +0.200]); behind d" in line
    assert "after 500 queries (within a third of the budget)" in line
    alone = {**entry, "methods": {"a": row, "b": peer(-0.3, -0.1)}, "default_queries_to_best_peer_median": float("inf")}
    line = module.goal_check({"networks": {"net": {"10000": alone}}})
    assert "**beats every peer**" in line and "never within the budget" in line


def test_half_the_runs_reaching_a_level_makes_the_median_never_and_the_share_says_half(stats):
    # four runs on one neuron: two reach 0.9 of the ceiling (at queries 100 and 400), two never do
    def run(best):
        return {"target": "lif1:0", "budget": 1000, "curve_queries": [1, 100, 400, 1000], "curve_best": best}
    runs = [run([0.1, 0.9, 0.9, 0.9]), run([0.1, 0.2, 0.9, 0.9]), run([0.1, 0.2, 0.3, 0.8]), run([0.1, 0.1, 0.1, 0.1])]
    ceilings = {"lif1:0": 1.0}
    assert stats.queries_to_reach(runs, ceilings, 0.9, 1000) == np.inf  # the upper middle run never gets there
    assert stats.queries_to_reach(runs[:3], ceilings, 0.9, 1000) == 400
    assert stats.share_reaching(runs, ceilings, 0.9, 333, 1000) == 0.25
    assert stats.share_reaching(runs, ceilings, 0.9, 1000, 1000) == 0.5


def test_the_goal_check_and_table_quote_the_share_of_runs_that_reach_the_best_peers_median():
    module = load_benchmark("leaderboard_table")
    entry = {**_entry(0.9), "default_queries_to_best_peer_median": None,
             "default_share_reaching_best_peer_median": {"within_a_third": 0.25, "within_the_budget": 0.5}}
    summary = {"networks": {"net": {"10000": entry}}}
    assert "never within the budget (median run); 25% of its runs do within a third of the budget, 50% within" \
        in module.goal_check(summary)
    assert "its median run never reaches that median within the budget; 25% of its runs" in module.network_table("net", "10000", entry)
