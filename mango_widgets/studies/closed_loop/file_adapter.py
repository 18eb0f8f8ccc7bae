"""A folder protocol, so a stimulus-presentation program in another process (or language) can
drive a closed-loop session. Every file appears atomically (written under a temporary name,
then renamed), so neither side ever reads half a file.

  outbox/batch_000007/          a batch to show: manifest.json + one PNG per stimulus
  outbox/done.json              the session has finished (the client may stop)
  inbox/responses_000007.json   the client's answers: {"batch": 7, "responses": {"123": 4.0, "124": null}}
  inbox/responses_000007.csv    ... or as CSV with the header "id,response" (empty: no response)
  inbox/processed/              answers told to the session; inbox/rejected/: unusable ones + reason
  archive/                      batches that need no more answers
  session/journal.jsonl         the session's journal: restart the driver and it resumes

manifest.json: {"batch": 7, "kind": "search", "stimuli": [{"id": 123, "file": "s000123.png",
"index": [...]}, ...]}. Answer any subset, in any order; re-sending an answer is harmless.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Union

from mango_widgets.errors import ConfigError, MangoError
from mango_widgets.records.results import image_to_png
from mango_widgets.studies.closed_loop.journal import journal_exists
from mango_widgets.studies.closed_loop.session import ClosedLoopSession, StimulusBatch


def write_json_atomic(path: Path, data) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1))
    os.replace(temporary, path)


def read_responses(path: Path) -> tuple:
    """(ids, responses) from a JSON or CSV answer file; missing responses are None."""
    if path.suffix == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows and not {"id", "response"} <= set(rows[0]):
            raise ConfigError(f"{path.name}: a CSV answer needs the header 'id,response', got {list(rows[0])}")
        return [r["id"] for r in rows], [None if not (r["response"] or "").strip() else float(r["response"]) for r in rows]
    data = json.loads(path.read_text())
    answers = data.get("responses", data) if isinstance(data, dict) else data
    if isinstance(answers, dict):
        return list(answers.keys()), list(answers.values())
    if isinstance(answers, list) and all(isinstance(a, dict) and "id" in a for a in answers):
        return [a["id"] for a in answers], [a.get("response") for a in answers]
    raise ConfigError(f"{path.name}: expected {{'responses': {{id: value}}}} or a list of {{'id', 'response'}} records")


class FileAdapter:
    """Drives ``session`` through an exchange ``folder`` that a presentation program watches.

    ``batch_timeout``: seconds to wait for the answers of a batch before declaring the rest
    missing (None: wait for ever). ``retest``: re-show the final MEI that many times at the end.
    """

    def __init__(
        self,
        session: ClosedLoopSession,
        folder: Union[str, Path],
        batch_timeout: Optional[float] = None,
        retest: int = 0,
        poll_seconds: float = 0.05,
        png_scale: int = 1,
    ):
        self.session = session
        self.folder = Path(folder)
        self.outbox, self.inbox, self.archive = self.folder / "outbox", self.folder / "inbox", self.folder / "archive"
        for path in (self.outbox, self.inbox / "processed", self.inbox / "rejected", self.archive):
            path.mkdir(parents=True, exist_ok=True)
        self.batch_timeout, self.retest = batch_timeout, int(retest)
        self.poll_seconds, self.png_scale = float(poll_seconds), int(png_scale)
        self.finished = (self.outbox / "done.json").exists()
        self._batches: Dict[str, List[int]] = self._scan_outbox()
        self._waiting_since = time.monotonic()
        self._expire_unwritten()

    def _scan_outbox(self) -> Dict[str, List[int]]:
        """Batches already written (after a restart); half-written ones are removed."""
        batches = {}
        for path in sorted(self.outbox.iterdir()):
            if path.name.endswith(".tmp"):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
            elif path.is_dir() and (path / "manifest.json").exists():
                batches[path.name] = [s["id"] for s in json.loads((path / "manifest.json").read_text())["stimuli"]]
        return batches

    def _expire_unwritten(self) -> None:
        """Stimuli handed out before a crash whose batch never reached the outbox cannot be answered."""
        written = {i for ids in self._batches.values() for i in ids}
        lost = [i for i in self.session.outstanding if i not in written]
        if lost:
            self.session.expire(lost)

    # --------------------------------------------------------------- loop
    def run(self, timeout: Optional[float] = None) -> ClosedLoopSession:
        """Serve batches until the session is finished (or ``timeout`` seconds passed)."""
        start = time.monotonic()
        while self.step():
            if timeout is not None and time.monotonic() - start > timeout:
                break
            time.sleep(self.poll_seconds)
        return self.session

    def step(self) -> bool:
        """Read new answers, then write the next batch if none is awaited; False once finished."""
        if self.finished:
            return False
        self._read_inbox()
        session = self.session
        if session.outstanding:
            if self.batch_timeout is None or time.monotonic() - self._waiting_since < self.batch_timeout:
                return True
            session.expire()
        if session.budget_left > 0:
            batch = session.ask()
            if len(batch):
                self._write(batch)
                return True
        if session.done and self.retest and not session.summary()["retest_shown"] and session.best() is not None:
            self._write(session.ask_retest(self.retest))
            return True
        if session.done and not session.outstanding:
            self._finish()
            return False
        return True

    def _read_inbox(self) -> None:
        files = sorted(p for p in self.inbox.iterdir() if p.is_file() and p.suffix in (".json", ".csv"))
        for path in files:
            try:
                ids, responses = read_responses(path)
                self.session.tell(ids, responses)
            except (MangoError, ValueError, KeyError, TypeError) as error:
                (self.inbox / "rejected" / f"{path.name}.error.txt").write_text(f"{type(error).__name__}: {error}\n")
                os.replace(path, self.inbox / "rejected" / path.name)
                warnings.warn(f"rejected answer file {path.name}: {error}", stacklevel=2)
                continue
            target = self.inbox / "processed" / path.name
            if target.exists():
                target = target.with_name(f"{path.stem}.{time.time_ns()}{path.suffix}")
            os.replace(path, target)
        outstanding = set(self.session.outstanding)
        for name, ids in list(self._batches.items()):
            if not outstanding.intersection(ids):
                os.replace(self.outbox / name, self.archive / name)
                del self._batches[name]

    def _write(self, batch: StimulusBatch) -> None:
        name = f"batch_{batch.number:06d}"
        staging = self.outbox / f"{name}.tmp"
        staging.mkdir()
        stimuli = []
        for stimulus_id, index, image in zip(batch.ids, batch.indices, batch.images):
            file = f"s{int(stimulus_id):06d}.png"
            image_to_png(image, staging / file, scale=self.png_scale)
            stimuli.append({"id": int(stimulus_id), "file": file, "index": index.tolist()})
        write_json_atomic(staging / "manifest.json", {"batch": batch.number, "kind": batch.kind, "stimuli": stimuli})
        os.replace(staging, self.outbox / name)
        self._batches[name] = [int(i) for i in batch.ids]
        self._waiting_since = time.monotonic()

    def _finish(self) -> None:
        mei = self.session.mei()
        summary = self.session.summary()
        summary["mei_index"] = None if mei is None else mei.index.tolist()
        write_json_atomic(self.outbox / "done.json", summary)
        self.finished = True


def open_session(folder: Union[str, Path], generator, **settings) -> ClosedLoopSession:
    """Resume the session journaled in ``folder/session``, or start one there with ``settings``."""
    journal_folder = Path(folder) / "session"
    if journal_exists(journal_folder):
        return ClosedLoopSession.resume(journal_folder, generator)
    return ClosedLoopSession(generator, folder=journal_folder, **settings)


def main(argv: Optional[List[str]] = None) -> int:
    """mango closed-loop: serve demo-generator stimuli to a presentation program through a folder."""
    parser = argparse.ArgumentParser(prog="mango closed-loop", description=main.__doc__)
    parser.add_argument("--folder", required=True, help="exchange folder (created; rerun with it to resume)")
    parser.add_argument("--method", default="tt-b", help="optimization method (see `mango methods`)")
    parser.add_argument("--budget", type=int, default=2000, help="stimuli to show (re-shows included)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="showings per candidate (their mean is used)")
    parser.add_argument("--missing", default="reshow", choices=("reshow", "impute"), help="what to do with missing responses")
    parser.add_argument("--batch-timeout", type=float, default=None, help="seconds to wait for a batch's answers")
    parser.add_argument("--retest", type=int, default=0, help="re-show the final MEI this many times")
    parser.add_argument("--timeout", type=float, default=None, help="stop serving after this many seconds")
    args = parser.parse_args(argv)
    from mango_widgets.models.bundled import demo_generator

    session = open_session(args.folder, demo_generator(), optimizer=args.method, budget=args.budget,
                           seed=args.seed, repeats=args.repeats, missing=args.missing)
    print(f"serving {args.folder}/outbox ({session}); answers go to {args.folder}/inbox")
    FileAdapter(session, args.folder, batch_timeout=args.batch_timeout, retest=args.retest).run(args.timeout)
    print(json.dumps(session.summary(), indent=1, default=float))
    session.close()
    return 0
