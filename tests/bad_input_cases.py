"""Every bad input and fault from the reliability review, as cases that ``tests/test_bad_inputs.py``
walks and ``benchmarks/bad_inputs.py`` counts.

A case is the input (a call on a fresh temporary folder), what must come of it, and a phrase of
the message that names the fix:

* ``error``: the call raises ``error`` (a ``CommandFailed`` for the command line: exit status 2)
  whose message contains ``phrase``;
* ``report``: the call goes on, but writes a report containing ``phrase`` where the user reads it
  (e.g. the reasons for rejected answers next to the client's files); the call returns that text;
* ``works``: documented behaviour (the call checks it and returns normally);
* ``kept``: a fault (a kill, SIGTERM, a crash mid-save) after which nothing computed is lost;
  the call raises ``DataLost`` if something was.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from mango_widgets import ConfigError, Generator, LatentGrid, ModelOutputError, Network, Objective, Search, WeightsError
from tests import tiny_models as tm

ROOT = Path(__file__).resolve().parents[1]
GRID = LatentGrid(d=4, n=8)
#: generous limit for waiting on another process's event (a loaded 2-core CI machine)
PATIENCE = 300.0


class CommandFailed(Exception):
    """A ``mango`` command that exited with a non-zero status; the message is what it printed."""

    def __init__(self, code: int, output: str):
        super().__init__(output)
        self.code = code


class DataLost(AssertionError):
    """Something a run had computed (or written before) is gone after a fault."""


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Path], Optional[str]]
    expect: str  # "error" | "report" | "works" | "kept"
    error: type = ConfigError
    phrase: str = ""


# ------------------------------------------------------------------ helpers
def cli(*argv) -> str:
    """Run ``mango ARGV`` in this process; its stdout, or CommandFailed with its stderr."""
    from mango_widgets.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's own refusals
            code = exit_.code
    if code:
        raise CommandFailed(code, err.getvalue() + out.getvalue())
    return out.getvalue()


def tiny_objective(target="lif:1", **network_options) -> Objective:
    generator = Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    return Objective(generator, Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=5, **network_options), target)


@contextlib.contextmanager
def read_only_folder(tmp: Path):
    """A folder this process cannot write, whoever runs the tests: chmod for users, the immutable
    attribute for root, else a path inside sysfs (which refuses new entries)."""
    folder = tmp / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if _writable(folder):
        folder.chmod(0o755)
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0 and not _writable(folder)
        if not immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
            folder = Path("/sys/mango-read-only-test")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        if folder.is_relative_to(tmp):
            folder.chmod(0o755)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
        (folder / ".probe").unlink()
        return True
    except OSError:
        return False


def wait_for(condition, what: str, timeout: float = PATIENCE, process=None):
    """Poll ``condition`` until it holds (an event in another process), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended (status {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def mango_process(*argv, **env) -> subprocess.Popen:
    environment = {**os.environ, "MANGO_THREADS": "1", **env}
    command = [sys.executable, "-c", "import sys; from mango_widgets.cli import main; sys.exit(main())", *map(str, argv)]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def demo_closed_loop_session(folder: Path, **settings):
    from mango_widgets.models.bundled import demo_generator
    from mango_widgets.studies.closed_loop.file_adapter import open_session

    session = open_session(folder, demo_generator(), **settings)
    session.close()


# ------------------------------------------------------------------ core inputs
def nevergrad_by_name(tmp):
    search = Search(tiny_objective(), "nevergrad", optimizer="CMA", budget=30, threads=1).run()
    assert search.optimizer._ng.name.startswith("CMA") or "CMA" in type(search.optimizer._ng).__name__
    assert search.state == "finished" and len(search.history) == 30
    other = Search(tiny_objective(), "nevergrad", optimizer_params={"optimizer": "OnePlusOne"}, budget=10, threads=1)
    assert "OnePlusOne" in type(other.optimizer._ng).__name__ or other.optimizer._ng.name == "OnePlusOne"


def complex_generator(tmp):
    model = lambda z: torch.complex(tm.test_image(z.shape[0]), torch.ones(z.shape[0], 1, 2, 2))  # noqa: E731
    Generator(model, GRID)(np.zeros((1, GRID.d), dtype=np.int64))


def class_target_on_a_feature_map(tmp):
    features = nn.Sequential(nn.Conv2d(1, 16, 3))  # [B, 16, 13, 13]: 2,704 values per image, not classes
    generator = Generator(lambda z: torch.rand(z.shape[0], 1, 15, 15), GRID)
    Objective(generator, Network(features, input_shape=(1, 15, 15)), "class:2000")


def input_shape_does_not_fit(tmp):
    Network(tm.cnn(), input_shape=(3, 32, 32))


def empty_checkpoint(tmp):
    from mango_widgets.models.checkpoints import load_state_dict

    (tmp / "empty.pt").touch()
    load_state_dict(nn.Linear(1, 1), tmp / "empty.pt")


def truncated_checkpoint(tmp):
    from mango_widgets.models.checkpoints import load_state_dict

    torch.save(nn.Linear(30, 30).state_dict(), tmp / "full.pt")
    (tmp / "cut.pt").write_bytes((tmp / "full.pt").read_bytes()[:600])
    load_state_dict(nn.Linear(30, 30), tmp / "cut.pt")


def malicious_manifest(tmp):
    """The issue's attack: the manifest names subprocess.call with arguments that write a file."""
    from mango_widgets.models.bundled import demo_network, weights_dir

    folder = tmp / "weights"
    shutil.copytree(weights_dir(), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    marker = tmp / "pwned"
    manifest["snn"]["builder"] = "subprocess:call"
    manifest["snn"]["kwargs"] = {"args": f"touch {marker}", "shell": True}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    try:
        demo_network(directory=str(folder))
    finally:
        if marker.exists():
            raise DataLost("the manifest's builder ran a command")


def answers(tmp, entries, name="responses.json", valid=3):
    """Serve one batch through a FileAdapter; answer ``valid`` stimuli well plus ``entries`` (id -> raw);
    return the reasons written for the client (checking the valid answers were used)."""
    import warnings

    from mango_widgets.studies.closed_loop import ClosedLoopSession, FileAdapter

    generator = Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    session = ClosedLoopSession(generator, "random", budget=10, batch_size=5)
    with FileAdapter(session, tmp / "exchange") as adapter:
        adapter.step()
        ids = session.outstanding
        records = [{"id": i, "response": 0.5} for i in ids[:valid]] + [{"id": i, "response": r} for i, r in entries(ids)]
        (tmp / "exchange" / "inbox" / name).write_text(json.dumps(records))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter.step()
    assert session.summary()["answered"] == valid, "the valid answers of the file were not used"
    reasons = tmp / "exchange" / "inbox" / "rejected" / f"{name}.error.txt"
    return reasons.read_text() if reasons.exists() else None


def upper_case_answer_file(tmp):
    from mango_widgets.studies.closed_loop import ClosedLoopSession, FileAdapter

    generator = Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))
    session = ClosedLoopSession(generator, "random", budget=10, batch_size=5)
    with FileAdapter(session, tmp) as adapter:
        adapter.step()
        (tmp / "inbox" / "RESPONSES.JSON").write_text(json.dumps({"responses": {str(i): 1.0 for i in session.outstanding}}))
        adapter.step()
    assert session.summary()["answered"] == 5, "an upper-case .JSON answer file was ignored"


def tell_float_id(tmp):
    from mango_widgets.studies.closed_loop import ClosedLoopSession

    session = ClosedLoopSession(Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2)), "random", budget=10)
    session.ask()
    session.tell([1.7], [3.0])


def tell_boolean_response(tmp):
    from mango_widgets.studies.closed_loop import ClosedLoopSession

    session = ClosedLoopSession(Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2)), "random", budget=10)
    batch = session.ask()
    session.tell(batch.ids[:1], [True])


# ------------------------------------------------------------------ faults
def crash_during_save(tmp):
    """A save cut short (here: the rename never happens) leaves the previous save whole."""
    from mango_widgets.records import atomic
    from mango_widgets.records.results import load_search, save_search

    search = Search(tiny_objective(), "random", budget=40, threads=1).run()
    save_search(search, tmp)
    before = load_search(tmp)
    more = Search(tiny_objective(), "random", budget=80, seed=1, threads=1).run()
    original = atomic.os.replace

    def crash(*args):
        raise KeyboardInterrupt("killed mid-save")

    atomic.os.replace = crash
    try:
        save_search(more, tmp)
    except KeyboardInterrupt:
        pass
    finally:
        atomic.os.replace = original
    after = load_search(tmp)
    before_values, after_values = before["arrays"]["history_values"], after["arrays"]["history_values"]
    if len(after_values) != len(before_values) or not np.array_equal(after_values, before_values):
        raise DataLost("the previous history was damaged by a save that did not complete")


def kill_during_periodic_saves(tmp):
    """kill -9 at an arbitrary moment while `mango search` saves every 50 ms: the files left are whole."""
    from mango_widgets.records.results import load_search

    out = tmp / "run"
    process = mango_process("search", "--method", "random", "--budget", "100000", "--save-every", "0.05", "--out", out)
    try:
        wait_for(lambda: (out / "search.json").exists() and (out / "history.npz").exists(), "a periodic save", process=process)
        wait_for(lambda: json.loads((out / "search.json").read_text())["queries"] >= 100, "a few saves", process=process)
    finally:
        process.kill()
        process.wait(timeout=60)
    try:
        record = load_search(out)
    except Exception as error:
        raise DataLost(f"a save was left half-written: {type(error).__name__}: {error}") from error
    values = record["arrays"]["history_values"]
    if len(values) < 100 or record["arrays"]["mei_latent"] is None:
        raise DataLost(f"the saved history has {len(values)} queries and no best-so-far MEI")


def sigterm_to_search(tmp):
    """SIGTERM (a batch system's time limit) stops `mango search` like Ctrl-C: history and MEI saved."""
    from mango_widgets.records.results import load_search

    out = tmp / "run"
    process = mango_process("search", "--method", "random", "--budget", "100000", "--save-every", "0.2", "--out", out)
    wait_for(lambda: (out / "search.json").exists(), "the first periodic save", process=process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=PATIENCE)
    record = load_search(out)
    if process.returncode != 130 or record["state"] != "stopped":
        raise DataLost(f"exit {process.returncode}, state {record['state']}: {output[-300:]}")
    values = record["arrays"]["history_values"]
    if record["summary"]["queries"] != len(values) or record["queries"] != len(values):
        raise DataLost("queries made before SIGTERM are missing from history.npz")
    with np.load(out / "mei.npz") as mei:
        saved_index = mei["index"].tolist()
    if saved_index != record["mei_index"] or record["best"] != values.max():
        raise DataLost("the MEI saved after SIGTERM is not the best query")


def sigterm_to_inline_sweep(tmp):
    """SIGTERM stops an --inline sweep: finished cells stay, the interrupted one is not stored as
    failed, and --resume completes the sweep."""
    from mango_widgets.engine.store import ResultStore

    store = tmp / "sweep"
    args = ("sweep", "--layers", "lif1", "--units", "0-7", "--epochs", "last", "--methods", "random", "--budget", "300",
            "--inline", "--no-progress", "--store", store)
    process = mango_process(*args)

    def one_done():
        try:
            return ResultStore(store, create=False).counts().get("done", 0) >= 1
        except ConfigError:
            return False

    wait_for(one_done, "the first finished cell", process=process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=PATIENCE)
    counts = ResultStore(store, create=False).counts()
    if process.returncode != 130 or counts.get("failed", 0) or not 1 <= counts.get("done", 0) < 8:
        raise DataLost(f"after SIGTERM: exit {process.returncode}, cells {counts}: {output[-300:]}")
    cli("sweep", "--store", store, "--resume", "--inline", "--no-progress")
    counts = ResultStore(store, create=False).counts()
    if counts != {"done": 8}:
        raise DataLost(f"resuming did not complete the sweep: {counts}")


def interrupt_inside_an_inline_sweep_cell(tmp):
    """Ctrl-C (or SIGTERM, which the commands turn into it) in the middle of a cell's search: the sweep
    stops, the cell is not stored as failed, and the next run computes it."""
    from mango_widgets.core import objective as objective_module
    from mango_widgets.engine import INLINE, Sweep

    calls = []
    original = objective_module.Objective.__call__

    def interrupted_on_the_fifth_batch(self, indices):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(self, indices)

    sweep = Sweep(layers=["lif1"], units=[0, 1, 2], epochs="last", methods=["random"], budget=75, store=tmp / "store")
    objective_module.Objective.__call__ = interrupted_on_the_fifth_batch
    try:
        report = sweep.run(client=INLINE, progress=None)
    finally:
        objective_module.Objective.__call__ = original
    counts = report.results().status.value_counts().to_dict()
    if report.state != "stopped" or counts != {"done": 1}:
        raise DataLost(f"the interrupted cell was not left for the next run: state {report.state}, cells {counts}")
    again = sweep.run(client=INLINE, progress=None)
    if (again.done, again.failed, again.skipped) != (2, 0, 1):
        raise DataLost(f"the next run did not compute the interrupted cell: {again}")


def out_checked_before_any_query(tmp):
    """`--out` naming a file fails at once: no query is spent (and nothing to lose)."""
    from mango_widgets.core import objective as objective_module

    (tmp / "taken").write_text("a file the user keeps")
    calls = []
    original = objective_module.Objective.__call__

    def counting(self, indices):
        calls.append(len(indices))
        return original(self, indices)

    objective_module.Objective.__call__ = counting
    try:
        cli("search", "--method", "random", "--budget", "50", "--threads", "1", "--out", tmp / "taken")
    except CommandFailed as failure:
        if failure.code != 2 or "is a file" not in str(failure):
            raise
    finally:
        objective_module.Objective.__call__ = original
    if calls or (tmp / "taken").read_text() != "a file the user keeps":
        raise DataLost(f"{sum(calls)} queries were spent (or the file was touched) before --out was checked")


def overwrite_replaces_only_the_run_files(tmp):
    out = tmp / "run"
    cli("search", "--method", "random", "--budget", "30", "--threads", "1", "--out", out)
    (out / "notes.txt").write_text("mine")
    first = json.loads((out / "search.json").read_text())
    text = cli("search", "--method", "random", "--budget", "40", "--seed", "1", "--threads", "1", "--out", out, "--overwrite")
    second = json.loads((out / "search.json").read_text())
    assert "removed the previous run's" in text and second["queries"] == 40 != first["queries"]
    if (out / "notes.txt").read_text() != "mine":
        raise DataLost("--overwrite removed a file the run did not write")


# ------------------------------------------------------------------ the cases
def _demo_search(*extra):
    return lambda tmp: cli("search", "--method", "random", "--budget", "25", "--threads", "1", "--out", tmp / "out", *extra)


def _with_previous_run(tmp):
    cli("search", "--method", "random", "--budget", "25", "--threads", "1", "--out", tmp / "out")
    cli("search", "--method", "random", "--budget", "25", "--threads", "1", "--out", tmp / "out")


def _read_only(command):
    def call(tmp):
        with read_only_folder(tmp) as folder:
            return command(folder / "inside")
    return call


def _garbage_store(tmp, *extra):
    (tmp / "store").mkdir()
    (tmp / "store" / "results.sqlite").write_bytes(b"this is not a database" * 100)
    return cli("sweep", "--store", tmp / "store", *extra)


def _train(tmp, *extra):
    return cli("train", "--model", "conv-snn-mnist", "--dataset", "mnist-subset", "--limit", "16", "--test-limit", "8",
               "--batch-size", "8", "--threads", "1", "--out", tmp / "train", *extra)


def _truncated_resume(tmp):
    from mango_widgets.models import zoo

    network = zoo.make_network("conv-snn-mnist")
    torch.save({"format": 1, "epoch": 1, "models": {"model": network.module.state_dict()}}, tmp / "epoch_001.pt")
    (tmp / "cut.pt").write_bytes((tmp / "epoch_001.pt").read_bytes()[:2000])
    return _train(tmp, "--epochs", "2", "--resume", tmp / "cut.pt")


def _closed_loop_resumed_with(tmp, *changed):
    demo_closed_loop_session(tmp / "folder", optimizer="random", budget=30, seed=0)
    return cli("closed-loop", "--folder", tmp / "folder", *changed, "--timeout", "1")


def _second_driver(tmp):
    from mango_widgets.studies.closed_loop.file_adapter import driver_lock

    with driver_lock(tmp):
        return cli("closed-loop", "--folder", tmp, "--method", "random", "--budget", "20", "--timeout", "1")


def _file(tmp, name="a-file"):
    (tmp / name).write_text("not a folder")
    return tmp / name


CASES = [
    # core inputs: no silent truncation, no raw tracebacks
    Case("grid-n-fraction", lambda tmp: LatentGrid(n=2.5), "error", ConfigError, "points per axis) must be a whole number"),
    Case("grid-d-zero", lambda tmp: LatentGrid(d=0), "error", ConfigError, "must be >= 1"),
    Case("seed-negative", lambda tmp: Search(tiny_objective(), "tt-b", seed=-1), "error", ConfigError, "seeds are whole numbers in 0.."),
    Case("seed-fraction", lambda tmp: Search(tiny_objective(), "random", seed=1.5), "error", ConfigError, "seed must be a whole number"),
    Case("repeats-fraction", lambda tmp: Search(tiny_objective(), "random", repeats=2.7), "error", ConfigError,
         "repeats must be a whole number"),
    Case("threads-zero", lambda tmp: Search(tiny_objective(), "random", threads=0), "error", ConfigError, "threads must be >= 1"),
    Case("T-zero", lambda tmp: Network(tm.cnn(), input_shape=(1, 2, 2), T=0), "error", ConfigError,
         "T (time steps of exposure) must be >= 1"),
    Case("input-shape-does-not-fit", input_shape_does_not_fit, "error", ConfigError, "Pass the shape of one image"),
    Case("generator-complex", complex_generator, "error", ModelOutputError, "must return real-valued images"),
    Case("class-target-not-a-classifier", class_target_on_a_feature_map, "error", ConfigError,
         "a class target needs a classifier output [batch, classes]"),
    Case("nevergrad-optimizer-by-name", nevergrad_by_name, "works"),
    Case("checkpoint-empty", empty_checkpoint, "error", WeightsError, "is empty (0 bytes)"),
    Case("checkpoint-truncated", truncated_checkpoint, "error", WeightsError, "truncated or not a torch checkpoint"),
    Case("manifest-builder-subprocess", malicious_manifest, "error", WeightsError, "unknown builder 'subprocess:call'"),
    # the search command
    Case("search-T-zero", _demo_search("--T", "0"), "error", CommandFailed, "T (time steps of exposure) must be >= 1"),
    Case("search-threads-zero", _demo_search("--threads", "0"), "error", CommandFailed, "threads must be >= 1"),
    Case("search-out-is-a-file", lambda tmp: cli("search", "--out", _file(tmp)), "error", CommandFailed, "is a file; give a folder"),
    Case("search-out-read-only", _read_only(lambda path: cli("search", "--budget", "25", "--out", path)), "error", CommandFailed,
         "choose a folder you can write to"),
    Case("search-out-holds-a-previous-run", _with_previous_run, "error", CommandFailed, "pass --overwrite to replace them"),
    Case("search-save-every-zero", _demo_search("--save-every", "0"), "error", CommandFailed, "--save-every must be"),
    # sweeps
    Case("sweep-store-is-a-file", lambda tmp: cli("sweep", "--layers", "lif1", "--units", "0", "--epochs", "last", "--inline",
                                                  "--store", _file(tmp)), "error", CommandFailed, "is a file"),
    Case("sweep-dry-run-store-is-a-file", lambda tmp: cli("sweep", "--layers", "lif1", "--units", "0", "--epochs", "last",
                                                          "--dry-run", "--store", _file(tmp)), "error", CommandFailed, "is a file"),
    Case("sweep-store-read-only", _read_only(lambda path: cli("sweep", "--layers", "lif1", "--units", "0", "--epochs", "last",
                                                              "--inline", "--store", path)), "error", CommandFailed,
         "choose a folder you can write to"),
    Case("sweep-garbage-database-status", lambda tmp: _garbage_store(tmp, "--status"), "error", CommandFailed,
         "is not a result store database"),
    Case("sweep-garbage-database-resume", lambda tmp: _garbage_store(tmp, "--resume", "--inline"), "error", CommandFailed,
         "Move it away"),
    # training
    Case("train-batch-size-zero", lambda tmp: _train(tmp, "--batch-size", "0"), "error", CommandFailed, "--batch-size must be >= 1"),
    Case("train-lr-nan", lambda tmp: _train(tmp, "--lr", "nan"), "error", CommandFailed, "--lr must be a finite learning rate"),
    Case("train-resume-truncated", _truncated_resume, "error", CommandFailed, "truncated or not a torch checkpoint"),
    # closed loop
    Case("closed-loop-batch-timeout-zero", lambda tmp: cli("closed-loop", "--folder", tmp, "--batch-timeout", "0"), "error",
         CommandFailed, "batch_timeout must be a number of seconds > 0"),
    Case("closed-loop-batch-timeout-negative", lambda tmp: cli("closed-loop", "--folder", tmp, "--batch-timeout", "-3"), "error",
         CommandFailed, "batch_timeout must be a number of seconds > 0"),
    Case("closed-loop-folder-is-a-file", lambda tmp: cli("closed-loop", "--folder", _file(tmp)), "error", CommandFailed, "is a file"),
    Case("closed-loop-folder-read-only", _read_only(lambda path: cli("closed-loop", "--folder", path)), "error", CommandFailed,
         "choose a folder you can write to"),
    Case("closed-loop-second-driver", _second_driver, "error", CommandFailed, "is being served by"),
    Case("closed-loop-resume-other-method", lambda tmp: _closed_loop_resumed_with(tmp, "--method", "tt-b"), "error",
         CommandFailed, "optimizer='tt-b' (the session has 'random')"),
    Case("closed-loop-resume-other-budget", lambda tmp: _closed_loop_resumed_with(tmp, "--budget", "99"), "error",
         CommandFailed, "budget=99 (the session has 30)"),
    Case("answer-float-id", lambda tmp: answers(tmp, lambda ids: [(ids[3] + 0.7, 1.0)]), "report", phrase="is not a whole number"),
    Case("answer-true-response", lambda tmp: answers(tmp, lambda ids: [(ids[3], True)]), "report", phrase="is not a number"),
    Case("answer-padded-text-response", lambda tmp: answers(tmp, lambda ids: [(ids[3], " 7.5 ")]), "report",
         phrase="send a JSON number"),
    Case("answer-unknown-id-among-valid", lambda tmp: answers(tmp, lambda ids: [(999, 1.0)]), "report",
         phrase="unknown stimulus ids [999]"),
    Case("answer-upper-case-suffix", upper_case_answer_file, "works"),
    Case("tell-float-id", tell_float_id, "error", ConfigError, "is not a whole number"),
    Case("tell-boolean-response", tell_boolean_response, "error", ConfigError, "is not a number"),
    # faults: nothing computed is lost
    Case("crash-during-save", crash_during_save, "kept"),
    Case("kill-9-during-periodic-saves", kill_during_periodic_saves, "kept"),
    Case("sigterm-search", sigterm_to_search, "kept"),
    Case("sigterm-inline-sweep", sigterm_to_inline_sweep, "kept"),
    Case("interrupt-inside-inline-sweep-cell", interrupt_inside_an_inline_sweep_cell, "kept"),
    Case("out-checked-before-any-query", out_checked_before_any_query, "kept"),
    Case("overwrite-replaces-only-run-files", overwrite_replaces_only_the_run_files, "kept"),
]


def outcome(case: Case, tmp: Path) -> tuple:
    """(verdict, detail) of one case: verdict is clear, documented, kept, silent, lost or unclear."""
    try:
        result = case.call(tmp)
    except DataLost as error:
        return "lost", str(error)
    except Exception as error:  # noqa: BLE001 - classified below
        text = str(error)
        if case.expect == "error" and isinstance(error, case.error) and case.phrase in text:
            if isinstance(error, CommandFailed) and error.code != 2:
                return "unclear", f"exit status {error.code}: {text[-300:]}"
            return "clear", text.strip().splitlines()[-1][:200]
        if case.expect == "works" and isinstance(error, AssertionError):
            return "silent", text
        return "unclear", f"{type(error).__name__}: {text[-300:]}"
    if case.expect == "error":
        return "silent", f"no error (returned {str(result)[:100]!r})"
    if case.expect == "report":
        return ("clear", result.strip()[:200]) if result and case.phrase in result else ("silent", f"no report ({result!r})")
    return ("documented" if case.expect == "works" else "kept"), ""


__all__ = ["CASES", "Case", "CommandFailed", "DataLost", "cli", "outcome", "read_only_folder", "wait_for"]
