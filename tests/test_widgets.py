"""The widgets driven through their Python API, without a browser.

Runs on untrained stand-ins of the demo architectures (random weights, fixed seed), so it
does not depend on the bundled demo weights; every search uses one torch thread. What a browser
would draw is read from each figure's widget *state* (``figures.state_traces``) and from the
last whole-figure message, not only from the Python figure object.
"""
import base64
import html
import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

from PIL import Image  # noqa: E402

from mango_widgets import ConfigError, Generator, LatentGrid, Objective, Search  # noqa: E402
from mango_widgets.records.export import GIF_NAME, export_search, improvements, save_progress_gif  # noqa: E402
from mango_widgets.widgets import DEFAULT_METHODS, LayerOverview, LiveRun, MangoApp, MEIExplorer, stand_in_models  # noqa: E402
from mango_widgets.widgets.export_panel import START_DIR_ENV  # noqa: E402
from mango_widgets.widgets.figures import state_traces  # noqa: E402
from mango_widgets.widgets.methods import DEFAULT_METHOD, method_name, offered_methods  # noqa: E402
from mango_widgets.widgets.plotly_loader import PLOTLY_PATH, PLOTLY_PATH_ENV  # noqa: E402
from mango_widgets.widgets.warmup import WARM_METHODS, Warmup  # noqa: E402
from tests import tiny_models as tm  # noqa: E402

WAIT_S = 180  # bound on every wait for a run


@pytest.fixture(scope="module")
def models():
    return stand_in_models()


def make_explorer(models, **kwargs):
    generator, networks = models
    options = dict(methods=("random",), budget=150, threads=1, update_seconds=0.05, min_interval=0.05)
    options.update(kwargs)
    return MEIExplorer(generator, networks, **options)


def drawn(figure) -> list:
    """The traces a browser draws: visible ones of the figure's state."""
    return [t for t in state_traces(figure) if t.get("visible") is not False]


def started(explorer) -> None:
    """Wait until the run's searches are built and started (Run returns at once; a starter thread builds them)."""
    for thread in list(explorer._threads):
        thread.join(WAIT_S)


def png_size(html: str) -> tuple:
    """Pixel size of the first data-URI PNG in an HTML string."""
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    return Image.open(io.BytesIO(base64.b64decode(data))).size


# ------------------------------------------------------------------ choosing the neuron
@pytest.mark.slow
def test_layer_picker_lists_dotted_names_with_unit_counts(models):
    explorer = make_explorer(models)
    labels = [label for label, _ in explorer.picker.layer_dropdown.options]
    assert "lif3  (64 units, spiking)" in labels and "fc1  (128 units, Linear)" in labels
    assert labels[-1] == "output classes  (10)"
    assert explorer.picker.layer == "lif3"  # the preferred default layer
    explorer.select(layer="lif1", unit=15)
    assert explorer.picker.target == "lif1:15"
    assert "units 0..15" in explorer.picker.unit_help.value
    explorer.select(layer="output", unit=9)
    assert explorer.picker.target == "class:9"
    with pytest.raises(ConfigError, match=r"unit 10 is out of range: the output has classes 0\.\.9"):
        explorer.select(unit=10)
    with pytest.raises(ConfigError, match="unknown layer 'nope'"):
        explorer.select(layer="nope")


@pytest.mark.parametrize("typed, reason", [
    ("99", "unit 99 is out of range"), ("-3", "unit -3 is out of range"),
    ("abc", "'abc' is not a whole number"), ("7.5", "'7.5' is not a whole number"), ("", "type a unit number"),
])
def test_an_invalid_unit_is_shown_beside_the_box_and_never_changed(models, typed, reason):
    explorer = make_explorer(models)
    explorer.select(layer="lif2")  # 32 units
    explorer.picker.unit_box.value = typed
    assert explorer.picker.unit_box.value == typed  # what the user typed stays
    help_text = html.unescape(explorer.picker.unit_help.value)
    assert reason in help_text and "layer lif2 has units 0..31" in help_text
    assert explorer.picker.unit == -1
    assert explorer.run() is False and not explorer.running and explorer.searches == {}
    assert reason in html.unescape(explorer.error_html.value)


@pytest.mark.slow
def test_a_late_layer_handler_never_overwrites_the_typed_unit(models):
    """The browser sends 'layer lif2' then 'unit 12'; a slow kernel may run the layer handler last."""
    explorer = make_explorer(models)
    picker = explorer.picker
    writes = []
    picker.unit_box.observe(lambda change: writes.append(change["new"]), "value")
    picker.layer_dropdown.unobserve(picker._on_layer, "value")  # hold the layer handler back ...
    picker.layer_dropdown.value = "lif2"
    picker.unit_box.value = "12"  # ... the typed unit is handled first ...
    picker.layer_dropdown.observe(picker._on_layer, "value")
    picker._on_layer({"new": "lif2"})  # ... then the late layer handler runs
    assert writes == ["12"] and picker.unit_box.value == "12"
    assert picker.target == "lif2:12" and picker.unit == 12 and picker.units == 32
    # a unit valid for the old layer but not the new one is flagged, not clamped
    picker.unit_box.value = "40"  # lif2 has 32 units
    picker._on_layer({"new": "lif2"})
    assert picker.unit_box.value == "40" and "unit 40 is out of range" in picker.unit_help.value


@pytest.mark.slow
def test_run_searches_the_neuron_on_screen_and_names_it(models):
    explorer = make_explorer(models, budget=30)
    picker = explorer.picker
    picker.layer_dropdown.value = "lif2"
    picker.unit_box.value = "12"
    assert explorer.run()
    assert explorer.wait(WAIT_S)
    search = explorer.searches["random"]
    assert str(search.objective.target) == "lif2:12"
    title = explorer.figure.layout.title.text
    assert title.startswith("lif2:12 of untrained demo SNN (random weights)")
    assert "lif2:12" in explorer.progress.summary.value
    assert "spike rate: spikes per time step, averaged over the unit&#x27;s positions" in title
    assert tuple(explorer.figure.layout.yaxis.range) == (0, 1) and tuple(explorer.figure.layout.xaxis.range) == (0, 30)
    shown = [a for a in explorer.figure._widget_layout.get("annotations", []) if a.get("visible") is not False]
    assert shown == []  # the "curve appears here" placeholder is gone from what the browser draws


# ------------------------------------------------------------------ figures reach the browser
def test_a_figure_is_sent_whole_and_edits_wait_for_its_first_draw():
    import plotly.graph_objects as go

    from mango_widgets.widgets.figures import editing, new_figure

    figure = new_figure([go.Heatmap(z=[[1, 2], [3, 4]])], dict(title="t"), css_class="c")
    state = figure.get_state()  # what the widget's first message carries
    assert state["_widget_data"][0]["z"] == [[1, 2], [3, 4]] and state["_dom_classes"] == ("c",)
    assert state["_widget_layout"]["title"] == {"text": "t"}
    with editing(figure):
        figure.data[0].z = [[5, 6], [7, 8]]
    assert not figure._py2js_update  # no view has drawn it: nothing sent, the state holds the edit
    assert state_traces(figure)[0]["z"] == [[5, 6], [7, 8]]
    figure._view_drawn({"new": {"trace_edit_id": 0, "trace_deltas": []}})  # a browser view reports its first draw
    message = figure._py2js_update  # the whole figure, and kept: plotly's reset to None would let a browser drop it
    assert message["style_data"]["z"] == [[[5, 6], [7, 8]]] and message["layout_data"]["title"] == {"text": "t"}
    with editing(figure):
        figure.data[0].z = [[0, 0], [0, 1]]
    assert figure._py2js_update["style_data"]["z"] == [[[0, 0], [0, 1]]]
    assert figure._py2js_update["trace_edit_id"] > message["trace_edit_id"]
    sent = figure._last_trace_edit_id
    # the view's reports of later draws (layout reports carry no trace edit id; trace reports may lag) send nothing:
    # answering them made the view report again, a ping-pong between kernel and page that never ended
    figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": figure._last_layout_edit_id}
    figure._js2py_traceDeltas = {"trace_deltas": [{"uid": figure.data[0].uid}], "trace_edit_id": sent - 1}
    assert figure._last_trace_edit_id == sent


# ------------------------------------------------------------------ running
@pytest.mark.slow
def test_run_races_two_methods_and_the_browser_state_holds_every_query(models):
    explorer = make_explorer(models, methods=("random", "protes"), budget=150)
    explorer.select(layer="conv1", unit=2)  # an analog layer: continuous activations, free y axis
    explorer.run_button.click()
    try:
        assert explorer.running and explorer.run_button.disabled and explorer.picker.layer_dropdown.disabled
        assert not explorer.stop_button.disabled
        assert explorer.wait(WAIT_S), "the run did not end in time"
    finally:
        explorer.stop()
    assert not explorer.running and not explorer.run_button.disabled and not explorer.export_panel.button.disabled
    assert [s.state for s in explorer.searches.values()] == ["finished", "finished"]
    assert [s.threads for s in explorer.searches.values()] == [1, 1]
    traces = drawn(explorer.figure)
    assert [t["name"] for t in traces] == ["Random search: each query", "Random search: best so far", "PROTES, free settings: each query",
                                            "PROTES, free settings: best so far"]
    for i, search in enumerate(explorer.searches.values()):
        raw, best = traces[2 * i], traces[2 * i + 1]
        assert np.array_equal(raw["y"], search.history.values)  # every query is in the browser's state
        assert best["x"][-1] == 150 and best["y"][-1] == pytest.approx(search.history.best_value)
        assert np.all(np.diff(best["y"]) >= 0)
    assert explorer.figure.layout.yaxis.autorange and "unbounded" in explorer.figure.layout.title.text
    for name, image in explorer.mei_images.items():
        assert "no MEI yet" not in image.value and png_size(image.value) == (28, 28), name
        assert 'width="224"' in image.value and 'tabindex="0"' in image.value  # shown large, click to enlarge
    for grid in explorer.candidate_grids.values():
        assert grid.value.count("<img") == 8
    status = explorer.status_html.value
    assert "Random search</b> finished · 150/150 queries" in status and "PROTES, free settings</b> finished" in status
    assert "done, 300 of 300 queries" in explorer.progress.summary.value
    assert explorer.error_html.value == ""
    assert "network's classes on the MEI" in explorer.panels["random"].guess.value


@pytest.mark.slow
def test_the_default_is_auto_and_every_view_names_the_method_it_chose(models):
    generator, networks = models
    assert DEFAULT_METHODS == (DEFAULT_METHOD,) and DEFAULT_METHOD == "auto"
    assert LayerOverview(generator, networks).method_dropdown.value == DEFAULT_METHOD
    assert DEFAULT_METHOD in WARM_METHODS  # the first Run does not wait for an import the warm-up skipped
    explorer = make_explorer(models, methods=DEFAULT_METHODS, budget=40)
    explorer.run()
    assert explorer.wait(WAIT_S)
    search = explorer.searches["auto"]
    name = f"Auto (best measured) → {method_name(search.optimizer.chosen)}"  # what auto ran, in the picker's words
    assert search.state == "finished" and search.optimizer.chosen in offered_methods()
    assert f"{name}</b> finished · 40/40" in explorer.status_html.value
    assert [t["name"] for t in drawn(explorer.figure)] == [f"{name}: each query", f"{name}: best so far"]
    assert html.escape(name) in explorer.panels["auto"].title.value
    assert "Auto (best measured) [auto]" in [box.description for box in explorer.methods.boxes.values()]


@pytest.mark.slow
def test_in_the_app_figures_open_only_once_the_page_has_loaded_plotly(models, monkeypatch):
    generator, networks = models
    monkeypatch.setenv(PLOTLY_PATH_ENV, PLOTLY_PATH)
    app = MangoApp(generator, networks, explorer=dict(methods=("random",), budget=30, threads=1), warm=False)
    loader, figure = app.plotly_loader, app.explorer.figure
    assert loader in app.children and loader.path == PLOTLY_PATH
    assert figure.comm is None  # a page would create its model before the bundle is there: not yet
    assert PLOTLY_PATH in figure._esm and len(figure._esm) < 2_000  # a re-export, not plotly's 5 MB again
    slot = app.explorer.curve.children[0]
    assert slot.children == (slot.note,)
    app.explorer.run()
    assert app.explorer.wait(WAIT_S)
    assert figure.comm is None and len(drawn(figure)) == 2  # edits while closed still reach the state it will open with
    loader.loaded = True  # what the page reports once it has imported the bundle
    assert figure.comm is not None and slot.children == (figure,)
    assert [t["name"] for t in drawn(figure)] == ["Random search: each query", "Random search: best so far"]
    failing = MangoApp(generator, networks, explorer=dict(methods=("random",), budget=30, threads=1), warm=False)
    failing.plotly_loader.error = "TypeError: Failed to fetch dynamically imported module"  # what a page reports
    note = failing.explorer.curve.children[0].note.value
    assert "could not load the plotting library" in note and "Failed to fetch" in note  # said, not an empty box
    monkeypatch.delenv(PLOTLY_PATH_ENV)
    assert make_explorer(models).figure.comm is not None  # outside the app: plotly's own module, opened at once


@pytest.mark.slow
def test_methods_race_in_the_order_ticked(models):
    explorer = make_explorer(models, methods=(), budget=20)
    assert MEIExplorer(*models).methods.value == DEFAULT_METHODS  # one constant sets the default
    explorer.methods.boxes["tt"].value = True
    explorer.methods.boxes["random"].value = True
    assert explorer.methods.value == ("tt", "random")
    assert explorer.methods.order_html.value.index("TT (PROTES)") < explorer.methods.order_html.value.index("Random search")
    assert explorer.methods.boxes["tt"].tooltip == "PROTES preset TT: K=10, k_top=1"
    explorer.run()
    assert explorer.wait(WAIT_S)
    assert list(explorer.searches) == ["tt", "random"]
    assert [t["name"] for t in drawn(explorer.figure)][::2] == ["TT (PROTES): each query", "Random search: each query"]


@pytest.mark.slow
def test_ui_writes_are_throttled_and_batched(models):
    explorer = make_explorer(models, methods=("random", "tt"), budget=300, update_seconds=0.0, min_interval=0.25)
    explorer.run()
    assert explorer.wait(WAIT_S)
    stats = explorer.live.stats
    summary = stats.summary()
    # searches report after every batch (update_seconds=0), yet writes stay min_interval apart
    assert summary["writes"] >= 2
    assert summary["min_interval_s"] >= 0.25 * 0.95
    elapsed = stats.times[-1] - stats.times[0]
    assert summary["writes"] <= elapsed / 0.25 + 2
    assert summary["queries"] == 600


def test_stop_ends_the_run_within_a_batch(models):
    explorer = make_explorer(models, methods=("random",), budget=100_000)
    explorer.run()
    started(explorer)
    search = explorer.searches["random"]
    assert search.wait(0.0) is False
    explorer.stop_button.click()
    assert search.wait(30), "stop did not take effect"
    assert explorer.wait(WAIT_S)
    assert search.state == "stopped" and 0 < search.queries < 100_000
    assert "stopped" in explorer.status_html.value
    assert len(drawn(explorer.figure)[0]["y"]) == search.queries  # the partial run is on the curve
    assert not explorer.running and explorer.stop_button.disabled


@pytest.mark.slow
def test_sequential_run_and_stop_never_starts_the_rest(models):
    explorer = make_explorer(models, methods=("random", "oneplusone"), budget=60, concurrent=False)
    explorer.run()
    assert explorer.wait(WAIT_S)
    first, second = explorer.searches.values()
    assert first.state == second.state == "finished" and first.threads == 1
    explorer.budget_box.value = 100_000
    explorer.run()
    started(explorer)
    explorer.stop()
    assert explorer.wait(WAIT_S)
    first, second = explorer.searches.values()
    assert first.state == "stopped" and first.budget == 100_000 and second.state == "ready"
    assert "(1+1) evolution</b> not run" in explorer.status_html.value


def test_stop_before_the_searches_start_keeps_the_shown_run(models):
    release = __import__("threading").Event()
    explorer = make_explorer(models, budget=20, warmup=Warmup([("optimizers", release.wait)]).start())
    explorer.run()  # waits for the warm-up
    explorer.stop()
    release.set()
    assert explorer.wait(WAIT_S)
    assert explorer.searches == {} and "stopped before it started" in explorer.status_html.value
    assert not explorer.running and not explorer.run_button.disabled


def test_bad_budget_shows_the_same_message_as_the_api(models):
    explorer = make_explorer(models)
    explorer.budget_box.value = 0
    generator, networks = models
    with pytest.raises(ConfigError) as api_error:
        Search(Objective(generator, next(iter(networks.values())), "lif3:0"), "random", budget=0)
    explorer.run_button.click()
    assert explorer.wait(WAIT_S)
    assert not explorer.running and explorer.searches == {}
    assert str(api_error.value) in explorer.error_html.value
    explorer.methods.select(())
    assert explorer.run() is False
    assert "choose at least one method" in explorer.error_html.value


class NaNAfterFirstCall(torch.nn.Module):
    """A generator that works for the shape check, then returns NaN pixels."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, z):
        self.calls += 1
        image = torch.full((z.shape[0], 1, 28, 28), 0.5)
        return image if self.calls == 1 else image * float("nan")


def test_a_failing_search_shows_its_error(models):
    _, networks = models
    generator = Generator(NaNAfterFirstCall(), LatentGrid(), image_shape=(1, 28, 28), name="broken")
    explorer = MEIExplorer(generator, networks, methods=("random",), budget=50, threads=1)
    explorer.run()
    assert explorer.wait(WAIT_S)
    assert explorer.searches["random"].state == "failed"
    assert "random failed: broken returned NaN or infinite pixels" in explorer.error_html.value
    assert "failed" in explorer.status_html.value and not explorer.running


@pytest.mark.slow
def test_a_display_bug_is_shown_and_still_unfreezes_the_controls(models, monkeypatch):
    explorer = make_explorer(models, budget=40)

    def broken(*_args):
        raise RuntimeError("formatting exploded")

    monkeypatch.setattr(explorer, "_write_images", broken)
    explorer.run()
    assert explorer.wait(WAIT_S)
    assert not explorer.running and not explorer.run_button.disabled
    assert "could not update the display: RuntimeError: formatting exploded" in explorer.error_html.value
    assert explorer.searches["random"].state == "finished"


def test_the_first_run_says_it_waits_for_the_optimizers(models):
    release = __import__("threading").Event()
    warmup = Warmup([("optimizers", release.wait)]).start()
    explorer = make_explorer(models, budget=20, warmup=warmup)
    assert "loading optimizers" in warmup.indicator.value
    assert explorer.run()
    assert "waiting for the optimizers to finish loading" in explorer.status_html.value and explorer.running
    release.set()
    assert explorer.wait(WAIT_S) and explorer.searches["random"].state == "finished"
    assert "ready" in warmup.indicator.value


# ------------------------------------------------------------------ run history
@pytest.mark.slow
def test_earlier_runs_overlay_average_and_download(models):
    explorer = make_explorer(models, budget=40)
    explorer.select(layer="conv1", unit=1)
    for seed in (0, 1):
        explorer.seed_box.value = seed
        explorer.run()
        assert explorer.wait(WAIT_S)
    curve = explorer.curve
    assert [c.seed for c in curve.history] == [0, 1] and curve.overlay.options[0][0].startswith("run 1 · conv1:1 · random · seed 0")
    curve.overlay.value = (0,)
    names = [t["name"] for t in drawn(explorer.figure)]
    assert names[:2] == ["Random search: each query", "Random search: best so far"] and names[2].startswith("run 1 · conv1:1")
    curve.display.value = "mean"
    mean = [t for t in drawn(explorer.figure) if "mean of 2 runs" in t["name"]]
    assert len(mean) == 3 and mean[1]["fill"] == "tonexty"  # highest, lowest (band), mean
    expected = np.mean([c.best_so_far()[:40] for c in curve.history], axis=0)
    assert np.allclose(mean[2]["y"], expected)
    curve.x_axis.value = "seconds"
    assert explorer.figure.layout.xaxis.title.text == "seconds since the search started"
    curve.prepare_downloads()
    assert explorer.wait(WAIT_S)
    for thread in __import__("threading").enumerate():
        if thread.name == "mango-curve-download":
            thread.join(WAIT_S)
    links = curve.download_html.value
    csv_text = base64.b64decode(re.search(r'href="data:text/csv;base64,([^"]+)"', links).group(1)).decode()
    assert csv_text.splitlines()[0] == "run,network,target,method,seed,query,seconds,activation,best_so_far"
    assert len(csv_text.splitlines()) == 1 + 2 * 40
    assert "data:image/png;base64," in links


# ------------------------------------------------------------------ export
@pytest.mark.slow
def test_export_goes_to_the_start_folder_with_absolute_paths_and_a_download(models, tmp_path, monkeypatch):
    monkeypatch.setenv(START_DIR_ENV, str(tmp_path))
    explorer = make_explorer(models, methods=("random", "tt"), budget=120)
    assert explorer.export_panel.folder.value == str(tmp_path / "mango_results")
    explorer.select(layer="conv1", unit=0)
    explorer.run()
    assert explorer.wait(WAIT_S)
    explorer.export_panel.folder.value = "relative/out"  # taken from the start folder, not the kernel's
    explorer.export_panel.button.click()
    assert explorer.wait(WAIT_S)
    assert explorer.error_html.value == ""
    assert set(explorer.last_export) == {"random", "tt"}
    for name, folder in explorer.last_export.items():
        assert Path(folder).parent.parent == tmp_path / "relative" / "out"
        files = {p.name for p in Path(folder).iterdir()}
        assert {"search.json", "history.npz", "mei.npz", "mei.png", GIF_NAME} <= files
        gif = Image.open(Path(folder) / GIF_NAME)
        assert gif.n_frames == min(len(improvements(explorer.searches[name].history.values)), 60) >= 2
    root = Path(next(iter(explorer.last_export.values()))).parent
    assert {"curves.csv", "curves.png"} <= {p.name for p in root.iterdir()}
    result = explorer.export_panel.result.value
    assert str(root) in result and "mango-download-zip" in result
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(re.search(r'base64,([^"]+)"', result).group(1))))
    assert "curves.csv" in archive.namelist() and "random/search.json" in archive.namelist()


def test_export_from_python(models, tmp_path):
    generator, networks = models
    search = Search(Objective(generator, next(iter(networks.values())), "conv1:1"), "random", budget=120, seed=3, threads=1)
    with pytest.raises(ConfigError, match="export it once it has finished"):
        export_search(search, tmp_path / "early")
    search.run()
    folder = export_search(search, tmp_path / "run")
    assert (folder / "search.json").is_file() and (folder / GIF_NAME).is_file()
    path = save_progress_gif(search, tmp_path / "few.gif", max_frames=3)
    frames = Image.open(path)
    assert frames.n_frames == min(3, len(improvements(search.history.values)))
    frames.seek(frames.n_frames - 1)
    assert frames.info["duration"] == 1500  # the final MEI is held


def test_improvements_are_the_strict_record_breakers():
    assert improvements(np.array([0.1, 0.1, 0.3, 0.2, 0.3, 0.5])).tolist() == [0, 2, 5]
    assert improvements(np.zeros(0)).tolist() == []


# ------------------------------------------------------------------ overview and app
@pytest.mark.slow
def test_overview_sorts_by_activation_and_opens_a_unit_with_its_mei_in_the_explorer(models):
    generator, networks = models
    app = MangoApp(
        generator, networks, warm=False,
        explorer=dict(methods=("random",), budget=50, threads=1),
        overview=dict(method="random", budget=40, count=3, threads=1, update_seconds=0.05, min_interval=0.05),
    )
    overview, explorer = app.overview, app.explorer
    assert [page for page in app.tabs.titles] == ["MEI explorer", "Layer overview"]  # no study given: no epoch tab
    explorer.select(layer="conv1", unit=0)
    explorer.run()
    assert explorer.wait(WAIT_S)
    overview.picker.select(layer="conv2")
    overview.first_box.value = 4
    overview.run_button.click()
    try:
        assert overview.running and explorer.frozen and explorer.run_button.disabled
        assert explorer.run() is False  # frozen while the overview runs
        assert overview.wait(WAIT_S)
    finally:
        overview.stop()
    assert not explorer.frozen and not explorer.run_button.disabled
    assert list(overview.searches) == [4, 5, 6]
    assert all(s.state == "finished" and s.queries == 40 for s in overview.searches.values())
    for unit, cell in overview.cells.items():
        assert png_size(cell.image.value) == (28, 28) and 'width="140"' in cell.image.value
        assert f"<b>unit {unit}</b> · best {overview.searches[unit].history.best_value:.3f}" in cell.caption.value
        assert cell.button.description == f"open unit {unit}"
    overview.sort.value = "activation"
    best = overview.activations()
    shown = [next(u for u, c in overview.cells.items() if c.box is box) for box in overview.grid.children]
    assert shown == sorted(best, key=lambda u: -best[u])
    overview.cells[5].button.click()
    assert app.tabs.selected_index == 0 and explorer.picker.target == "conv2:5"
    assert list(explorer.searches.values()) == [overview.searches[5]]  # the overview's MEI, not the old run's
    assert explorer.figure.layout.title.text.startswith("conv2:5 of untrained demo SNN (random weights) (from the layer overview)")
    assert [t["name"] for t in drawn(explorer.figure)] == ["Random search: each query", "Random search: best so far"]
    assert len(drawn(explorer.figure)[0]["y"]) == 40


def test_overview_clips_units_to_the_layer_and_rejects_a_bad_first_unit(models):
    generator, networks = models
    overview = LayerOverview(generator, networks, method="random", budget=10, count=8, threads=1)
    overview.picker.select(layer="output")
    overview.first_box.value = 8
    assert overview.units() == [8, 9]
    overview.first_box.value = 10
    assert overview.run() is False
    assert "first unit 10 is out of range" in overview.error_html.value


def test_live_run_notices_a_search_that_ends_without_events(models):
    generator, networks = models
    writes = []
    live = LiveRun(lambda changed, final: writes.append((len(changed), final)), min_interval=0.01, poll=0.05)
    search = Search(Objective(generator, next(iter(networks.values())), "conv1:0"), "random", budget=30, threads=1)
    live.start([search])  # no callback registered: the writer polls the search instead
    assert live.wait(WAIT_S)
    assert writes[-1] == (1, True) and search.state == "finished"


@pytest.mark.slow
def test_app_notebook_runs(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    from mango_widgets.widgets.app import _parser, notebook_path, voila_argv

    notebook = nbformat.read(notebook_path(), as_version=4)
    assert sum(len(cell.source.splitlines()) for cell in notebook.cells if cell.cell_type == "code") <= 10
    env_before = os.environ.get("MANGO_FAST")
    os.environ["MANGO_FAST"] = "1"
    try:
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("MANGO_FAST")
        else:
            os.environ["MANGO_FAST"] = env_before
    outputs = notebook.cells[-1].outputs
    assert any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in outputs), outputs
    argv = voila_argv(_parser().parse_args(["--port", "9999", "--no-browser"]))
    assert argv[0].endswith("mango_app.ipynb") and "--port=9999" in argv and "--no-browser" in argv
    assert "--Voila.ip=127.0.0.1" in argv and "--preheat_kernel=True" in argv and "--pool_size=1" in argv
    assert "--MappingKernelManager.cull_idle_timeout=300" in argv and "--MappingKernelManager.cull_connected=False" in argv
    bare = voila_argv(_parser().parse_args(["--preheat", "0", "--cull-after", "0"]))
    assert not any("preheat" in a or "cull" in a for a in bare)


# ------------------------------------------------------------------ built on a model source
@pytest.fixture
def checkpoint_source(tmp_path):
    """A user's model family: the tiny snnTorch net at two epochs (silent at epoch 1) and a tiny generator."""
    from mango_widgets.models.source import CheckpointSource

    return CheckpointSource.from_files(tm.snntorch_step_net, tm.save_two_epochs(tmp_path), tm.tiny_generator, name="tiny",
                                       T=10, input_shape=(1, 2, 2))


def test_widgets_take_their_networks_layers_and_generator_from_a_model_source(checkpoint_source):
    explorer = MEIExplorer.from_source(checkpoint_source, methods=("random",), budget=40, threads=1,
                                       update_seconds=0.05, min_interval=0.05)
    assert explorer.picker.network_dropdown.options == ("tiny, epoch 2", "tiny, epoch 1")  # every checkpoint, last first
    units = checkpoint_source.layer_units()
    options = explorer.picker.layer_dropdown.options
    assert [value for _, value in options] == [*units, "output"]
    expected = [f"{name}  ({count} units" for name, count in units.items()]  # each with the source's unit count
    assert [label[: len(prefix)] for (label, _), prefix in zip(options, expected)] == expected
    assert explorer.generator.grid.d == 6 and explorer.generator.grid.n == 16  # the source's generator
    best = {}
    for label in ("tiny, epoch 1", "tiny, epoch 2"):  # each epoch's own weights: silent at epoch 1
        explorer.select(network=label, layer="lif", unit=1)
        assert explorer.run() and explorer.wait(WAIT_S)
        search = explorer.searches["random"]
        assert search.state == "finished" and search.objective.network.T == 10
        best[label] = search.history.best_value
    assert best["tiny, epoch 1"] == 0 < best["tiny, epoch 2"]
    assert MEIExplorer.from_source(checkpoint_source, epoch=1, T=7).picker.network.T == 7
    assert LayerOverview.from_source(checkpoint_source, epoch=1).picker.network_dropdown.options == ("tiny, epoch 1",)


def test_the_app_on_a_model_source_shares_each_checkpoint_between_its_tabs(checkpoint_source):
    app = MangoApp.from_source(checkpoint_source, accuracy={1: 0.1, 2: 0.9}, warm=False,
                               explorer=dict(methods=("random",), threads=1))
    assert app.tabs.titles == ("MEI explorer", "Layer overview", "Epochs")  # two checkpoints: an epoch tab
    study = app.epoch_tab.study
    assert study.labels == {1: "tiny, epoch 1", 2: "tiny, epoch 2"} and study.accuracy == {1: 0.1, 2: 0.9}
    assert study.network_at(2) is app.explorer.networks.get("tiny, epoch 2") is app.overview.picker.network  # built once
    assert app.epoch_tab.track_epochs.value == "1, 2"
    app._open_from_epochs("lif", 1, 1, None)  # a neuron opened from the epoch tab picks that checkpoint
    assert app.explorer.picker.network_dropdown.value == "tiny, epoch 1" and app.explorer.picker.target == "lif:1"
    single = MangoApp.from_source(checkpoint_source, epoch=2, warm=False)
    assert single.tabs.titles == ("MEI explorer", "Layer overview") and single.epoch_tab is None
    assert single.explorer.picker.network_dropdown.options == ("tiny, epoch 2",)


def test_what_is_not_a_model_source_is_refused_with_what_it_lacks(checkpoint_source):
    from mango_widgets.widgets.epoch_tab import EpochTab

    for build in (MEIExplorer.from_source, LayerOverview.from_source, MangoApp.from_source, EpochTab.from_source):
        with pytest.raises(ConfigError, match="dict is not a model source: it lacks name, epochs, default_T, layer_units"):
            build({"network": "tiny"})
    with pytest.raises(ConfigError, match="unknown network 'nope'"):
        MEIExplorer.from_source("nope")
    with pytest.raises(ConfigError, match=r"no checkpoint for epochs \[5\] in 'tiny'; saved epochs are \[1, 2\]"):
        MEIExplorer.from_source(checkpoint_source, epoch=[2, 5])
    with pytest.raises(ConfigError, match="T must be >= 1, got 0; T is the exposure in time steps"):
        MangoApp.from_source(checkpoint_source, T=0)


def test_demo_app_runs_on_the_demo_source_or_says_the_weights_are_missing(tmp_path, monkeypatch):
    from mango_widgets.models.source import DemoModels
    from mango_widgets.widgets import dashboard

    app = dashboard.demo_app(fast=True, warm=False)
    epochs = DemoModels().epochs()
    assert app.epoch_tab.study.labels == {e: f"demo SNN, epoch {e}" for e in epochs}
    assert app.explorer.picker.network_dropdown.value == f"demo SNN, epoch {epochs[-1]}" and "mango-note" not in app.header.value
    monkeypatch.setattr(dashboard, "DemoModels", lambda: DemoModels(directory=str(tmp_path)))  # no weights there
    missing = dashboard.demo_app(fast=True, warm=False)
    assert "Demo weights not found" in missing.header.value and "untrained stand-in models" in missing.header.value
    assert missing.explorer.picker.network_dropdown.options == ("untrained demo SNN (random weights)",)
    assert missing.epoch_tab is None and missing.explorer.generator.name == "untrained-dcgan"


# ------------------------------------------------------------------ epoch tab: stored study and live tracking
@pytest.mark.slow
def test_epoch_tab_tracks_live_saves_each_search_and_resumes(models, tmp_path, monkeypatch):
    from mango_widgets.widgets.epoch_tab import EpochStudy, EpochTab, load_table

    generator, networks = models
    network = next(iter(networks.values()))
    monkeypatch.setenv(START_DIR_ENV, str(tmp_path))
    study = EpochStudy(network_at=lambda epoch: network, labels={1: "net, epoch 1", 2: "net, epoch 2"})
    tab = EpochTab(study, generator, live_budget=10)
    tab.track_layer.value, tab.track_units.value = "lif1", 2
    assert tab.track()
    assert tab.wait(WAIT_S)
    assert tab.error_html.value == "", tab.error_html.value
    folder = tmp_path / "mango_results" / "epoch_tracking" / "lif1"
    assert "tracking finished: 12 records" in tab.track_status.value  # 2 units x 2 epochs x 3 methods
    table = load_table(folder)  # what was computed is on disk, in the explorer's format
    assert len(table) == 12 and set(table["epoch"]) == {1, 2} and set(table["unit"]) == {0, 1}
    assert tab.explorer is not None and len(tab.explorer.results) == 12
    assert tab.explorer.figure.comm is not None  # outside the app the maps open at once
    again = EpochTab(study, generator, live_budget=10)
    again.track_layer.value, again.track_units.value = "lif1", 2
    assert again._tracking().pending() == 0  # a rerun resumes from the saved records
    tab.track_layer.value = "nope"
    assert not tab.track() and "nope" in tab.error_html.value  # an unknown layer is explained, nothing runs
