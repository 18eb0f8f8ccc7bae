"""Sweeps on a real Dask local cluster (2 worker processes), kill -9 and resume, retries, the CLI."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from mango_widgets.cli import main as mango  # noqa: E402
from mango_widgets.engine import DemoModels, ResultStore, Sweep, load_results  # noqa: E402
from mango_widgets.engine.worker import PLUGIN_NAME  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as cluster:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            yield client


@dataclass(frozen=True)
class FlakyDemo(DemoModels):
    """The demo models, except that checkpoint ``broken_epoch`` fails to load until ``repaired`` exists."""

    name: str = "flaky-demo"
    broken_epoch: int = 1
    repaired: str = ""

    def network(self, epoch, T):
        if epoch == self.broken_epoch and not os.path.exists(self.repaired):
            raise RuntimeError(f"checkpoint {epoch} is unreadable")
        return super().network(epoch, T)


def test_a_sweep_runs_on_two_workers_and_reuses_their_models(tmp_path, client):
    events = []
    sweep = Sweep(layers=["lif1"], units="0-1", epochs=[1, 12], methods=["random", "tt-s"], budget=40, store=tmp_path / "s")
    report = sweep.run(client=client, progress=events.append)
    assert report.state == "finished" and report.done == 8 and report.failed == 0 and report.skipped == 0
    frame = load_results(tmp_path / "s")
    assert len(frame) == 8 and set(frame["status"]) == {"done"}
    assert sorted(frame["key"]) == sorted(cell.key for cell in sweep.cells())
    assert frame["worker"].nunique() == 2  # both workers took cells
    for row in frame.itertuples():  # each stored best is the maximum of its stored history
        assert row.best == pytest.approx(np.load(row.history_file)["values"].max())
        assert Path(row.mei_png).is_file()
    # each worker built each checkpoint and the generator at most once, whatever number of cells it ran
    loads = client.run(lambda dask_worker: dask_worker.plugins[PLUGIN_NAME].cache.loads)
    assert all(1 <= count <= 3 for count in loads.values()) and sum(loads.values()) < 8
    # progress: one start event, one per cell, one final; leaders hold the best per layer and method
    assert [e.state for e in events][0] == "starting" and events[-1].state == "finished"
    assert [e.finished for e in events if e.cell is not None] == list(range(1, 9))
    leaders = {(leader.layer, leader.method): leader.best for leader in events[-1].leaders}
    assert leaders[("lif1", "random")] == pytest.approx(frame.loc[frame["method"] == "random", "best"].max())
    # running again computes nothing
    again = sweep.run(client=client, progress=None)
    assert again.done == 0 and again.skipped == 8
    assert load_results(tmp_path / "s")["finished"].tolist() == frame["finished"].tolist()


def test_failed_cells_are_recorded_skipped_and_retried(tmp_path, client):
    source = FlakyDemo(repaired=str(tmp_path / "repaired"))
    sweep = Sweep(layers=["lif2"], units=[3], epochs=[1, 12], methods=["random"], budget=30, network=source, store=tmp_path / "s")
    report = sweep.run(client=client, progress=None)
    assert report.done == 1 and report.failed == 1
    failed = load_results(tmp_path / "s", status="failed")
    assert list(failed["epoch"]) == [1] and "checkpoint 1 is unreadable" in failed.iloc[0]["error"]
    assert sweep.run(client=client, progress=None).skipped == 2  # failures are not rerun unless asked
    (tmp_path / "repaired").touch()
    retry = sweep.run(client=client, progress=None, retry_failed=True)
    assert retry.done == 1 and retry.skipped == 1
    frame = load_results(tmp_path / "s")
    assert set(frame["status"]) == {"done"} and frame.set_index("epoch").loc[1, "attempts"] == 2


def _rows(database):
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT key, status, finished, run_id FROM cells").fetchall()
    except sqlite3.OperationalError:  # the sweep is still creating the store
        return []
    finally:
        connection.close()


def test_kill_9_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path):
    store = tmp_path / "s"
    args = ["--layers", "lif1", "--units", "0-15", "--epochs", "1,12", "--methods", "random", "--budget", "30",
            "--store", str(store), "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "mango_widgets.cli.sweep", *args], cwd=tmp_path, env=env,
                               start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    database = store / "results.sqlite"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if database.exists() and sum(status == "done" for _, status, _, _ in _rows(database)) >= 3:
                break
            time.sleep(0.05)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the driver, its Dask scheduler, nannies and workers
        except ProcessLookupError:  # it ended by itself: the assertion below shows its output
            pass
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert process.returncode == -signal.SIGKILL, output
    before = {key: (status, finished, run_id) for key, status, finished, run_id in _rows(database)}
    assert 3 <= len(before) < 32, "the kill must land mid-sweep"
    print(f"killed with {len(before)} of 32 cells stored")

    connection = sqlite3.connect(database)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("SELECT COUNT(*) FROM (SELECT key FROM cells GROUP BY key HAVING COUNT(*) > 1)").fetchone()[0] == 0
    connection.close()
    for row in load_results(store).itertuples():  # no record points at a missing or partial file
        assert np.load(row.history_file)["values"].shape == (30,) and np.load(row.mei_file)["image"].shape == (1, 28, 28)

    assert mango(["sweep", *args]) == 0  # resume in this process
    after = {key: (status, finished, run_id) for key, status, finished, run_id in _rows(database)}
    assert len(after) == 32 and {status for status, _, _ in after.values()} == {"done"}
    assert sorted(after) == sorted(c.key for c in Sweep(layers=["lif1"], units="0-15", epochs=[1, 12], methods=["random"],
                                                          budget=30, store=store).cells())
    for key, (status, finished, run_id) in before.items():  # finished cells were not recomputed
        if status == "done":
            assert after[key] == (status, finished, run_id)
    runs = ResultStore(store).runs()
    assert list(runs["state"]) == ["interrupted", "finished"]


def test_cli_resume_dry_run_and_status(tmp_path, capsys):
    store = str(tmp_path / "s")
    assert mango(["sweep", "--layers", "lif1", "--units", "0-1", "--epochs", "last", "--methods", "random", "--budget", "30",
                  "--store", store, "--inline", "--no-progress"]) == 0
    assert "2 cells done" in capsys.readouterr().out
    assert mango(["sweep", "--store", store, "--resume", "--dry-run"]) == 0
    assert "2 cells, 0 to run, 2 already in" in capsys.readouterr().out
    assert mango(["sweep", "--store", store, "--status"]) == 0
    assert "2 done, 0 failed; database check: ok" in capsys.readouterr().out
    assert mango(["sweep", "--layers", "lif2", "--units", "0-3", "--store", str(tmp_path / "new"), "--dry-run"]) == 0
    assert "48 cells, 48 to run" in capsys.readouterr().out and not (tmp_path / "new").exists()
    assert mango(["sweep", "--layers", "lif7", "--store", store, "--dry-run"]) == 2
    assert "unknown layer 'lif7'" in capsys.readouterr().err
    assert mango(["sweep", "--store", str(tmp_path / "empty"), "--resume"]) == 2
    assert "no result store" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        mango(["sweep", "--help"])
    assert exit_info.value.code == 0 and "--retry-failed" in capsys.readouterr().out


def test_a_background_run_stops_on_request_and_keeps_what_finished(tmp_path):
    sweep = Sweep(layers=["lif1"], units="0-5", epochs="last", methods=["random"], budget=30, store=tmp_path / "s")
    holder = []

    def stop_after_two(event):
        if event.done == 2:
            holder[0].stop()

    holder.append(sweep.start(client="inline", progress=None, callbacks=[stop_after_two]))
    run = holder[0]
    assert run.wait(120) and run.error is None
    assert run.report.state == "stopped" and run.report.done == 2
    assert len(load_results(tmp_path / "s")) == 2
    assert ResultStore(tmp_path / "s").runs()["state"].tolist() == ["stopped"]
    rest = sweep.run(client="inline", progress=None)
    assert rest.done == 4 and rest.skipped == 2 and rest.state == "finished"


def test_progress_widget_shows_counts_and_best_activations(tmp_path):
    pytest.importorskip("ipywidgets")
    from mango_widgets.widgets.sweep_progress import SweepProgress

    widget = SweepProgress(min_interval=0)
    sweep = Sweep(layers=["lif1", "lif2"], units=[0], epochs="last", methods=["random"], budget=30, store=tmp_path / "s")
    sweep.run(client="inline", progress=widget.observe_event)
    frame = load_results(tmp_path / "s")
    assert widget.bar.value == widget.bar.max == 2 and widget.bar.bar_style == "success"
    assert widget.counts.value.startswith("finished: 2 done, 0 failed of 2")
    for row in frame.itertuples():
        assert f"{row.best:.3f} <small>({row.target} @ epoch 12)" in widget.leaders.value
