"""Results on disk: atomic writes, run folders that are checked first and owned, folder locks."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mango_widgets import ConfigError
from mango_widgets.records import atomic
from mango_widgets.records.folder_lock import FolderLock
from mango_widgets.records.run_folder import SEARCH_FILES, check_folder_for_a_run, prepare_folder
from tests.bad_input_cases import read_only_folder


def test_atomic_writes_replace_whole_files_and_leave_no_temporary_behind(tmp_path):
    target = tmp_path / "deep" / "record.json"
    atomic.write_json(target, {"a": 1})
    atomic.write_json(target, {"a": 2, "b": [1, 2]})
    assert json.loads(target.read_text()) == {"a": 2, "b": [1, 2]}
    atomic.write_npz(tmp_path / "arrays.npz", values=np.arange(5.0), skipped=None)
    with np.load(tmp_path / "arrays.npz") as data:
        assert data.files == ["values"] and data["values"].tolist() == [0, 1, 2, 3, 4]
    atomic.write_png(tmp_path / "image.png", np.full((1, 2, 3), 0.5), scale=2)
    from PIL import Image

    assert Image.open(tmp_path / "image.png").size == (6, 4)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.name.startswith(".")) == []


def test_a_write_that_fails_midway_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "history.npz"
    atomic.write_npz(target, values=np.arange(3.0))

    def broken_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_npz(target, values=np.arange(1000.0))
    monkeypatch.undo()
    with np.load(target) as data:
        assert data["values"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["history.npz"]


def test_a_run_folder_is_checked_before_and_owned_by_its_run(tmp_path):
    folder = tmp_path / "run"
    assert prepare_folder(folder) == []
    for name in ("search.json", "mei.png"):
        (folder / name).write_text("earlier run")
    (folder / "notes.txt").write_text("the user's")
    with pytest.raises(ConfigError, match=r"holds a previous run's results \(search.json, mei.png\); pass --overwrite"):
        check_folder_for_a_run(folder)
    with pytest.raises(ConfigError, match="pass --overwrite"):
        prepare_folder(folder)
    assert prepare_folder(folder, overwrite=True) == ["search.json", "mei.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert set(SEARCH_FILES) >= {"search.json", "history.npz", "mei.npz", "mei.png", "curve.png"}


def test_files_and_read_only_folders_are_refused_with_the_fix(tmp_path):
    (tmp_path / "file").write_text("x")
    for check in (prepare_folder, check_folder_for_a_run):
        with pytest.raises(ConfigError, match="is a file; give a folder path"):
            check(tmp_path / "file")
    with read_only_folder(tmp_path) as read_only:  # prepare_folder proves it by writing
        with pytest.raises(ConfigError, match="choose a folder you can write to"):
            prepare_folder(read_only / "inside")


HOLDER = textwrap.dedent("""
    import sys, time
    from mango_widgets.records.folder_lock import FolderLock
    lock = FolderLock(sys.argv[1], what="closed-loop folder", verb="is being served by").acquire()
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin
""")


@pytest.mark.slow
def test_a_folder_lock_is_exclusive_between_processes_and_freed_when_the_holder_dies(tmp_path):
    path = tmp_path / ".driver.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=rf"is being served by pid {holder.pid} on"):
            FolderLock(path, what="closed-loop folder", verb="is being served by").acquire()
    finally:
        holder.kill()  # like kill -9: no clean-up code runs
        holder.wait(timeout=60)
    with FolderLock(path) as lock:
        assert lock.held
        with pytest.raises(ConfigError, match="is in use by"):
            FolderLock(path).acquire()  # a second holder in the same process is refused too
    assert os.path.exists(path)


def test_one_image_encoder_writes_every_png():
    """records.images is the one array -> picture path: values, scaling, colour layout and bad shapes."""
    import io
    from pathlib import Path

    from PIL import Image

    from mango_widgets.records.images import png_bytes, to_pil

    gray = np.array([[[0.0, 0.5, 1.0], [1.2, -0.3, 0.25]]])  # [1, 2, 3], values outside [0, 1] clipped
    picture = Image.open(io.BytesIO(png_bytes(gray, scale=3)))
    assert picture.mode == "L" and picture.size == (9, 6)
    assert np.asarray(picture)[::3, ::3].tolist() == [[0, 128, 255], [255, 0, 64]]
    colour = to_pil(np.stack([gray[0], 1 - np.clip(gray[0], 0, 1), np.zeros((2, 3))]))
    assert colour.mode == "RGB" and np.asarray(colour)[0, 0].tolist() == [0, 255, 0]
    with pytest.raises(ConfigError, match=r"an image must be \[C, H, W\] or \[H, W\], got shape \(1, 1, 2, 3\)"):
        to_pil(gray[None])
    # no other module of the package writes pictures itself (analysis/complexity.py compresses pixels to
    # measure an MEI's complexity: a metric, in a floor that imports nothing of ours)
    package = Path(__file__).resolve().parents[1] / "mango_widgets"
    encoders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                if any(call in path.read_text() for call in ("Image.fromarray(", "imsave("))]
    assert sorted(encoders) == ["analysis/complexity.py", "records/images.py"], encoders


def test_files_are_written_through_the_one_atomic_writer():
    """Package code writes files with records.atomic (a kill mid-write never leaves half a file); the
    exceptions write into a temporary place that is renamed or thrown away as a whole."""
    from pathlib import Path

    allowed = {
        "records/atomic.py": "the writer itself",
        "studies/closed_loop/file_adapter.py": "stimuli go into a staging folder that appears by one rename",
        "studies/closed_loop/example_client.py": "the example lab client writes NAME.tmp and renames it",
        "models/architectures/ann.py": "renamed legacy keys in a temporary folder",
    }
    import ast

    def writes_files(source: str) -> bool:
        calls = (node.func for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call))
        return any(isinstance(f, ast.Attribute) and (f.attr in ("write_text", "write_bytes")
                   or (isinstance(f.value, ast.Name) and (f.value.id, f.attr) in (("torch", "save"), ("json", "dump"))))
                   for f in calls)

    package = Path(__file__).resolve().parents[1] / "mango_widgets"
    writers = sorted(str(path.relative_to(package)) for path in package.rglob("*.py") if writes_files(path.read_text()))
    assert writers == sorted(allowed), writers
