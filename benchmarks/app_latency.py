"""Latency of the Voila app in headless Chromium: page load to interactive, click to feedback, first curve point.

Serves the app (``python -m mango_widgets.widgets.app``, MANGO_FAST=1 budgets) on a free port of
127.0.0.1 and drives it with headless Chromium (``/usr/bin/chromium`` through Playwright; the page
may only talk to 127.0.0.1). Each round opens the app in a fresh browser (empty HTTP cache) and
times, inside the page (``performance.now()``, polled every 5 ms):

* ``page_to_controls_s``: navigation start until the explorer's Run button is on the page;
* ``page_to_curve_s``: until the curve figure is drawn (plotly loaded, its widget opened);
* ``layer_change_to_feedback_s``: a layer picked until the kernel's answer (the unit range beside
  the unit box) is on the page;
* ``run_click_to_feedback_s``: Run clicked until the status line says the run is starting;
* ``run_click_to_first_point_s``: Run clicked until the curve shows its first query, with the
  background warm-up finished ("warm": optimizer libraries imported and compiled).

Two servers, one after the other, each measured the same way: ``preheated`` (``--preheat 1``, the
default: a kernel has already built the app when the page asks for it; each round waits until
the pool has refilled) and ``cold`` (``--preheat 0``: the kernel starts with the page). Also
recorded: launch to the first preheated kernel ready. Medians over the rounds and the cold /
preheated ratios come from the same run. Results: ``benchmarks/results/app_latency.json``.

Run: ``.venv/bin/python benchmarks/app_latency.py [--rounds 3] [--cold-rounds 2]``
(needs scripts/install_browser.sh; run it with the machine otherwise as quiet as you can).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/app_browser.py: the server and browser helpers the browser test uses

from tests.app_browser import CHROMIUM, CURVE_POINTS, PROBE, app_server, page_time, pick_layer, wait_text, watch  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "app_latency.json"
GOALS = {"page_to_controls_s": 5.0, "run_click_to_feedback_s": 0.2, "layer_change_to_feedback_s": 0.2,
         "run_click_to_first_point_s": 1.0}  # issue 18's goals (preheated kernel, warm)
TIMEOUT_S = 600
LAYER = "lif2"


def text_of(selector: str) -> str:
    """JavaScript: the text of the element ``selector``."""
    return f"document.querySelector('{selector}').textContent"


def one_round(browser, url: str) -> dict:
    """Open the app in a fresh browser context and time it (seconds)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    try:
        from tests.app_browser import loopback_only

        context.route("**/*", loopback_only)
        context.add_init_script(PROBE)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=TIMEOUT_S * 1000)
        result = {"page_to_controls_s": page_time(page, "controls", TIMEOUT_S) / 1000,
                  "page_to_curve_s": page_time(page, "curve", TIMEOUT_S) / 1000}
        wait_text(page, ".mango-explorer .mango-warmup", r"ready|failed", TIMEOUT_S)

        labels = page.locator(".mango-explorer .mango-layer select").evaluate("s => Array.from(s.options).map(o => o.textContent)")
        units = int(re.search(r"\((\d+)\s+units", next(label for label in labels if label.split()[0] == LAYER)).group(1))
        # the kernel's answer: the new layer's unit range beside the unit box
        watch(page, "layer shown", f"() => /units 0\\.\\.{units - 1}\\b/.test({text_of('.mango-explorer .mango-unit-help')})")
        pick_layer(page, LAYER)
        shown = page_time(page, "layer shown", TIMEOUT_S)
        result["layer_change_to_feedback_s"] = (shown - page.evaluate("() => window.__mango_times['last change']")) / 1000

        watch(page, "run answered", f"() => /starting|running|finished/.test({text_of('.mango-explorer .mango-status')})")
        watch(page, "first point", f"() => {{ const p = ({CURVE_POINTS})(); return !!p && p.some(t => t[1] > 0); }}")
        page.locator("button.mango-run").click()
        answered, first = page_time(page, "run answered", TIMEOUT_S), page_time(page, "first point", TIMEOUT_S)
        clicked = page.evaluate("() => window.__mango_times['last click']")
        result["run_click_to_feedback_s"] = (answered - clicked) / 1000
        result["run_click_to_first_point_s"] = (first - clicked) / 1000
        wait_text(page, ".mango-explorer .mango-progress", r"done|stopped|failed", TIMEOUT_S)  # the kernel is idle again
        page.close(run_before_unload=True)  # Voila shuts the page's kernel down
        return {key: round(value, 3) for key, value in result.items()}
    finally:
        context.close()


def measure(preheat: int, rounds: int, browser) -> dict:
    """Rounds against one server started with ``--preheat preheat``."""
    with tempfile.TemporaryDirectory(prefix="mango-app-latency-") as folder, app_server(Path(folder), preheat=preheat) as server:
        server.wait_http(timeout=TIMEOUT_S)
        runs, launch = [], None
        for number in range(rounds):
            if preheat:
                server.wait_preheated(number + 1, timeout=TIMEOUT_S)  # the pool has a kernel with the app built
                if launch is None:
                    launch = time.perf_counter() - server.started
            runs.append(one_round(browser, server.url))
            print(f"  preheat={preheat} round {number + 1}: {runs[-1]}", flush=True)
    keys = runs[0].keys()
    return {"preheat": preheat, "launch_to_preheated_kernel_s": None if launch is None else round(launch, 2),
            "rounds": runs, "median": {key: round(statistics.median(run[key] for run in runs), 3) for key in keys}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3, help="page loads against the preheated server (default 3)")
    parser.add_argument("--cold-rounds", type=int, default=2, help="page loads against a server without preheating (default 2; 0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.cold_rounds < 0:
        parser.error("--rounds must be >= 1 and --cold-rounds >= 0")
    if not CHROMIUM.exists():
        parser.error(f"no {CHROMIUM}: run scripts/install_browser.sh (as root) first")
    from playwright.sync_api import sync_playwright

    from tests.app_browser import CHROMIUM_ARGS

    load_before = os.getloadavg()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            preheated = measure(1, args.rounds, browser)
            cold = measure(0, args.cold_rounds, browser) if args.cold_rounds else None
        finally:
            browser.close()
    result = {
        "what": "Voila app latency in headless Chromium: page load to interactive, click to feedback, first curve point (warm)",
        "command": "python benchmarks/app_latency.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "budgets": "MANGO_FAST=1 (explorer 200 queries, default method)",
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "preheated": preheated, "cold": cold,
        "cold_over_preheated": None if cold is None else {
            key: round(cold["median"][key] / preheated["median"][key], 2) for key in preheated["median"] if preheated["median"][key] > 0},
        "goals": {key: {"goal_s": goal, "median_s": preheated["median"][key], "met": preheated["median"][key] <= goal}
                  for key, goal in GOALS.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"preheated": preheated["median"], "cold": cold and cold["median"], "goals": result["goals"]}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
