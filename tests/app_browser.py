"""Serve the Voila app on a free port of 127.0.0.1 and drive it with headless Chromium (Playwright).

Shared by tests/test_browser.py, tools/app_screenshots.py and benchmarks/app_latency.py. Needs
/usr/bin/chromium and the ``playwright`` package (scripts/install_browser.sh); Playwright's own
browser download is never used, and the page may only talk to 127.0.0.1 (other requests are refused).
Every wait is on an event (a log line, an element, a text), never a fixed sleep.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional
from urllib.parse import urlparse

from mango_widgets.widgets.plotly_loader import PLOTLY_PATH

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: the line each kernel prints once it has built the app (dashboard.demo_app)
READY_LINE = "[mango] app built"
LOOPBACK = ("127.0.0.1", "localhost")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """``python -m mango_widgets.widgets.app`` started in ``folder`` (its exports land there)."""

    def __init__(self, folder: Path, fast: bool = True, preheat: int = 1, extra_env: Optional[dict] = None):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.folder / "voila.log"
        env = dict(os.environ, MANGO_THREADS="1", PYTHONUNBUFFERED="1", **(extra_env or {}))
        env.pop("MANGO_APP_DIR", None)  # the app sets it to its own start folder
        if fast:
            env["MANGO_FAST"] = "1"
        self.started = time.perf_counter()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mango_widgets.widgets.app", "--port", str(self.port), "--no-browser",
                 "--preheat", str(preheat)],
                cwd=self.folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def ready_count(self) -> int:
        """How many kernels have built the app so far (preheated ones included)."""
        return self.log_text().count(READY_LINE)

    def wait_for(self, condition, what: str, timeout: float, poll: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"Voila exited with code {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if condition():
                return
            time.sleep(poll)  # polling a condition, not waiting a fixed time for it
        raise AssertionError(f"{what} not within {timeout} s:\n{self.log_text()[-3000:]}")

    def wait_http(self, timeout: float = 120) -> None:
        """Until the server answers; asks for a static file, since each request for the page takes a kernel."""
        request = urllib.request.Request(self.url + PLOTLY_PATH, method="HEAD")

        def answers() -> bool:
            try:
                with urllib.request.urlopen(request, timeout=5):
                    return True
            except OSError:
                return False
        self.wait_for(answers, f"Voila answering at {self.url}", timeout, poll=0.5)

    def wait_preheated(self, count: int = 1, timeout: float = 300) -> None:
        """Until ``count`` kernels have built the app (with --preheat, the pool is ready for a page)."""
        self.wait_for(lambda: self.ready_count() >= count, f"{count} kernel(s) building the app", timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


@contextmanager
def app_server(folder: Path, **options) -> Iterator[AppServer]:
    server = AppServer(folder, **options)
    try:
        yield server
    finally:
        server.stop()


def loopback_only(route) -> None:
    """Refuse every request that is not for this machine (fonts or scripts a page asks the internet for)."""
    host = urlparse(route.request.url).hostname
    if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
        route.continue_()
    else:
        route.abort()


@contextmanager
def chromium_page(width: int = 1280, height: int = 1400) -> Iterator[tuple]:
    """(page, errors): a headless Chromium page limited to loopback; ``errors`` collects page errors."""
    from playwright.sync_api import sync_playwright

    errors: List[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", loopback_only)
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, errors
        finally:
            browser.close()


# ------------------------------------------------------------------ what the page shows (evaluated in the page)
CURVE_POINTS = """() => {
    const plot = document.querySelector('.js-plotly-plot.mango-curve');
    if (!plot || !plot.data) return null;
    return plot.data.filter(t => t.visible !== false).map(t => [t.name, t.y ? t.y.length : 0]);
}"""

CURVE_TITLE = """() => {
    const plot = document.querySelector('.js-plotly-plot.mango-curve');
    return plot && plot.layout && plot.layout.title ? plot.layout.title.text : '';
}"""

EPOCH_MAPS = """() => {
    const plot = document.querySelector('.js-plotly-plot.mango-epoch-maps');
    if (!plot || !plot.data) return null;
    return plot.data.map(t => [t.type, t.z ? t.z.flat().length : (t.y ? t.y.length : 0)]);
}"""

EPOCH_CELL = """([trace, xi, yi]) => {
    // the page position of cell (xi, yi) of heatmap ``trace`` (0: layers x epochs, 1: units x epochs)
    const plot = document.querySelector('.js-plotly-plot.mango-epoch-maps');
    const t = plot._fullData[trace];
    const xa = plot._fullLayout[t.xaxis === 'x' ? 'xaxis' : 'xaxis' + t.xaxis.slice(1)];
    const ya = plot._fullLayout[t.yaxis === 'y' ? 'yaxis' : 'yaxis' + t.yaxis.slice(1)];
    const box = plot.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.c2p(xi), y: box.top + ya._offset + ya.c2p(yi), epoch: t.x[xi], row: t.y[yi]};
}"""


def wait_text(page, selector: str, pattern: str, timeout_s: float) -> str:
    """Wait until the element's text matches ``pattern`` (a regular expression); return the text."""
    page.wait_for_function(
        "([sel, pat]) => { const n = document.querySelector(sel); return !!n && new RegExp(pat).test(n.textContent); }",
        arg=[selector, pattern], timeout=timeout_s * 1000, polling=200,
    )
    return page.locator(selector).first.inner_text()


def pick_layer(page, layer: str, scope: str = ".mango-explorer") -> None:
    """Choose ``layer`` in a layer dropdown (its labels add unit counts, with no-break spaces)."""
    select = page.locator(f"{scope} .mango-layer select")
    labels = select.evaluate("s => Array.from(s.options).map(o => o.textContent)")
    select.select_option(label=next(label for label in labels if label.split()[0] == layer))


# ------------------------------------------------------------------ timing in the page (benchmarks/app_latency.py)
#: installed before the page's own scripts: records when each watched condition first holds
#: (performance.now(): ms since navigation started) and when the last click / change happened
PROBE = """(() => {
  const times = window.__mango_times = {};
  const watches = window.__mango_watches = {
    controls: () => !!document.querySelector('button.mango-run'),
    curve: () => { const p = document.querySelector('.js-plotly-plot.mango-curve'); return !!(p && p.data); },
  };
  for (const type of ['click', 'change']) {
    window.addEventListener(type, () => { times['last ' + type] = performance.now(); }, true);
  }
  window.__mango_watch = (name, source) => { delete times[name]; watches[name] = new Function('return (' + source + ')();'); };
  setInterval(() => {
    for (const [name, test] of Object.entries(watches)) {
      let ok = false;
      try { ok = test(); } catch (e) { ok = false; }
      if (ok) { times[name] = performance.now(); delete watches[name]; }
    }
  }, 5);
})();"""


def watch(page, name: str, condition_js: str) -> None:
    """Start recording when ``condition_js`` (a JavaScript function of no arguments) first holds."""
    page.evaluate("([name, source]) => window.__mango_watch(name, source)", [name, condition_js])


def page_time(page, name: str, timeout_s: float) -> float:
    """Milliseconds since navigation when ``name`` was recorded (waits for it)."""
    page.wait_for_function("name => name in window.__mango_times", arg=name, timeout=timeout_s * 1000, polling=50)
    return page.evaluate("name => window.__mango_times[name]", name)


def wait_curve(page, condition_js: str, timeout_s: float) -> list:
    """Wait until ``condition_js`` (JavaScript on ``p``, the curve's [name, points] pairs) holds; return the
    pairs. On timeout the error shows what the page has."""
    try:
        page.wait_for_function(f"() => {{ const p = ({CURVE_POINTS})(); return !!p && ({condition_js}); }}",
                               timeout=timeout_s * 1000, polling=200)
    except Exception as error:
        raise AssertionError(f"the curve in the page never met {condition_js!r} in {timeout_s} s; it has "
                             f"{page.evaluate(CURVE_POINTS)}") from error
    return page.evaluate(CURVE_POINTS)


def status_text(page, selector: str = ".mango-explorer .mango-status") -> str:
    node = page.locator(selector)
    return node.inner_text() if node.count() else ""
