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
