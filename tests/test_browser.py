"""The Voila app in a real browser: headless Chromium driven by Playwright.

Starts ``python -m mango_widgets.widgets.app`` on a free port of 127.0.0.1 (MANGO_FAST=1: small
budgets), picks a layer and unit, clicks Run, and checks that the plotly curve receives
data points and an MEI image appears; saves docs/app_screenshot.png.

Needs /usr/bin/chromium and the ``playwright`` package: ``scripts/install_browser.sh``
installs both (as root, with apt). Playwright's own browser download is never used.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "app_screenshot.png"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 90  # Voila answering HTTP
PAGE_READY_S = 180  # the kernel ran the app notebook and the widgets rendered
RUN_S = 240  # the fast-mode searches finished
LAYER, UNIT, METHODS = "lif4", 12, ("protes", "portfolio")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: run scripts/install_browser.sh (as root) to install it"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Voila exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"Voila did not answer at {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def voila_url(tmp_path):
    """Serve the app; always kill the server (its whole process group) afterwards."""
    port = free_port()
    log = tmp_path / "voila.log"
    env = dict(os.environ, MANGO_FAST="1", MANGO_THREADS="1", PYTHONUNBUFFERED="1")
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mango_widgets.widgets.app", "--port", str(port), "--no-browser"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process, log, SERVER_START_S)
        yield url, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


TRACE_POINTS = """() => {
    const plot = document.querySelector('.js-plotly-plot.mango-curve');
    if (!plot || !plot.data) return [];
    return plot.data.map(t => (t.y ? t.y.length : 0));
}"""

MEI_SOURCES = """() => Array.from(document.querySelectorAll('img.mango-mei')).map(img => ({
    src: img.src, width: img.naturalWidth, complete: img.complete}))"""


def test_app_runs_a_search_in_the_browser(voila_url):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.fail(f"playwright is not installed ({error}); run scripts/install_browser.sh")
    url, log = voila_url
    page_errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1250})
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.goto(url, timeout=PAGE_READY_S * 1000, wait_until="domcontentloaded")
            # the kernel executes the app notebook, then the widgets render
            page.wait_for_selector(".mango-layer select", timeout=PAGE_READY_S * 1000)
            page.wait_for_selector(".js-plotly-plot.mango-curve", timeout=PAGE_READY_S * 1000)
            assert page.evaluate(MEI_SOURCES) == [], "no MEI panel before the first run"

            # choose a layer, a unit and two methods to race (text boxes sync on change: fill, then Tab)
            layer_select = page.locator(".mango-explorer .mango-layer select")
            labels = layer_select.evaluate("s => Array.from(s.options).map(o => o.textContent)")
            layer_select.select_option(label=next(label for label in labels if label.startswith(LAYER)))
            unit_input = page.locator(".mango-explorer .mango-unit input")
            unit_input.fill(str(UNIT))
            unit_input.press("Tab")
            page.locator(".mango-explorer .mango-methods select").select_option(list(METHODS))
            page.wait_for_timeout(500)

            page.locator("button.mango-run").click()
            page.wait_for_function(
                f"() => ({TRACE_POINTS})().some(n => n > 0)", timeout=RUN_S * 1000, polling=250
            )
            page.wait_for_function(
                "() => { const s = document.querySelector('.mango-status');"
                " return s && !/running|starting/.test(s.textContent) && /finished|stopped|failed/.test(s.textContent); }",
                timeout=RUN_S * 1000, polling=500,
            )
            page.wait_for_timeout(1000)  # the last batched write reaches the page
            points = page.evaluate(TRACE_POINTS)
            status = page.locator(".mango-status").inner_text()
            error = page.locator(".mango-explorer .mango-error").inner_text()
            meis = page.evaluate(MEI_SOURCES)
            title = page.locator(".mango-curve .gtitle").first.text_content() if page.locator(".mango-curve .gtitle").count() else ""
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert status.count("finished") == 2, f"status: {status!r}, error: {error!r}\n{log.read_text()[-2000:]}"
    assert not error.strip(), error
    # per method: a trace with every query (fast mode: budget 200) and a best-so-far step trace
    assert len(points) == 4 and points[0] == points[2] == 200, f"trace lengths {points}"
    assert points[1] >= 2 and points[3] >= 2, f"trace lengths {points}: a best-so-far trace has no points"
    assert f"{LAYER}:{UNIT}" in title, f"curve title {title!r} does not name the chosen neuron"
    assert len(meis) == 2 and all(m["complete"] and m["width"] == 140 for m in meis), f"no rendered MEI image: {meis}"
    assert not page_errors, page_errors
    assert SCREENSHOT.stat().st_size > 10_000
