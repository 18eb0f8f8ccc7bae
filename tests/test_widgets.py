"""The widgets driven through their Python API, without a browser.

Runs on untrained stand-ins of the demo architectures (random weights, fixed seed), so it
does not depend on the bundled demo weights; every search uses one torch thread.
"""
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

from PIL import Image  # noqa: E402

from mango_widgets import ConfigError, Generator, LatentGrid, Objective, Search  # noqa: E402
from mango_widgets.records.export import GIF_NAME, export_search, improvements, save_progress_gif  # noqa: E402
from mango_widgets.widgets import LayerOverview, LiveRun, MangoApp, MEIExplorer, stand_in_models  # noqa: E402
from mango_widgets.widgets.images import blank_png  # noqa: E402

WAIT_S = 120  # bound on every wait for a run


@pytest.fixture(scope="module")
def models():
    return stand_in_models()


def make_explorer(models, **kwargs):
    generator, networks = models
    options = dict(methods=("random",), budget=150, threads=1, update_seconds=0.05, min_interval=0.05)
    options.update(kwargs)
    return MEIExplorer(generator, networks, **options)


def test_layer_picker_lists_dotted_names_with_unit_counts(models):
    explorer = make_explorer(models)
    labels = [label for label, _ in explorer.picker.layer_dropdown.options]
    assert "lif3  (64 units, spiking)" in labels and "fc1  (128 units, Linear)" in labels
    assert labels[-1] == "output classes  (10)"
    assert explorer.picker.layer == "lif3"  # the preferred default layer
    explorer.select(layer="lif1", unit=15)
    assert explorer.picker.target == "lif1:15"
    assert explorer.picker.unit_box.max == 15
    explorer.select(layer="output", unit=9)
    assert explorer.picker.target == "class:9"
    with pytest.raises(ConfigError, match=r"unit 10 is out of range.*0\.\.9"):
        explorer.select(unit=10)
    with pytest.raises(ConfigError, match="unknown layer 'nope'"):
        explorer.select(layer="nope")


def test_run_races_two_methods_and_fills_curve_images_and_status(models):
    explorer = make_explorer(models, methods=("random", "protes"), budget=150)
    explorer.select(layer="conv1", unit=2)  # an analog layer: continuous activations
    explorer.run_button.click()
    try:
        assert explorer.running
        assert explorer.run_button.disabled and explorer.picker.layer_dropdown.disabled and explorer.budget_box.disabled
        assert not explorer.stop_button.disabled
        assert explorer.wait(WAIT_S), "the run did not end in time"
    finally:
        explorer.stop()
    assert not explorer.running and not explorer.run_button.disabled and not explorer.export_button.disabled
    assert [s.state for s in explorer.searches.values()] == ["finished", "finished"]
    assert [s.threads for s in explorer.searches.values()] == [1, 1]
    data = explorer.figure.data
    assert [trace.name for trace in data] == ["random queries", "random", "protes queries", "protes"]
    for i, search in enumerate(explorer.searches.values()):
        raw, best = data[2 * i], data[2 * i + 1]
        assert np.array_equal(raw.y, search.history.values)  # every query is on the curve
        assert len(best.x) >= 2 and best.x[-1] == 150 and best.y[-1] == pytest.approx(search.history.best_value)
        assert np.all(np.diff(best.y) >= 0)
    for name, image in explorer.mei_images.items():
        assert image.value != blank_png(140), f"the MEI image of {name} never changed"
        assert Image.open(io.BytesIO(image.value)).size == (140, 140)
    for grid in explorer.candidate_grids.values():
        assert grid.value.count("<img") == 8
    status = explorer.status_html.value
    assert "random</b> finished · 150/150 queries" in status and "protes</b> finished" in status
    assert "q/s" in status and "best" in status
    assert explorer.error_html.value == ""
    assert "conv1:2" in explorer.figure.layout.title.text


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
    search = explorer.searches["random"]
    deadline = time.monotonic() + WAIT_S
    while search.queries < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    start = time.perf_counter()
    explorer.stop_button.click()
    assert search.wait(10), "stop did not take effect"
    latency = time.perf_counter() - start
    assert explorer.wait(10)
    assert search.state == "stopped" and 0 < search.queries < 100_000
    assert latency < 5
    assert "stopped" in explorer.status_html.value
    assert len(explorer.figure.data[0].y) == search.queries  # the partial run is on the curve
    assert not explorer.running and explorer.stop_button.disabled


def test_sequential_run_starts_the_next_method_after_the_first(models):
    explorer = make_explorer(models, methods=("random", "oneplusone"), budget=60, concurrent=False)
    explorer.run()
    assert explorer.wait(WAIT_S)
    first, second = explorer.searches.values()
    assert first.state == second.state == "finished"
    assert first.threads == 1  # as given: one search at a time keeps its thread setting


def test_stop_in_a_sequential_run_never_starts_the_rest(models):
    explorer = make_explorer(models, methods=("random", "oneplusone"), budget=100_000, concurrent=False)
    explorer.run()
    explorer.stop()
    assert explorer.wait(WAIT_S)
    first, second = explorer.searches.values()
    assert first.state == "stopped" and second.state == "ready"
    assert "oneplusone</b> not run" in explorer.status_html.value


def test_bad_budget_shows_the_same_message_as_the_api(models):
    explorer = make_explorer(models)
    explorer.budget_box.value = 0
    generator, networks = models
    with pytest.raises(ConfigError) as api_error:
        Search(Objective(generator, next(iter(networks.values())), "lif3:0"), "random", budget=0)
    explorer.run_button.click()
    assert not explorer.running and explorer.searches == {}
    assert str(api_error.value) in explorer.error_html.value
    assert "budget must be a positive number of queries, got 0" in explorer.error_html.value
    explorer.method_select.value = ()
    explorer.budget_box.value = 10
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


def test_export_button_writes_results_and_a_multi_frame_gif(models, tmp_path):
    explorer = make_explorer(models, methods=("random", "tt"), budget=200)
    explorer.select(layer="conv1", unit=0)
    explorer.run()
    assert explorer.wait(WAIT_S)
    explorer.export_folder.value = str(tmp_path)
    explorer.export_button.click()
    assert explorer.error_html.value == ""
    assert set(explorer.last_export) == {"random", "tt"}
    for name, folder in explorer.last_export.items():
        assert Path(folder).parent.parent == tmp_path
        files = {p.name for p in Path(folder).iterdir()}
        assert {"search.json", "history.npz", "mei.npz", "mei.png", GIF_NAME} <= files
        gif = Image.open(Path(folder) / GIF_NAME)
        steps = len(improvements(explorer.searches[name].history.values))
        assert gif.n_frames == min(steps, 60) >= 2
    assert "download .zip" in explorer.export_html.value


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


def test_overview_fills_a_grid_and_clicking_a_unit_opens_it_in_the_explorer(models):
    generator, networks = models
    app = MangoApp(
        generator, networks,
        explorer=dict(methods=("random",), budget=50, threads=1),
        overview=dict(method="random", budget=40, count=3, threads=1, update_seconds=0.05, min_interval=0.05),
    )
    overview, explorer = app.overview, app.explorer
    overview.picker.select(layer="conv2")
    overview.first_box.value = 4
    app.tabs.selected_index = 1
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
        assert cell.image.value != blank_png(84)
        assert cell.button.description == f"unit {unit} · {overview.searches[unit].history.best_value:.3f}"
    assert "3/3 units of conv2 done" in overview.status_html.value
    overview.cells[5].button.click()
    assert explorer.picker.target == "conv2:5" and app.tabs.selected_index == 0


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
    assert "--Voila.ip=127.0.0.1" in argv


def test_a_display_bug_is_shown_and_still_unfreezes_the_controls(models, monkeypatch):
    explorer = make_explorer(models, budget=40)

    def broken(changed):
        raise RuntimeError("formatting exploded")

    monkeypatch.setattr(explorer, "_write_progress", broken)
    explorer.run()
    assert explorer.wait(WAIT_S)
    assert not explorer.running and not explorer.run_button.disabled
    assert "could not update the display: RuntimeError: formatting exploded" in explorer.error_html.value
    assert explorer.searches["random"].state == "finished"
