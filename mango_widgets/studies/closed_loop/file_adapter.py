"""A folder protocol, so a stimulus-presentation program in another process (or language) can
drive a closed-loop session. Every file appears atomically (written under a temporary name,
then renamed), so neither side ever reads half a file.

  outbox/batch_000007/          a batch to show: manifest.json + one PNG per stimulus
  outbox/done.json              the session has finished (the client may stop)
  inbox/responses_000007.json   the client's answers: {"batch": 7, "responses": {"123": 4.0, "124": null}}
  inbox/responses_000007.csv    ... or as CSV with the header "id,response" (empty: no response)
  inbox/processed/              answers told to the session; inbox/rejected/: unusable files and entries,
                                with the reasons in <file>.error.txt and <file>.rejected.json
  .driver.lock                  held by the one driver serving this folder (a second one is refused)
  archive/                      batches that need no more answers
  session/journal.jsonl         the session's journal: restart the driver and it resumes

manifest.json: {"batch": 7, "kind": "search", "stimuli": [{"id": 123, "file": "s000123.png",
"index": [...]}, ...]}. Answer any subset, in any order; re-sending an answer is harmless. Each entry
of an answer file is checked on its own (see :mod:`.answers`): the valid ones are used, the others
are listed with their reasons in ``inbox/rejected/``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Union

from mango_widgets.errors import ConfigError, MangoError, whole_number
from mango_widgets.records.atomic import write_json, write_text
from mango_widgets.records.folder_lock import FolderLock
from mango_widgets.records.images import png_bytes
from mango_widgets.records.run_folder import check_writable_folder
from mango_widgets.studies.closed_loop.answers import is_answer_file, read_answers
from mango_widgets.studies.closed_loop.journal import journal_exists, read_journal
from mango_widgets.studies.closed_loop.session import ClosedLoopSession, StimulusBatch


def check_batch_timeout(batch_timeout) -> None:
    """A batch timeout is None (wait for ever) or a number of seconds > 0; a ConfigError otherwise."""
    if batch_timeout is not None and (isinstance(batch_timeout, bool) or not isinstance(batch_timeout, (int, float))
                                      or not 0 < batch_timeout < float("inf")):
        raise ConfigError(
            f"batch_timeout must be a number of seconds > 0 (or None: wait for ever), got {batch_timeout!r}; "
            "with 0 every stimulus would be declared missing before the client could answer"
        )


#: the lock file a driver holds in the exchange folder
DRIVER_LOCK = ".driver.lock"


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
        lock: Optional[FolderLock] = None,
    ):
        check_batch_timeout(batch_timeout)
        if not float(poll_seconds) > 0:
            raise ConfigError(f"poll_seconds must be > 0, got {poll_seconds!r}")
        self.session = session
        self.folder = check_writable_folder(folder, what="exchange folder")
        self.batch_timeout = batch_timeout
        self.retest = whole_number(retest, "retest", minimum=0)
        self.poll_seconds, self.png_scale = float(poll_seconds), whole_number(png_scale, "png_scale", minimum=1)
        self.lock = lock if lock is not None else driver_lock(self.folder)
        self.lock.acquire()
        try:
            self.outbox, self.inbox, self.archive = self.folder / "outbox", self.folder / "inbox", self.folder / "archive"
            for path in (self.outbox, self.inbox / "processed", self.inbox / "rejected", self.archive):
                path.mkdir(parents=True, exist_ok=True)
            self.finished = (self.outbox / "done.json").exists()
            self._batches: Dict[str, List[int]] = self._scan_outbox()
            self._waiting_since = time.monotonic()
            self._expire_unwritten()
        except BaseException:
            if lock is None:  # ours: let go, nobody else can
                self.lock.release()
            raise

    def close(self) -> None:
        """Stop serving the folder: let go of its driver lock (another driver may take over)."""
        self.lock.release()

    def __enter__(self) -> FileAdapter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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
        for path in sorted(p for p in self.inbox.iterdir() if is_answer_file(p)):
            try:
                answers = read_answers(path, known=self.session.stimuli.__contains__)
                if answers.ids:
                    self.session.tell(answers.ids, answers.responses)
            except (MangoError, ValueError, KeyError, TypeError) as error:  # the file as a whole is unusable
                self._reject_file(path, f"{type(error).__name__}: {error}")
                continue
            if answers.rejected and not answers.ids:
                self._reject_file(path, answers.summary(), answers)
                continue
            if answers.rejected:
                self._write_reasons(path, answers.summary(), answers)
                warnings.warn(
                    f"answer file {path.name}: {len(answers.ids)} entries used, {len(answers.rejected)} rejected "
                    f"(reasons in inbox/rejected/{path.name}.error.txt)", stacklevel=2,
                )
            target = self.inbox / "processed" / path.name
            if target.exists():
                target = target.with_name(f"{path.stem}.{time.time_ns()}{path.suffix}")
            os.replace(path, target)
        outstanding = set(self.session.outstanding)
        for name, ids in list(self._batches.items()):
            if not outstanding.intersection(ids):
                os.replace(self.outbox / name, self.archive / name)
                del self._batches[name]

    def _write_reasons(self, path: Path, text: str, answers=None) -> None:
        """Where the client can read them: ``inbox/rejected/<file>.error.txt`` (and ``.rejected.json``, entry by entry)."""
        rejected = self.inbox / "rejected"
        write_text(rejected / f"{path.name}.error.txt", text.rstrip() + "\n")
        if answers is not None:
            write_json(rejected / f"{path.name}.rejected.json", {
                "file": path.name, "used": len(answers.ids),
                "rejected": [{"entry": r["entry"], "reason": r["reason"]} for r in answers.rejected],
            }, default=str)

    def _reject_file(self, path: Path, text: str, answers=None) -> None:
        self._write_reasons(path, text, answers)
        os.replace(path, self.inbox / "rejected" / path.name)
        warnings.warn(f"rejected answer file {path.name}: {text.splitlines()[0] if text else ''}", stacklevel=3)

    def _write(self, batch: StimulusBatch) -> None:
        name = f"batch_{batch.number:06d}"
        staging = self.outbox / f"{name}.tmp"
        staging.mkdir()
        stimuli = []
        for stimulus_id, index, image in zip(batch.ids, batch.indices, batch.images):
            file = f"s{int(stimulus_id):06d}.png"
            (staging / file).write_bytes(png_bytes(image, self.png_scale))  # the folder appears by one rename
            stimuli.append({"id": int(stimulus_id), "file": file, "index": index.tolist()})
        write_json(staging / "manifest.json", {"batch": batch.number, "kind": batch.kind, "stimuli": stimuli}, indent=1)
        os.replace(staging, self.outbox / name)
        self._batches[name] = [int(i) for i in batch.ids]
        self._waiting_since = time.monotonic()

    def _finish(self) -> None:
        mei = self.session.mei()
        summary = self.session.summary()
        summary["mei_index"] = None if mei is None else mei.index.tolist()
        write_json(self.outbox / "done.json", summary, indent=1, default=float)
        self.finished = True
        self.close()


def driver_lock(folder: Union[str, Path]) -> FolderLock:
    """The lock a driver holds on an exchange folder while it serves it (not yet acquired)."""
    return FolderLock(
        Path(folder) / DRIVER_LOCK, what="closed-loop folder", verb="is being served by",
        advice="stop that driver first (its session resumes from the journal), or use another --folder",
    )


def open_session(folder: Union[str, Path], generator, **settings) -> ClosedLoopSession:
    """Resume the session journaled in ``folder/session``, or start one there with ``settings``.

    When resuming, every setting given must equal the journaled one (a ConfigError says which
    differ): a resumed session keeps its method, budget, seed..., and quietly ignoring a new value
    would run something other than what was asked for."""
    journal_folder = Path(folder) / "session"
    if not journal_exists(journal_folder):
        return ClosedLoopSession(generator, folder=journal_folder, **settings)
    records = read_journal(journal_folder)
    config = records[0] if records else {}
    differ = []
    for name, value in settings.items():
        if name == "optimizer":
            old, value = config.get("method"), value.lower() if isinstance(value, str) else value
        elif name in config:
            old = config[name]
        else:  # a parameter of the optimizer
            old = (config.get("optimizer_params") or {}).get(name, "(not set)")
        if value != old:
            differ.append(f"{name}={value!r} (the session has {old!r})")
    if differ:
        raise ConfigError(
            f"{folder} holds a session started with other settings: {', '.join(differ)}. Resume it without those "
            "options (or with the same values), or start the new session in another folder"
        )
    return ClosedLoopSession.resume(journal_folder, generator)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mango closed-loop", description="Serve generated stimuli to a presentation program through a folder.",
        epilog="Rerun with the same --folder to resume (give no other settings, or the same ones).",
    )
    parser.add_argument("--folder", required=True, help="exchange folder (created; rerun with it to resume)")
    parser.add_argument("--models", default="demo",
                        help="model source whose generator makes the stimuli (default: demo, the bundled DCGAN)")
    parser.add_argument("--method", default=None, help="optimization method (see `mango methods`; default tt-b)")
    parser.add_argument("--budget", type=int, default=None, help="stimuli to show, re-shows included (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="default 0")
    parser.add_argument("--repeats", type=int, default=None, help="showings per candidate, their mean is used (default 1)")
    parser.add_argument("--missing", default=None, choices=("reshow", "impute"), help="what to do with missing responses (default reshow)")
    parser.add_argument("--batch-timeout", type=float, default=None, help="seconds (> 0) to wait for a batch's answers (default: for ever)")
    parser.add_argument("--retest", type=int, default=0, help="re-show the final MEI this many times")
    parser.add_argument("--timeout", type=float, default=None, help="stop serving after this many seconds")
    return parser


DEFAULTS = {"optimizer": "tt-b", "budget": 2000, "seed": 0, "repeats": 1, "missing": "reshow"}


def main(argv: Optional[List[str]] = None) -> int:
    """mango closed-loop: serve demo-generator stimuli to a presentation program through a folder."""
    args = _parser().parse_args(argv)
    from mango_widgets.models.source import model_source
    from mango_widgets.runtime.signals import interrupt_on_sigterm

    check_batch_timeout(args.batch_timeout)  # before anything is created or journaled
    if args.timeout is not None and not args.timeout > 0:
        raise ConfigError(f"--timeout must be a number of seconds > 0, got {args.timeout}")
    given = {"optimizer": args.method, "budget": args.budget, "seed": args.seed, "repeats": args.repeats, "missing": args.missing}
    given = {name: value for name, value in given.items() if value is not None}
    generator = model_source(args.models).generator("uniform")
    folder = check_writable_folder(args.folder, what="exchange folder")
    with interrupt_on_sigterm(), driver_lock(folder) as lock:
        resuming = journal_exists(folder / "session")
        session = open_session(folder, generator, **(given if resuming else {**DEFAULTS, **given}))
        adapter = FileAdapter(session, folder, batch_timeout=args.batch_timeout, retest=args.retest, lock=lock)
        print(f"{'resuming' if resuming else 'serving'} {folder}/outbox ({session}); answers go to {folder}/inbox", flush=True)
        try:
            adapter.run(args.timeout)
        except KeyboardInterrupt:
            print("interrupted: every answer so far is journaled; rerun the same command to resume", flush=True)
            return 130
        finally:
            session.close()
    print(json.dumps(session.summary(), indent=1, default=float))
    return 0
