"""Write screenshots of each tab of the Voila app into docs/ (the tests write theirs to temporary folders).

Serves the app (``python -m mango_widgets.widgets.app``) on a free port of 127.0.0.1 from a temporary
folder, opens it in headless Chromium (``/usr/bin/chromium`` through Playwright, loopback only),
and for each tab does what a user would before taking the picture:

* ``docs/app_explorer.png``: neuron ``lif4:12``, the default method and Portfolio racing, finished,
  with the class guesses and the dataset's most exciting images;
* ``docs/app_overview.png``: the layer overview run on its default layer, sorted by activation;
* ``docs/app_epochs.png``: the epoch tab with a unit's MEIs over training (a heatmap cell clicked).

Run: ``.venv/bin/python tools/app_screenshots.py [--full] [--width 1280]`` (``--full``: the app's
default budgets instead of MANGO_FAST=1's small ones; needs scripts/install_browser.sh).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/app_browser.py: the helpers the browser test uses

from tests.app_browser import CHROMIUM, EPOCH_CELL, EPOCH_MAPS, app_server, chromium_page, pick_layer, wait_text  # noqa: E402

DOCS = ROOT / "docs"
TIMEOUT_S = 1800
LAYER, UNIT = "lif4", 12


def explorer(page, out: Path) -> None:
    pick_layer(page, LAYER)
    page.locator(".mango-explorer .mango-unit input").fill(str(UNIT))
    page.locator(".mango-method-portfolio input").check()
    page.locator("button.mango-run").click()
    wait_text(page, ".mango-explorer .mango-progress", r"done|stopped|failed", TIMEOUT_S)
    wait_text(page, ".mango-explorer .mango-dataset-html", r"true label|could not", TIMEOUT_S)
    page.wait_for_function("() => document.querySelectorAll('.mango-guess').length >= 2", timeout=TIMEOUT_S * 1000)
    page.screenshot(path=str(out), full_page=True)


def overview(page, out: Path) -> None:
    page.get_by_role("tab", name="Layer overview").click()
    page.locator("button.mango-overview-run").click()
    wait_text(page, ".mango-overview-status", r"(\d+)/\1 units of \w+ done", TIMEOUT_S)  # every unit searched
    page.locator(".mango-overview-sort button", has_text="activation").click()
    page.wait_for_function(  # the kernel has reordered the cells
        "() => { const v = Array.from(document.querySelectorAll('.mango-overview-cell .mango-caption'))"
        ".map(c => parseFloat((c.textContent.match(/best ([\\d.]+)/) || [0, 'NaN'])[1]));"
        " return v.length > 0 && v.every((x, i) => i === 0 || v[i - 1] >= x); }", timeout=TIMEOUT_S * 1000)
    page.screenshot(path=str(out), full_page=True)


def epochs(page, out: Path) -> None:
    page.get_by_role("tab", name="Epochs").click()
    page.wait_for_function(f"() => {{ const m = ({EPOCH_MAPS})(); return m && m[0][1] > 0; }}", timeout=TIMEOUT_S * 1000)
    cell = page.evaluate(EPOCH_CELL, [1, 6, 3])  # unit map: epoch 7, unit 3 of the last layer
    page.mouse.click(cell["x"], cell["y"])
    wait_text(page, ".mango-epoch-track", rf":{cell['row']} over training", TIMEOUT_S)
    page.screenshot(path=str(out), full_page=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="the app's default budgets (default: MANGO_FAST=1 budgets)")
    parser.add_argument("--width", type=int, default=1280, help="browser window width in pixels (default 1280)")
    parser.add_argument("--height", type=int, default=1500, help="browser window height in pixels (default 1500)")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNG files (default: docs/)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        parser.error(f"no {CHROMIUM}: run scripts/install_browser.sh (as root) first")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mango-app-screenshots-") as folder, \
            app_server(Path(folder), fast=not args.full) as server:
        server.wait_http(timeout=TIMEOUT_S)
        server.wait_preheated(1, timeout=TIMEOUT_S)
        with chromium_page(width=args.width, height=args.height) as (page, errors):
            page.goto(server.url, timeout=TIMEOUT_S * 1000, wait_until="commit")
            page.wait_for_selector("button.mango-run", timeout=TIMEOUT_S * 1000)
            page.wait_for_selector(".js-plotly-plot.mango-curve", timeout=TIMEOUT_S * 1000)
            for name, step in (("app_explorer.png", explorer), ("app_overview.png", overview), ("app_epochs.png", epochs)):
                step(page, args.out / name)
                print(f"wrote {args.out / name}", flush=True)
            if errors:
                print("page errors:", *errors, sep="\n  ", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
