"""Closed-loop sessions: the ask/tell protocol (missing, duplicate, late responses), resume after a
crash, the folder protocol with a client in another process, and the simulated noisy neuron."""
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mango_widgets import ConfigError, Generator, LatentGrid, Network, Objective, Search
from mango_widgets.core.noise import NOISE_LEVELS, PoissonNoise, RandomWalkDrift, SinusoidalDrift, noise_model
from mango_widgets.core.optimizers.random_search import RandomSearch
from mango_widgets.studies.closed_loop import ClosedLoopSession, FileAdapter, JournalError, NoisyResponder
from mango_widgets.studies.closed_loop.answers import read_responses
from mango_widgets.studies.closed_loop.file_adapter import open_session
from mango_widgets.studies.closed_loop.journal import JOURNAL_NAME
from tests import tiny_models as tm

ROOT = Path(__file__).resolve().parents[1]
GRID = LatentGrid(d=8, n=16)


def make_generator():
    return Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2))


def make_objective():
    return Objective(make_generator(), Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=20), "lif:1")


class Recorder(RandomSearch):
    """Random search that keeps every batch it was told."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.told_batches = []

    def _tell(self, indices, values):
        self.told_batches.append((indices.copy(), values.copy()))


def recorder_session(**kwargs):
    optimizer = Recorder(GRID, seed=0, batch_size=4)
    return ClosedLoopSession(make_generator(), optimizer, **{"budget": 40, **kwargs}), optimizer


def run_to_end(session, responder):
    while not session.done:
        batch = session.ask()
        session.tell(batch.ids, responder(batch))
    return session


# ------------------------------------------------------------------ protocol
@pytest.mark.parametrize("method", ["random", "tt-b"])
@pytest.mark.slow
def test_session_with_every_response_repeats_the_search_exactly(method):
    session = run_to_end(ClosedLoopSession(make_generator(), method, budget=103, seed=2), NoisyResponder(make_objective()))
    search = Search(make_objective(), method, budget=103, seed=2, threads=1).run()
    assert session.shown == 103 and session.summary()["answered"] == 103
    assert np.array_equal(session.history.indices, search.history.indices)
    assert np.array_equal(session.history.values, search.history.values)
    mei = session.mei()
    assert mei.activation == search.mei.activation and np.array_equal(mei.index, search.mei.index)
    assert mei.image.shape == (1, 2, 2)


def test_a_batch_carries_ids_indices_latents_and_images():
    session, _ = recorder_session()
    batch = session.ask()
    assert len(batch) == 4 and batch.kind == "search" and batch.number == 0
    assert batch.ids.tolist() == [0, 1, 2, 3]
    assert np.allclose(batch.latents, GRID.to_latent(batch.indices))
    assert batch.images.shape == (4, 1, 2, 2) and batch.images.min() >= 0 and batch.images.max() <= 1
    again = session.ask(n=2)  # asking again declares the unanswered ones missing (missing_after="ask")...
    assert session.summary()["missing"] == 4 and again.ids.tolist() == [4, 5]
    assert np.array_equal(again.indices, batch.indices[:2])  # ...and shows them again, in order, under new ids


def test_missing_responses_are_reshown_under_new_ids_and_the_budget_counts_them():
    session, optimizer = recorder_session()
    first = session.ask()
    session.tell(first.ids[:2], [0.1, 0.2])
    assert optimizer.told_batches == []  # the optimizer only hears complete batches
    again = session.ask()
    assert np.array_equal(again.indices, first.indices[2:]) and set(again.ids).isdisjoint(first.ids)
    assert session.shown == 6 and session.budget_left == 34
    session.tell(again.ids, [0.3, 0.4])
    (told, values), = optimizer.told_batches
    assert np.array_equal(told, first.indices) and np.allclose(values, [0.1, 0.2, 0.3, 0.4])


def test_the_budget_ends_the_session_even_while_reshows_are_pending():
    session, _ = recorder_session(budget=6)
    first = session.ask()
    session.tell(first.ids[:1], [1.0])
    assert len(session.ask()) == 2 and session.budget_left == 0
    assert len(session.ask()) == 0 and session.done


def test_the_last_batch_is_cut_to_the_budget_shown_and_not_told():
    session, optimizer = recorder_session(budget=10)
    run_to_end(session, lambda batch: np.ones(len(batch)))
    assert session.shown == 10 and session.batches_told == 2 and len(optimizer.told_batches) == 2
    assert session.budget_left == 0 and len(session.ask()) == 0


def test_a_candidate_is_shown_repeats_times_or_not_at_all():
    optimizer = Recorder(GRID, seed=0, batch_size=2)
    session = run_to_end(ClosedLoopSession(make_generator(), optimizer, budget=10, repeats=3), lambda b: np.ones(len(b)))
    assert session.shown == 9 and session.budget_left == 0  # as in Search: the last query pays for no whole candidate
    showings = [n for _index, _mean, n in session.ranked()]
    assert sum(showings) == 9 and set(showings) == {3}


def test_a_reshow_the_budget_cannot_pay_for_is_given_up():
    optimizer = Recorder(GRID, seed=0, batch_size=2)
    session = ClosedLoopSession(make_generator(), optimizer, budget=7, repeats=3)
    batch = session.ask()  # two candidates x 3 showings; the budget's last query pays for one re-show
    session.tell(batch.ids, [1, 2, None, 4, None, 6])
    reshow = session.ask()
    assert len(reshow) == 1 and np.array_equal(reshow.indices[0], batch.indices[2]) and session.shown == 7
    session.tell(reshow.ids, [3])
    (_, values), = optimizer.told_batches
    assert np.allclose(values, [2.0, 5.0]) and session.done  # the second candidate: the mean of its answered showings


def test_the_driver_charges_extra_showings_only_within_its_budget():
    from mango_widgets.core.driver import Driver

    driver = Driver(GRID, "random", budget=5, batch_size=4)
    driver.spend(driver.next_batch())
    driver.charge(1)
    assert driver.queries_left == 0 and driver.exhausted
    with pytest.raises(ConfigError, match="cannot charge 1 queries: the budget has 0 left"):
        driver.charge(1)


def test_none_or_nan_says_no_response_and_impute_uses_the_median_so_far():
    session, optimizer = recorder_session(missing="impute")
    first = session.ask()
    report = session.tell(first.ids, [1.0, None, 3.0, float("nan")])
    assert (report.accepted, report.missing, report.batches_told) == (2, 2, 1)
    (_, values), = optimizer.told_batches
    assert np.allclose(values, [1.0, 2.0, 3.0, 2.0])


def test_a_trial_that_keeps_failing_is_given_up_after_max_reshows():
    session, optimizer = recorder_session(max_reshows=1)
    first = session.ask()
    session.tell(first.ids, [1.0, 2.0, 3.0, None])
    retry = session.ask()
    assert np.array_equal(retry.indices, first.indices[3:])
    session.tell(retry.ids, [None])
    (_, values), = optimizer.told_batches
    assert np.allclose(values, [1.0, 2.0, 3.0, 2.0])  # given up: imputed with the median
    assert len(session.ask()) == 4  # the next optimizer batch


def test_repeats_tell_the_mean_of_the_answered_showings():
    optimizer = Recorder(GRID, seed=0, batch_size=2)
    session = ClosedLoopSession(make_generator(), optimizer, budget=30, repeats=3)
    batch = session.ask()
    assert len(batch) == 6 and np.array_equal(batch.indices[:3], np.repeat(batch.indices[:1], 3, axis=0))
    session.tell(batch.ids, [1, 2, 3, 5, 5, 5])
    (_, values), = optimizer.told_batches
    assert np.allclose(values, [2.0, 5.0])
    assert session.best()[1:] == (5.0, 3)


def test_duplicates_are_ignored_and_counted_or_rejected_when_asked_to():
    session, optimizer = recorder_session()
    batch = session.ask()
    session.tell(batch.ids[:2], [1.0, 2.0])
    report = session.tell([batch.ids[0], batch.ids[2], batch.ids[2]], [9.0, 3.0, 7.0])
    assert (report.accepted, report.duplicates) == (1, 2) and session.duplicates == 2
    session.tell(batch.ids[3:], [4.0])
    assert np.allclose(optimizer.told_batches[0][1], [1.0, 2.0, 3.0, 4.0])  # the first answers count

    strict, _ = recorder_session(on_duplicate="error")
    batch = strict.ask()
    strict.tell(batch.ids[:1], [1.0])
    records = len(strict.journal.records)
    with pytest.raises(ConfigError, match="already have a response"):
        strict.tell(batch.ids[:2], [5.0, 2.0])
    assert len(strict.journal.records) == records and strict.stimuli[int(batch.ids[1])].response is None


def test_unknown_ids_and_bad_responses_raise_and_record_nothing():
    session, _ = recorder_session()
    batch = session.ask()
    with pytest.raises(ConfigError, match=r"unknown stimulus ids \[99\].*nothing of this tell was recorded"):
        session.tell([batch.ids[0], 99], [1.0, 2.0])
    with pytest.raises(ConfigError, match="one response per id"):
        session.tell(batch.ids, [1.0])
    with pytest.raises(ConfigError, match="finite"):
        session.tell(batch.ids[:1], [float("inf")])
    assert session.summary()["answered"] == 0 and len(session.history) == 0


def test_late_responses_are_recorded_but_not_told_once_their_reshow_went_out():
    session, optimizer = recorder_session()
    first = session.ask()
    session.tell(first.ids[:3], [0.1, 0.2, 0.3])
    reshow = session.ask()  # first.ids[3] is now missing and re-shown
    report = session.tell(first.ids[3:], [5.0])
    assert report.late == 1 and report.accepted == 0 and session.late == 1
    assert session.best()[1] == 5.0  # it counts for the MEI...
    session.tell(reshow.ids, [0.4])
    assert np.allclose(optimizer.told_batches[0][1], [0.1, 0.2, 0.3, 0.4])  # ...not for the optimizer


def test_a_late_response_before_its_reshow_went_out_replaces_the_reshow():
    session, optimizer = recorder_session(missing_after=None)
    first = session.ask()
    session.tell(first.ids[:3], [0.1, 0.2, 0.3])
    assert session.expire() == 1
    report = session.tell(first.ids[3:], [0.9])
    assert report.late == 1 and report.batches_told == 1
    assert np.allclose(optimizer.told_batches[0][1], [0.1, 0.2, 0.3, 0.9])
    assert session.shown == 4  # the re-show was cancelled, not shown
    assert len(session.ask()) == 4 and session.shown == 8  # the next optimizer batch


def test_missing_after_seconds_expires_only_old_stimuli():
    session, _ = recorder_session(missing_after=60)
    first = session.ask()
    assert len(session.ask()) == 0 and len(session.outstanding) == 4  # too early: still awaited
    for i in first.ids[:3]:
        session.stimuli[int(i)].shown_at -= 61  # as if a minute had passed for three of them
    again = session.ask()
    assert np.array_equal(again.indices, first.indices[:3]) and session.outstanding == [3] + again.ids.tolist()


def test_retest_remeasures_the_mei_outside_the_budget():
    session, _ = recorder_session()
    batch = session.ask()
    session.tell(batch.ids, [0.1, 0.9, 0.2, 0.3])
    retest = session.ask_retest(3)
    assert retest.kind == "retest" and np.array_equal(retest.indices, np.repeat(batch.indices[1:2], 3, axis=0))
    session.tell(retest.ids, [0.5, 0.7, 0.6])
    assert session.shown == 4 and session.summary()["retest_shown"] == 3
    mei = session.mei()
    assert mei.activation == 0.9 and mei.retest_mean == pytest.approx(0.6) and mei.retest_count == 3
    assert mei.retest_sem == pytest.approx(0.1 / np.sqrt(3))


def test_retesting_the_top_few_picks_the_mei_by_fresh_trials():
    session, _ = recorder_session()
    batch = session.ask()
    session.tell(batch.ids, [0.1, 0.9, 0.8, 0.3])
    assert [round(r[1], 3) for r in session.ranked()] == [0.9, 0.8, 0.3, 0.1]
    retest = session.ask_retest(2, top=2)
    assert np.array_equal(retest.indices, batch.indices[[1, 2, 1, 2]])  # interleaved, against drift
    session.tell(retest.ids, [0.4, 0.7, 0.5, 0.6])  # the lucky 0.9 re-tests at 0.45, the 0.8 at 0.65
    mei = session.mei()
    assert np.array_equal(mei.index, batch.indices[2]) and mei.activation == 0.8
    assert (mei.retest_mean, mei.retest_count) == (pytest.approx(0.65), 2)
    assert np.array_equal(session.best()[0], batch.indices[1])  # the search ranking itself is unchanged


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="valid missing-response policys are: reshow, impute"):
        ClosedLoopSession(make_generator(), "random", missing="drop")
    with pytest.raises(ConfigError, match="missing_after"):
        ClosedLoopSession(make_generator(), "random", missing_after=-1)
    with pytest.raises(ConfigError, match="budget"):
        ClosedLoopSession(make_generator(), "random", budget=0)


# ------------------------------------------------------------------ journal and resume
def scripted_run(session, responder):
    """A fixed sequence with partial, duplicate and late answers."""
    a = session.ask()
    session.tell(a.ids, responder(a))
    b = session.ask()
    values = responder(b)
    session.tell(b.ids[: len(b) // 2], values[: len(b) // 2])
    session.tell(b.ids[:1], values[:1])  # duplicate
    c = session.ask()  # the rest of b is missing and comes back
    session.tell(c.ids[:-1], responder(c)[:-1])
    session.tell(b.ids[-1:], values[-1:])  # late


CRASHING_DRIVER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from tests.test_closed_loop import make_generator, make_objective, scripted_run
    from mango_widgets.studies.closed_loop import ClosedLoopSession, NoisyResponder
    session = ClosedLoopSession(make_generator(), "tt-b", budget=120, seed=3, folder={folder!r})
    scripted_run(session, NoisyResponder(make_objective()))
    os._exit(3)  # a crash: no clean-up, no close
""")


@pytest.mark.slow
def test_a_session_resumes_after_a_crash_without_losing_a_response(tmp_path):
    folder = tmp_path / "session"
    done = subprocess.run([sys.executable, "-c", CRASHING_DRIVER.format(root=str(ROOT), folder=str(folder))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    resumed = ClosedLoopSession.resume(folder, make_generator())
    reference = ClosedLoopSession(make_generator(), "tt-b", budget=120, seed=3)
    scripted_run(reference, NoisyResponder(make_objective()))
    assert resumed.summary() == reference.summary()
    assert resumed.summary()["late"] == 1 and resumed.summary()["duplicates"] == 1
    assert np.array_equal(resumed.history.values, reference.history.values)
    assert resumed.optimizer.told == reference.optimizer.told > 0
    for session in (resumed, reference):
        run_to_end(session, NoisyResponder(make_objective()))
    assert np.array_equal(resumed.history.indices, reference.history.indices)
    assert np.array_equal(resumed.history.values, reference.history.values)
    resumed.close()  # one session drives a journal at a time
    again = ClosedLoopSession.resume(folder, make_generator())  # the continued journal replays too
    assert again.summary() == resumed.summary()


def test_a_torn_last_journal_line_is_dropped_and_the_journal_continues(tmp_path):
    session = ClosedLoopSession(make_generator(), "random", budget=50, folder=tmp_path)
    batch = session.ask()
    session.tell(batch.ids[:5], np.arange(5.0))
    session.close()  # the driver dies (its lock goes with it) ...
    with open(tmp_path / JOURNAL_NAME, "a") as handle:
        handle.write('{"event": "tell", "ids": [5, 6], "resp')  # ... in the middle of a write
    resumed = ClosedLoopSession.resume(tmp_path, make_generator())
    assert resumed.summary()["answered"] == 5
    resumed.tell(batch.ids[5:7], [1.0, 2.0])
    resumed.close()
    assert ClosedLoopSession.resume(tmp_path, make_generator()).summary()["answered"] == 7


def test_resume_refuses_another_generator_than_the_one_that_made_the_stimuli(tmp_path):
    session = ClosedLoopSession(make_generator(), "random", budget=50, folder=tmp_path)
    session.tell(session.ask().ids[:3], [1.0, 2.0, 3.0])
    session.close()
    other = Generator(tm.ConstantImageGenerator(), GRID, image_shape=(1, 2, 2), name="another generator")
    with pytest.raises(ConfigError, match=r"made by the generator .* not 'another generator': resume it with the generator"):
        ClosedLoopSession.resume(tmp_path, other)
    assert ClosedLoopSession.resume(tmp_path, make_generator()).summary()["answered"] == 3


def test_resume_refuses_a_journal_that_does_not_replay(tmp_path):
    session = ClosedLoopSession(make_generator(), "random", budget=50, folder=tmp_path, seed=1)
    session.tell(session.ask().ids[:1], [1.0])
    session.close()
    lines = (tmp_path / JOURNAL_NAME).read_text().splitlines()
    start = json.loads(lines[0])
    start["seed"] = 2
    (tmp_path / JOURNAL_NAME).write_text("\n".join([json.dumps(start)] + lines[1:]) + "\n")
    with pytest.raises(JournalError, match="replay diverged at batch 0"):
        ClosedLoopSession.resume(tmp_path, make_generator())
    with pytest.raises(ConfigError, match="already holds a session journal"):
        ClosedLoopSession(make_generator(), "random", folder=tmp_path)
    with pytest.raises(JournalError, match="no session journal"):
        ClosedLoopSession.resume(tmp_path / "nothing", make_generator())


# ------------------------------------------------------------------ folder protocol
def test_a_client_in_another_process_drives_a_session_through_a_folder_and_a_restart(tmp_path):
    client_path = ROOT / "mango_widgets" / "studies" / "closed_loop" / "example_client.py"
    client = subprocess.Popen([sys.executable, str(client_path), str(tmp_path)])
    try:
        settings = dict(optimizer="random", budget=60, seed=0, batch_size=10)
        session = open_session(tmp_path, make_generator(), **settings)
        adapter = FileAdapter(session, tmp_path, retest=4)
        deadline = time.monotonic() + 120
        while session.batches_told < 2 and time.monotonic() < deadline:
            adapter.step()
            time.sleep(0.02)
        assert session.batches_told >= 2
        adapter.close()  # the driver stops (or crashes: the OS drops its locks) here and is started again
        session.close()
        session = open_session(tmp_path, make_generator(), **settings)
        FileAdapter(session, tmp_path, retest=4).run(timeout=120)
        assert client.wait(timeout=60) == 0
    finally:
        client.kill()
    summary = session.summary()
    assert summary["shown"] == 60 and summary["answered"] == 60 and summary["retest"]["count"] == 4
    done = json.loads((tmp_path / "outbox" / "done.json").read_text())
    assert done["shown"] == 60 and len(done["mei_index"]) == GRID.d
    brightness = make_generator()(session.history.indices).mean(dim=(1, 2, 3)).numpy()
    assert np.allclose(session.history.values, brightness, atol=1 / 255)  # the client measured what was shown
    assert sorted(p.name for p in (tmp_path / "archive").iterdir())[:1] == ["batch_000000"]
    assert len(list((tmp_path / "inbox" / "processed").iterdir())) == 7  # 6 batches + the re-test


def test_unusable_answer_files_are_rejected_with_the_reason(tmp_path):
    session = ClosedLoopSession(make_generator(), "random", budget=20, batch_size=5)
    adapter = FileAdapter(session, tmp_path)
    adapter.step()
    manifest = json.loads((tmp_path / "outbox" / "batch_000000" / "manifest.json").read_text())
    ids = [s["id"] for s in manifest["stimuli"]]
    (tmp_path / "inbox" / "responses_000000.csv").write_text("id,response\n" + "".join(f"{i},{i / 10}\n" for i in ids[:4]) + f"{ids[4]},\n")
    (tmp_path / "inbox" / "bad.json").write_text('{"responses": {"12345": 1.0}}')
    with pytest.warns(UserWarning, match="rejected answer file bad.json"):
        adapter.step()
    assert "unknown stimulus ids [12345]" in (tmp_path / "inbox" / "rejected" / "bad.json.error.txt").read_text()
    assert session.summary()["answered"] == 4 and session.summary()["missing"] == 1  # the empty CSV cell
    assert read_responses(tmp_path / "inbox" / "processed" / "responses_000000.csv")[1][4] is None


# ------------------------------------------------------------------ simulated neurons
def test_noise_levels_and_models():
    assert noise_model("none") is None and noise_model(None) is None
    assert noise_model("low").scale == NOISE_LEVELS["low"] > noise_model("high").scale
    assert noise_model(7).scale == 7.0
    with pytest.raises(ConfigError, match="valid noise levels are: none, low, high"):
        noise_model("medium")


@pytest.mark.parametrize("scale", [5.0, 40.0])
def test_responder_trials_are_poisson_at_the_set_scale(scale):
    objective = make_objective()
    index = np.full((1, GRID.d), 15)
    activation = objective.evaluate(index)[0]
    responder = NoisyResponder(objective, noise=scale, seed=1, units="spikes")
    counts = responder(np.repeat(index, 20000, axis=0))
    assert np.array_equal(counts, np.round(counts))  # whole spike counts
    expected = activation * scale
    assert counts.mean() == pytest.approx(expected, rel=0.03)
    assert counts.var() == pytest.approx(expected, rel=0.06)  # Poisson: variance = mean
    rates = NoisyResponder(make_objective(), noise=PoissonNoise(scale), seed=1)(np.repeat(index, 20000, axis=0))
    assert rates.var() == pytest.approx(activation / scale, rel=0.06)
    assert responder.objective.evaluations == 1  # repeats reuse the cached noise-free activation


def test_a_noise_free_responder_answers_the_activation():
    objective = make_objective()
    indices = GRID.random(6, np.random.default_rng(0))
    responder = NoisyResponder(make_objective())
    assert np.array_equal(responder(indices), objective.evaluate(indices))
    assert np.array_equal(responder.true_values(indices), objective.evaluate(indices))


def test_sinusoidal_drift_scales_the_gain_by_trial_number_whatever_the_batching():
    drift = SinusoidalDrift(amplitude=0.5, period=8)
    objective = make_objective()
    index = np.full((1, GRID.d), 15)
    activation = objective.evaluate(index)[0]
    responder = NoisyResponder(objective, drift=drift)
    values = np.concatenate([responder(np.repeat(index, n, axis=0)) for n in (3, 1, 6)])
    trials = np.arange(10)
    assert np.allclose(values, activation * (1 + 0.5 * np.sin(2 * np.pi * trials / 8)))
    assert responder.trials == 10
    with pytest.raises(ConfigError, match="amplitude"):
        SinusoidalDrift(amplitude=1.5)


def test_random_walk_drift_has_the_set_step_and_is_a_fixed_function_of_the_seed():
    drift = RandomWalkDrift(step=0.01, seed=4)
    late = drift.gain([5000])
    gains = drift.gain(np.arange(5001))
    assert gains[0] == 1.0 and gains[-1] == late[0]
    assert np.diff(np.log(gains)).std() == pytest.approx(0.01, rel=0.05)
    assert np.array_equal(RandomWalkDrift(step=0.01, seed=4).gain(np.arange(5001)), gains)
    assert not np.array_equal(RandomWalkDrift(step=0.01, seed=5).gain(np.arange(100)), gains[:100])


def test_responder_refuses_double_noise_and_spikes_without_a_scale():
    generator, network = make_generator(), Network(tm.snntorch_step_net(), input_shape=(1, 2, 2), T=20)
    with pytest.raises(ConfigError, match="applied twice"):
        NoisyResponder(Objective(generator, network, "lif:1", noise=PoissonNoise(10)), noise="low")
    with pytest.raises(ConfigError, match="spike-count responses need a noise level"):
        NoisyResponder(make_objective(), units="spikes")


def test_the_documented_client_is_the_tested_one():
    source = (ROOT / "mango_widgets" / "studies" / "closed_loop" / "example_client.py").read_text()
    assert "mango_widgets" not in source.split('"""', 2)[2]  # plain Python: no mango import
    assert source.split('"""', 2)[2].strip() in (ROOT / "docs" / "closed_loop.md").read_text()


def test_answer_entries_are_read_strictly_one_by_one(tmp_path):
    from mango_widgets.studies.closed_loop.answers import read_answers

    csv_file = tmp_path / "answers.CSV"
    csv_file.write_text("id,response\n1,2.5\n2,\n3, 7.5 \n4.0,1\nx,1\n5,nan\n6,1e-3\n7,true\n")
    answers = read_answers(csv_file)
    assert answers.ids == [1, 2, 5, 6] and answers.responses == [2.5, None, None, 0.001]
    assert [r["entry"]["id"] for r in answers.rejected] == ["3", "4.0", "x", "7"]
    json_file = tmp_path / "answers.json"
    json_file.write_text(json.dumps({"responses": {"7": 1, "8": None, "9": True, "1.5": 2, "10": "3", "11": 4.25}}))
    answers = read_answers(json_file, known=lambda i: i != 11)
    assert answers.ids == [7, 8] and answers.responses == [1.0, None]
    assert [r["entry"]["id"] for r in answers.rejected] == ["9", "1.5", "10", "11"] and answers.unknown == [11]
    assert "unknown stimulus ids [11]" in answers.summary() and "is not a whole number" in answers.summary()
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"id": 3, "response": 1.0}, {"id": 3.0, "response": 1.0}, {"id": 4, "response": "1"}]))
    assert read_answers(records).ids == [3]
    with pytest.raises(ConfigError, match=r"stimulus id 3.0 is not a whole number"):
        read_responses(records)


def test_a_file_with_one_bad_entry_still_answers_its_batch(tmp_path):
    session = ClosedLoopSession(make_generator(), "random", budget=10, batch_size=5)
    with FileAdapter(session, tmp_path) as adapter:
        adapter.step()
        ids = session.outstanding
        answers = {str(i): 0.5 for i in ids} | {"99999": 1.0, "oops": 2.0}
        (tmp_path / "inbox" / "responses.json").write_text(json.dumps({"responses": answers}))
        with pytest.warns(UserWarning, match="5 entries used, 2 rejected"):
            adapter.step()
        assert session.summary()["answered"] == 5 and session.batches_told == 1  # the batch did not stall
        assert (tmp_path / "inbox" / "processed" / "responses.json").exists()
        reasons = json.loads((tmp_path / "inbox" / "rejected" / "responses.json.rejected.json").read_text())
        assert reasons["used"] == 5 and [r["entry"]["id"] for r in reasons["rejected"]] == ["99999", "oops"]


def test_one_driver_per_folder_and_resuming_keeps_the_settings(tmp_path):
    from mango_widgets.studies.closed_loop.file_adapter import check_batch_timeout

    session = open_session(tmp_path, make_generator(), optimizer="random", budget=30, seed=1)
    adapter = FileAdapter(session, tmp_path)
    with pytest.raises(ConfigError, match="is being served by pid"):
        FileAdapter(ClosedLoopSession(make_generator(), "random", budget=30), tmp_path)
    with pytest.raises(ConfigError, match="is being driven by pid"):
        open_session(tmp_path, make_generator())  # the journal is locked by the open session
    adapter.close()
    session.close()
    with pytest.raises(ConfigError, match=r"seed=2 \(the session has 1\)"):
        open_session(tmp_path, make_generator(), optimizer="random", seed=2)
    resumed = open_session(tmp_path, make_generator(), optimizer="RANDOM", budget=30)
    assert resumed.seed == 1
    resumed.close()
    for bad in (0, -1, float("inf"), True):
        with pytest.raises(ConfigError, match="batch_timeout must be a number of seconds > 0"):
            check_batch_timeout(bad)


def test_a_nevergrad_session_by_name_journals_and_resumes(tmp_path):
    session = ClosedLoopSession(make_generator(), "nevergrad", budget=30, folder=tmp_path,
                                optimizer_params={"optimizer": "OnePlusOne", "batch_size": 5})
    batch = session.ask()
    session.tell(batch.ids, np.arange(len(batch), dtype=float))
    session.close()
    resumed = ClosedLoopSession.resume(tmp_path, make_generator())
    assert resumed.summary() == session.summary() and resumed.optimizer_params["optimizer"] == "OnePlusOne"
    resumed.close()


def test_the_command_takes_a_model_source_by_name_and_refuses_an_unknown_one(tmp_path):
    from mango_widgets.studies.closed_loop.file_adapter import main

    with pytest.raises(ConfigError, match=r"unknown network 'nope'.*demo"):
        main(["--folder", str(tmp_path / "rig"), "--models", "nope"])
    assert not (tmp_path / "rig").exists()  # refused before anything was created
