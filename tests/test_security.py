"""No open doors: weights manifests build only known architectures after the hash check,
sweeps listen on 127.0.0.1 only, checkpoints load without pickled code, the app serves localhost."""
import ast
import json
import shutil
from pathlib import Path

import psutil
import pytest

import mango_widgets
from mango_widgets import WeightsError
from mango_widgets.models import bundled
from mango_widgets.models.bundled import demo_network, weights_dir

PACKAGE = Path(mango_widgets.__file__).parent


def copy_weights(tmp_path) -> Path:
    folder = tmp_path / "weights"
    shutil.copytree(weights_dir(), folder)
    return folder


def test_a_manifest_naming_any_importable_builder_runs_nothing(tmp_path):
    folder = copy_weights(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    marker = tmp_path / "pwned"
    manifest["snn"]["builder"] = "subprocess:call"
    manifest["snn"]["kwargs"] = {"args": f"touch {marker}", "shell": True}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match=r"unknown builder 'subprocess:call'.*demo_snn"):
        demo_network(directory=str(folder))
    assert not marker.exists()


def test_hashes_are_checked_before_anything_is_built(tmp_path, monkeypatch):
    folder = copy_weights(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    victim = folder / manifest["snn"]["checkpoints"]["12"]
    victim.write_bytes(victim.read_bytes()[:-10])
    built = []
    name = manifest["snn"]["builder"]
    monkeypatch.setitem(bundled.BUILDERS, name, ("tests.test_security", "spy_builder"))
    monkeypatch.setattr("tests.test_security.BUILT", built, raising=False)
    with pytest.raises(WeightsError, match="corrupt: its sha256 does not match"):
        demo_network(directory=str(folder))
    assert built == []  # the builder was never called for a file that failed its hash
    demo_network(epoch=11, directory=str(folder))  # an intact file of the same folder still builds
    assert built == ["called"]


BUILT = []


def spy_builder(**kwargs):
    from mango_widgets.models.architectures.demo_snn import demo_snn

    BUILT.append("called")
    return demo_snn(**kwargs)


def test_manifest_file_names_cannot_leave_the_weights_folder(tmp_path):
    folder = copy_weights(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["../outside.pt"] = manifest["files"][manifest["snn"]["checkpoints"]["12"]]
    manifest["snn"]["checkpoints"]["12"] = "../outside.pt"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="not a file listed"):
        demo_network(directory=str(folder))


def torch_load_calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
            yield node


def test_every_torch_load_in_the_package_refuses_pickled_code():
    calls = []
    for path in PACKAGE.rglob("*.py"):
        for call in torch_load_calls(ast.parse(path.read_text(), filename=str(path))):
            flags = {k.arg: k.value for k in call.keywords}
            safe = isinstance(flags.get("weights_only"), ast.Constant) and flags["weights_only"].value is True
            calls.append((f"{path.relative_to(PACKAGE)}:{call.lineno}", safe))
    assert len(calls) >= 3  # the walk finds the package's loads (checkpoints, training, torchvision weights)
    assert [where for where, safe in calls if not safe] == []


def test_mango_app_listens_on_localhost_by_default():
    from mango_widgets.widgets.app import _parser, voila_argv

    args = _parser().parse_args([])
    assert args.ip == "127.0.0.1"
    assert "--Voila.ip=127.0.0.1" in voila_argv(args)


@pytest.mark.slow
def test_a_sweep_listens_on_127_0_0_1_only(tmp_path):
    """The dashboard, scheduler and workers of the cluster a sweep starts: read from the OS while it runs."""
    pytest.importorskip("distributed")
    from mango_widgets.engine import Sweep

    seen = []

    def inspect(event):
        if event.state == "running" and not seen:
            me = psutil.Process()
            pids = [me.pid] + [child.pid for child in me.children(recursive=True)]
            seen.extend(mango_widgets.engine.cluster.listening_addresses(pids))

    sweep = Sweep(layers=["lif1"], units=[0], epochs="last", methods=["random"], budget=25, store=tmp_path / "store")
    report = sweep.run(workers=1, progress=None, callbacks=[inspect])
    assert report.state == "finished" and report.done == 1
    assert len(seen) >= 3  # scheduler, dashboard, worker (and its nanny)
    assert {address for address, _port in seen} == {"127.0.0.1"}, seen


def test_sweep_command_defaults_to_a_local_dashboard():
    from mango_widgets.cli.sweep import _parser

    assert _parser().parse_args(["--layers", "lif1"]).dashboard_address == "127.0.0.1:0"
