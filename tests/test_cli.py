"""The `mango` command line on the demo models."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mango_widgets.cli import main


def test_layers_lists_dotted_names_with_unit_counts(capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    for line in ("lif1", "lif2", "lif3", "lif4", "lif_out"):
        assert line in out
    assert "128 units" in out
    assert "time mode step" in out and "(step: one call ran each neuron layer once" in out  # the mode and why


@pytest.mark.slow
def test_search_writes_open_format_results(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["search", "--layer", "lif2", "--unit", "3", "--method", "random", "--budget", "60", "--out", str(out)]) == 0
    record = json.loads((out / "search.json").read_text())
    assert record["state"] == "finished" and record["summary"]["queries"] == 60
    assert record["config"]["target"] == "lif2:3" and record["config"]["method"] == "random"
    with np.load(out / "history.npz") as history:
        assert history["indices"].shape == (60, 128) and history["values"].shape == (60,)
        assert history["values"].max() == record["best"]
    assert Image.open(out / "mei.png").size == (224, 224)
    assert Image.open(out / "curve.png").size[0] > 0


def test_bad_input_exits_2_with_a_helpful_message(tmp_path, capsys):
    assert main(["search", "--layer", "lif9", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown layer 'lif9'" in err and "lif3" in err
    assert main(["search", "--unit", "64", "--out", str(tmp_path)]) == 2
    assert "0..63" in capsys.readouterr().err
    assert main(["search", "--method", "sgd", "--out", str(tmp_path)]) == 2
    assert "portfolio" in capsys.readouterr().err
    assert main(["search", "--budget", "0", "--out", str(tmp_path)]) == 2
    assert "budget must be a positive" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_is_installed():
    result = subprocess.run([str(Path(sys.executable).parent / "mango"), "methods"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "tt-b" in result.stdout


def test_pass_through_subcommands_reach_their_own_parsers(capsys):
    import pytest

    for command in ("train", "train-demo", "app"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage" in capsys.readouterr().out.lower()
