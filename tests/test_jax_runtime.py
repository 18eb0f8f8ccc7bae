"""XLA CPU tuning for PROTES: applied before jax starts, respects the user, changes no result.

Each case runs in a fresh interpreter: XLA reads its flags once per process.
"""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("protes")

TUNE = ("import json, os; from mango_widgets.runtime.xla_cpu import tune_xla_cpu; "
        "added = tune_xla_cpu(); print(json.dumps([added, os.environ.get('XLA_FLAGS', '')]))")

# TT-b ask/tell rounds on the paper's grid with a fixed, deterministic objective
TRAJECTORY = """
import hashlib, json, os
import numpy as np
from mango_widgets import LatentGrid, make_optimizer
optimizer = make_optimizer("tt-b", LatentGrid(d=128, n=64), seed=3)
target = np.random.default_rng(0).integers(0, 64, 128)
weights = np.random.default_rng(1).random(128)
asked = []
for _ in range(80):
    batch = optimizer.ask()
    asked.append(batch)
    optimizer.tell(batch, -(np.abs(batch - target) * weights).sum(1))
print(json.dumps([hashlib.sha256(np.concatenate(asked).tobytes()).hexdigest(), os.environ.get("XLA_FLAGS", "")]))
"""


def run(code, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "MANGO_XLA_TUNING")}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tuning_adds_both_flags_when_the_user_set_none():
    added, flags = run(TUNE)
    assert added == {"--xla_cpu_use_thunk_runtime": "false", "--xla_cpu_multi_thread_eigen": "false"}
    assert "--xla_cpu_use_thunk_runtime=false" in flags and "--xla_cpu_multi_thread_eigen=false" in flags


def test_a_flag_the_user_set_is_kept_as_set():
    added, flags = run(TUNE, XLA_FLAGS="--xla_cpu_use_thunk_runtime=true")
    assert added == {"--xla_cpu_multi_thread_eigen": "false"}
    assert "--xla_cpu_use_thunk_runtime=true" in flags and "--xla_cpu_use_thunk_runtime=false" not in flags


def test_opt_out_leaves_xla_alone():
    added, flags = run(TUNE, MANGO_XLA_TUNING="0")
    assert added == {} and flags == ""


def test_no_tuning_once_jax_already_runs():
    code = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready(); " + TUNE
    added, flags = run(code)
    assert added == {} and flags == ""


def test_exact_tuning_asks_the_same_points_as_no_tuning():
    exact, exact_flags = run(TRAJECTORY, MANGO_XLA_TUNING="exact")
    default, default_flags = run(TRAJECTORY, MANGO_XLA_TUNING="0")
    assert exact_flags == "--xla_cpu_use_thunk_runtime=false" and default_flags == ""
    assert exact == default


def test_full_tuning_is_deterministic_run_to_run():
    first, flags = run(TRAJECTORY)
    second, _ = run(TRAJECTORY)
    assert "--xla_cpu_multi_thread_eigen=false" in flags
    assert first == second


def test_an_unknown_tuning_setting_is_a_clear_error():
    code = "from mango_widgets.runtime.xla_cpu import tune_xla_cpu; tune_xla_cpu()"
    environment = {**os.environ, "MANGO_XLA_TUNING": "fast"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode != 0 and "MANGO_XLA_TUNING='fast'" in result.stderr and "exact" in result.stderr


def test_the_private_backend_check_still_answers_both_ways():
    """xla_cpu._backend_started reads jax's private xla_bridge: if a jax release moves it, this fails
    (tuning would otherwise be skipped or applied too late without a word)."""
    code = ("import json; from mango_widgets.runtime.xla_cpu import _backend_started; import jax.numpy as jnp; "
            "before = _backend_started(); jnp.zeros(1).block_until_ready(); print(json.dumps([before, _backend_started()]))")
    assert run(code) == [False, True], "jax moved jax._src.xla_bridge._backends: update runtime/xla_cpu._backend_started"


def test_compiled_kernels_are_cached_on_disk_and_give_the_same_points(tmp_path):
    cache = tmp_path / "jax-cache"
    first, _ = run(TRAJECTORY, MANGO_JAX_CACHE=str(cache))
    entries = sorted(p.name for p in cache.iterdir())
    assert any(name.endswith("-cache") for name in entries)  # jax wrote compiled executables
    second, _ = run(TRAJECTORY, MANGO_JAX_CACHE=str(cache))
    assert second == first
    assert sorted(p.name for p in cache.iterdir() if p.name.endswith("-cache")) == [n for n in entries if n.endswith("-cache")]
    off, _ = run(TRAJECTORY, MANGO_JAX_CACHE="0", XDG_CACHE_HOME=str(tmp_path / "home-cache"))
    assert off == first and not (tmp_path / "home-cache" / "mango_widgets").exists()


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    from mango_widgets.runtime.xla_cpu import compilation_cache_dir

    monkeypatch.delenv("MANGO_JAX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compilation_cache_dir() == tmp_path / "mango_widgets" / "jax"
    monkeypatch.setenv("MANGO_JAX_CACHE", str(tmp_path / "elsewhere"))
    assert compilation_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.setenv("MANGO_JAX_CACHE", "0")
    assert compilation_cache_dir() is None


def test_importing_the_package_and_cli_loads_no_heavy_optional_package():
    """jax, nevergrad, dask, matplotlib, pandas load only where a command uses them (start-up time)."""
    code = ("import json, sys; import mango_widgets, mango_widgets.cli, mango_widgets.cli.search; "
            "heavy = ['jax', 'nevergrad', 'dask', 'distributed', 'matplotlib', 'pandas', 'protes', 'plotly', 'ipywidgets']; "
            "print(json.dumps([name for name in heavy if name in sys.modules]))")
    assert run(code) == []


def test_protes_kernels_load_without_matplotlib_and_are_protes_own():
    """The start-up shortcut past protes/__init__ (which imports matplotlib.pyplot) gives protes' own kernels."""
    names = ["_generate_initial", "_interface_matrices", "_likelihood", "_sample"]
    shortcut = ("import hashlib, json, sys; from mango_widgets.runtime.protes_start import protes_kernels; k = protes_kernels(); "
                f"codes = [hashlib.sha256(getattr(k, n).__code__.co_code).hexdigest() for n in {names}]; "
                "print(json.dumps([codes, 'matplotlib' in sys.modules]))")
    ordinary = ("import hashlib, importlib, json; k = importlib.import_module('protes.protes'); "
                f"print(json.dumps([[hashlib.sha256(getattr(k, n).__code__.co_code).hexdigest() for n in {names}], None]))")
    codes, matplotlib_loaded = run(shortcut)
    assert not matplotlib_loaded
    assert codes == run(ordinary)[0]
    driver = ("import json, sys; from mango_widgets import LatentGrid, make_optimizer; "
              "make_optimizer('tt-b', LatentGrid(d=8, n=16)).ask(); print(json.dumps('matplotlib' in sys.modules))")
    assert run(driver) is False  # the PROTES driver goes through the shortcut
