"""The Voila app in a real browser (headless Chromium driven by Playwright), every tab.

One server (``python -m mango_widgets.widgets.app``, MANGO_FAST=1, started in a temporary folder)
and one page at 1,024 px width, shared by the tests below in order: explorer (an invalid unit, a
neuron typed quickly then Run, the curve's points in the page, export into the start folder),
layer overview (run, sort, open a unit in the explorer), epochs (the heatmaps' cells in the page,
a click on a cell, open the neuron in the explorer). Each wait is on what the page shows; nothing
sleeps a fixed time. Screenshots go to the test's temporary folder (``tools/app_screenshots.py``
refreshes the ones in docs/).
"""
import re
from pathlib import Path

import pytest

from tests.app_browser import CHROMIUM, CURVE_TITLE, EPOCH_CELL, EPOCH_MAPS, app_server, chromium_page, wait_curve

PAGE_S = 300  # the preheated kernel is ready and the page is interactive
RUN_S = 400  # fast-mode searches on a loaded 2-core machine
WIDTH = 1024
LAYER, UNIT = "lif4", 12

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: run scripts/install_browser.sh (as root) to install it"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    pytest.importorskip("playwright", reason="playwright is not installed; run scripts/install_browser.sh")
    folder = tmp_path_factory.mktemp("app")
    with app_server(folder) as server:
        server.wait_http()
        server.wait_preheated(1, timeout=PAGE_S)
        with chromium_page(width=WIDTH, height=1400) as (page, errors):
            page.goto(server.url, timeout=PAGE_S * 1000, wait_until="commit")
            page.wait_for_selector("button.mango-run", timeout=PAGE_S * 1000)
            yield server, page, errors, folder


def wait_text(page, selector: str, pattern: str, timeout_s: float = RUN_S) -> str:
    """Wait until the element's text matches ``pattern`` (a regular expression); return the text."""
    page.wait_for_function(
        "([sel, pat]) => { const n = document.querySelector(sel); return !!n && new RegExp(pat).test(n.textContent); }",
        arg=[selector, pattern], timeout=timeout_s * 1000, polling=200,
    )
    return page.locator(selector).first.inner_text()


def fits(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width} px wide at a {WIDTH} px window: something is cut off"


def test_explorer_shows_why_a_unit_is_invalid_and_keeps_what_was_typed(app):
    server, page, errors, folder = app
    layer = page.locator(".mango-explorer .mango-layer select")
    labels = layer.evaluate("s => Array.from(s.options).map(o => o.textContent)")
    layer.select_option(label=next(label for label in labels if label.split()[0] == "lif2"))  # labels use no-break spaces
    wait_text(page, ".mango-explorer .mango-unit-help", r"units 0\.\.31", 60)  # the kernel took the layer
    unit = page.locator(".mango-explorer .mango-unit input")
    for typed, reason in (("99", "unit 99 is out of range"), ("abc", "'abc' is not a whole number"),
                          ("7.5", "'7.5' is not a whole number"), ("-3", "unit -3 is out of range")):
        unit.fill(typed)
        message = wait_text(page, ".mango-explorer .mango-unit-help", re.escape(reason), 60)
        assert "layer lif2 has units 0..31" in message
        assert unit.input_value() == typed  # never changed behind the user's back
    fits(page)


def test_a_neuron_typed_quickly_is_the_one_searched_and_its_curve_reaches_the_page(app):
    server, page, errors, folder = app
    layer = page.locator(".mango-explorer .mango-layer select")
    labels = layer.evaluate("s => Array.from(s.options).map(o => o.textContent)")
    # as fast as a user can: layer, unit, a second method, Run, without waiting for the kernel in between
    layer.select_option(label=next(label for label in labels if label.split()[0] == LAYER))
    page.locator(".mango-explorer .mango-unit input").fill(str(UNIT))
    page.locator(".mango-method-portfolio input").check()
    page.locator("button.mango-run").click()
    wait_text(page, ".mango-explorer .mango-status", r"^(?![\s\S]*(running|waiting))[\s\S]*finished[\s\S]*finished", RUN_S)
    status = page.locator(".mango-explorer .mango-status").inner_text()
    default = re.search(r"(Auto \(best measured\) → [^\n]+?) finished · 200/200", status)  # the default method, named
    assert default and "Portfolio (Nevergrad) finished · 200/200" in status, status
    points = dict(wait_curve(page, "p.length === 4 && p[0][1] === 200 && p[2][1] === 200", 60))
    auto, portfolio = default.group(1), "Portfolio (Nevergrad)"  # the legend uses the status line's names
    assert points[f"{auto}: each query"] == points[f"{portfolio}: each query"] == 200  # every query is in the page
    assert points[f"{auto}: best so far"] >= 2 and points[f"{portfolio}: best so far"] >= 2
    title = page.evaluate(CURVE_TITLE)
    assert title.startswith(f"{LAYER}:{UNIT} of demo SNN, epoch 12"), title  # the neuron searched, in the dropdown's words
    assert f"{LAYER}:{UNIT}" in page.locator(".mango-explorer .mango-progress").inner_text()
    meis = page.evaluate("() => Array.from(document.querySelectorAll('img.mango-mei')).map(i => [i.naturalWidth, i.width, i.complete])")
    assert meis == [[28, 224, True], [28, 224, True]], meis
    legend, toolbar = (page.locator(f".mango-curve {sel}").first.bounding_box() for sel in (".legend", ".modebar"))
    assert legend["y"] >= toolbar["y"] + toolbar["height"], "the legend sits under the plotly toolbar"
    wait_text(page, ".mango-explorer .mango-dataset-html", r"excite lif4:12 most[\s\S]*activation · true label", RUN_S)
    assert page.locator(".mango-dataset-images img").count() == 8
    assert page.locator(".mango-guess").count() == 2
    fits(page)
    page.screenshot(path=str(folder / "explorer.png"))
    assert not errors, errors


def test_export_lands_in_the_folder_the_app_was_started_from(app):
    server, page, errors, folder = app
    shown = page.locator(".mango-export-folder input").input_value()
    assert shown == str(folder.resolve() / "mango_results")  # absolute, not inside the installed package
    page.locator("button.mango-export").click()
    page.wait_for_selector("a.mango-download-zip", timeout=RUN_S * 1000)
    exported = sorted((folder / "mango_results").glob(f"{LAYER}-{UNIT}-*"))
    assert len(exported) == 1, list((folder / "mango_results").iterdir())
    for method in ("auto", "portfolio"):
        files = {p.name for p in (exported[0] / method).iterdir()}
        assert {"search.json", "history.npz", "mei.npz", "mei.png", "mei_progress.gif"} <= files
    assert {"curves.csv", "curves.png"} <= {p.name for p in exported[0].iterdir()}
    assert str(exported[0]) in page.locator(".mango-export-html").inner_text()


def test_overview_runs_sorts_and_opens_a_unit_with_its_result_in_the_explorer(app):
    server, page, errors, folder = app
    page.get_by_role("tab", name="Layer overview").click()
    page.locator("button.mango-overview-run").click()
    wait_text(page, ".mango-overview-status", r"4/4 units of lif3 done", RUN_S)
    images = page.evaluate("() => Array.from(document.querySelectorAll('img.mango-overview-mei')).map(i => [i.naturalWidth, i.width])")
    assert images == [[28, 140]] * 4, images
    page.locator(".mango-overview-sort button", has_text="activation").click()

    def shown_order():
        captions = page.locator(".mango-overview-cell .mango-caption").all_inner_texts()
        return [(int(re.search(r"unit (\d+)", c).group(1)), float(re.search(r"best ([\d.]+)", c).group(1))) for c in captions]
    page.wait_for_function(
        "() => { const v = Array.from(document.querySelectorAll('.mango-overview-cell .mango-caption'))"
        ".map(c => parseFloat((c.textContent.match(/best ([\\d.]+)/) || [0, 'NaN'])[1]));"
        " return v.length === 4 && v.every((x, i) => i === 0 || v[i - 1] >= x); }", timeout=60_000, polling=200)
    order = shown_order()
    assert [b for _, b in order] == sorted((b for _, b in order), reverse=True)
    fits(page)
    page.screenshot(path=str(folder / "overview.png"))
    first_unit = order[0][0]
    page.locator(".mango-open-unit", has_text=f"open unit {first_unit}").click()
    page.wait_for_function(f"() => ({CURVE_TITLE})().startsWith('lif3:{first_unit} of demo SNN, epoch 12 (from the layer overview)')",
                           timeout=60_000, polling=200)
    # the title and the points travel in two messages: wait for the points too
    points = wait_curve(page, "p.length === 2 && p[0][1] === 100", 60)
    assert len(points) == 2 and points[0] == [points[1][0].replace("best so far", "each query"), 100], points  # no stale lines
    assert points[1][0].startswith("Auto (best measured) → ")
    assert page.locator(".mango-explorer .mango-unit input").input_value() == str(first_unit)


def committed_study_table():
    """The table the app's epoch tab reads (the committed study next to this checkout)."""
    from mango_widgets.widgets.dashboard import demo_study_folder
    from mango_widgets.widgets.epoch_tab import load_table

    folder = demo_study_folder()
    assert folder is not None, "no committed study next to this checkout (benchmarks/results/reproduction)"
    return load_table(folder)


def test_epoch_tab_draws_its_heatmaps_and_a_click_opens_the_neuron(app):
    server, page, errors, folder = app
    page.get_by_role("tab", name="Epochs").click()
    page.wait_for_function(f"() => {{ const m = ({EPOCH_MAPS})(); return m && m[0][1] > 0; }}", timeout=RUN_S * 1000, polling=250)
    maps = page.evaluate(EPOCH_MAPS)
    table = committed_study_table()  # what the tab shows: the committed study's cold searches of one seed
    epochs, layers = sorted(table["epoch"].unique()), list(dict.fromkeys(table["layer"]))
    last_units = sorted(table.loc[table["layer"] == layers[-1], "unit"].unique())
    assert maps[0] == ["heatmap", len(layers) * len(epochs)], maps  # every cell in the page
    assert maps[1] == ["heatmap", len(last_units) * len(epochs)], maps
    assert maps[2][0] == "scatter" and maps[2][1] == 12  # accuracy at each of the 12 bundled epochs
    cell = page.evaluate(EPOCH_CELL, [1, len(epochs) - 1, 3])  # unit map: the last epoch, 4th unit of the last layer
    page.mouse.move(cell["x"], cell["y"])
    page.mouse.click(cell["x"], cell["y"])
    wait_text(page, ".mango-epoch-track", rf"{layers[-1]}:{cell['row']} over training", 60)
    assert page.locator(".mango-epoch-track img").count() == table["method"].nunique() * len(epochs)  # methods x epochs
    wait_text(page, ".mango-epoch-status", rf"epoch {cell['epoch']}", 60)
    fits(page)
    page.screenshot(path=str(folder / "epochs.png"))
    page.locator("button.mango-epoch-open").click()
    opened = rf"Opened {layers[-1]}:{cell['row']} of demo SNN, epoch {cell['epoch']} from the epoch tab"
    wait_text(page, ".mango-explorer .mango-status", opened, 60)
    assert page.locator(".mango-explorer .mango-network select").input_value() == f"demo SNN, epoch {cell['epoch']}"
    assert page.locator(".mango-explorer .mango-unit input").input_value() == str(cell["row"])
    assert not errors, errors
    assert all(Path(folder / name).stat().st_size > 10_000 for name in ("explorer.png", "overview.png", "epochs.png"))
