"""A closed-loop session: an optimizer driven by an outside responder (a lab rig, a simulated neuron).

``ask()`` hands out stimuli (unique ids, grid indices, latents, images); ``tell(ids, responses)``
takes measured responses in any grouping and order. The optimizer keeps its pending-batch
contract: the session tells it a batch only once every candidate of that batch is resolved.

The rules (docs/closed_loop.md explains them):

* Budget: every search stimulus handed out counts, re-shows included; re-tests of the MEI
  (``ask_retest``) are extra and never reach the optimizer.
* Missing: a stimulus is missing when the client says so (``None``/NaN response), when the
  next batch is asked (``missing_after="ask"``), ``missing_after`` seconds after it was handed
  out, or on ``expire()``. Policy ``"reshow"`` shows it again under a new id (at most
  ``max_reshows`` times); ``"impute"`` gives it up at once. A candidate is told as the mean of
  its answered trials; one with no answered trial at all is told the median of all search
  responses so far (0 if there are none yet).
* Late: a response for a stimulus already declared missing is recorded (it counts for the MEI).
  If that stimulus's re-show is still waiting to be handed out, the response is used instead
  and the re-show is cancelled; otherwise it is not told to the optimizer, which moved on.
* Duplicate: a second response for an id is ignored and counted (``on_duplicate="error"``
  raises instead, recording nothing of that tell).
* Unknown ids, wrong lengths, infinite responses: a ConfigError, nothing of that tell recorded.
* Persistence: every hand-out, response and expiry is journaled (fsync) before ``ask``/``tell``
  return; :meth:`ClosedLoopSession.resume` replays the journal through a fresh optimizer with
  the same seed. A client may re-send a tell it is unsure about: duplicates are ignored.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from mango_widgets.core.generator import Generator
from mango_widgets.core.history import MEI, History
from mango_widgets.core.optimizers import Optimizer, make_optimizer
from mango_widgets.errors import ConfigError, seed_number, unknown_choice, whole_number
from mango_widgets.studies.closed_loop.answers import parse_id, parse_response
from mango_widgets.studies.closed_loop.journal import Journal, JournalError, journal_exists, read_journal

MISSING_POLICIES = ("reshow", "impute")
DUPLICATE_POLICIES = ("ignore", "error")
JOURNAL_VERSION = 1


@dataclass(frozen=True)
class StimulusBatch:
    """Stimuli to show: ``ids`` [B] (unique, to send back with the responses), grid ``indices``
    [B, d], ``latents`` [B, d] and ``images`` [B, C, H, W] in [0, 1] (rendered on first use);
    ``number`` names the batch."""

    number: int
    kind: str  # "search" (feeds the optimizer) or "retest" (re-measures the MEI)
    ids: np.ndarray
    indices: np.ndarray
    latents: np.ndarray
    generator: Optional[Generator] = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def images(self) -> Optional[np.ndarray]:
        if not len(self.ids) or self.generator is None:
            return None
        return self.generator(self.indices).cpu().numpy()


@dataclass(frozen=True)
class TellReport:
    """What one ``tell`` did with each response."""

    accepted: int  # fed to the current optimizer batch
    late: int  # for stimuli already declared missing (recorded; used only if their re-show was not handed out)
    duplicates: int  # ignored: the id already had a response
    missing: int  # explicit "no response" (None/NaN)
    batches_told: int  # optimizer batches completed by this tell


@dataclass
class Stimulus:
    """One shown stimulus and what became of it."""

    id: int
    index: np.ndarray
    kind: str
    batch: int
    shown_at: float
    candidate: Optional[int] = None  # position in the optimizer batch (search stimuli)
    attempt: int = 0  # 0: first showing, 1..: re-shows
    status: str = "outstanding"  # outstanding | answered | missing | late
    response: Optional[float] = None
    order: int = 0  # 1-based number among search stimuli


@dataclass
class _Candidate:
    index: np.ndarray
    values: List[float] = field(default_factory=list)
    queued: int = 0  # trials waiting to be handed out
    outstanding: int = 0  # trials handed out, not yet answered


@dataclass
class _Round:
    """One optimizer batch (the pending ask) and the trials still to show for it."""

    indices: np.ndarray
    candidates: List[_Candidate]
    queue: List[tuple]  # (candidate, attempt, id of the stimulus it re-shows or None)


class ClosedLoopSession:
    """Maximise an outside responder's answers to generated images with ``optimizer``.

    ``folder`` (optional) keeps the journal; ``repeats`` shows each candidate that many times
    and tells the optimizer the mean. Parameters of a method given by name go as keywords or in
    ``optimizer_params`` (nevergrad's own ``optimizer=`` only there: ``optimizer_params={"optimizer": "CMA"}``).
    """

    def __init__(
        self,
        generator: Generator,
        optimizer: Union[str, Optimizer] = "tt-b",
        budget: int = 2000,
        folder: Optional[Union[str, Path]] = None,
        seed: int = 0,
        repeats: int = 1,
        missing: str = "reshow",
        max_reshows: int = 2,
        missing_after: Union[str, float, None] = "ask",
        on_duplicate: str = "ignore",
        optimizer_params: Optional[dict] = None,
        **params,
    ):
        # the method's parameters as keywords or a dict (for nevergrad's own optimizer=, which this signature takes)
        optimizer_params = {**(optimizer_params or {}), **params}
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
            raise ConfigError(f"budget must be a positive number of shown stimuli, got {budget!r}")
        repeats = whole_number(repeats, "repeats", minimum=1, fix="each candidate is shown a whole number of times")
        max_reshows = whole_number(max_reshows, "max_reshows", minimum=0)
        seed = seed_number(seed)
        if missing not in MISSING_POLICIES:
            raise unknown_choice("missing-response policy", missing, MISSING_POLICIES)
        if on_duplicate not in DUPLICATE_POLICIES:
            raise unknown_choice("duplicate policy", on_duplicate, DUPLICATE_POLICIES)
        if not (missing_after is None or missing_after == "ask" or (
                isinstance(missing_after, (int, float)) and not isinstance(missing_after, bool) and missing_after > 0)):
            raise ConfigError(f"missing_after must be 'ask', a number of seconds > 0, or None, got {missing_after!r}")
        if folder is not None and journal_exists(folder):
            raise ConfigError(
                f"{folder} already holds a session journal; continue it with ClosedLoopSession.resume(folder, generator) "
                "or choose an empty folder"
            )
        self.generator = generator
        self.grid = generator.grid
        self.budget, self.seed, self.repeats = int(budget), int(seed), int(repeats)
        self.missing, self.max_reshows = missing, int(max_reshows)
        self.missing_after, self.on_duplicate = missing_after, on_duplicate
        if isinstance(optimizer, str):
            self.method, self.optimizer_params = optimizer.lower(), dict(optimizer_params)
            optimizer = make_optimizer(optimizer, self.grid, seed=self.seed, budget=self.budget, **optimizer_params)
        elif optimizer_params:
            raise ConfigError("optimizer parameters only apply when the optimizer is given by name")
        else:
            self.method, self.optimizer_params = None, None
        self.optimizer = optimizer
        self.history = History(self.grid.d)  # every search response, in the order it arrived
        self.stimuli: Dict[int, Stimulus] = {}
        self._outstanding: Dict[int, None] = {}  # ids awaiting a response, in hand-out order
        self.shown = 0  # search stimuli handed out (the budget counts these)
        self.duplicates = 0
        self.late = 0
        self.batches_told = 0
        self._round: Optional[_Round] = None
        self._next_id = 0
        self._batches = 0
        self._lock = threading.RLock()
        self.journal = Journal(folder)
        self.journal.append({"event": "start", **self.config(), "time": time.time()})

    # ------------------------------------------------------------ creation
    def config(self) -> dict:
        """Plain-JSON settings, enough to rebuild the session (the journal's first record)."""
        return {
            "version": JOURNAL_VERSION,
            "method": self.method if self.method is not None else self.optimizer.name,
            "optimizer_by_name": self.method is not None,
            "optimizer_params": self.optimizer_params,
            "seed": self.seed,
            "budget": self.budget,
            "repeats": self.repeats,
            "missing": self.missing,
            "max_reshows": self.max_reshows,
            "missing_after": self.missing_after,
            "on_duplicate": self.on_duplicate,
            "grid": self.grid.to_dict(),
            "generator": self.generator.name,
        }

    @classmethod
    def resume(cls, folder: Union[str, Path], generator: Generator, optimizer: Optional[Optimizer] = None) -> ClosedLoopSession:
        """Rebuild a session from its journal (after a crash or a restart) and continue it.

        The journal is replayed through a fresh optimizer with the recorded method and seed;
        ``optimizer`` (a fresh instance) is needed only if the session was started with one.
        """
        journal = Journal(folder)  # the folder's lock first: no other session may write while this one replays
        try:
            session = cls._replayed(folder, generator, optimizer)
        except BaseException:
            journal.close()
            raise
        journal.records = session.journal.records
        session.journal = journal
        return session

    @classmethod
    def _replayed(cls, folder, generator: Generator, optimizer: Optional[Optimizer]) -> ClosedLoopSession:
        """A session (journal in memory) in the state the journal in ``folder`` records."""
        records = read_journal(folder)
        if not records or records[0].get("event") != "start":
            raise JournalError(f"the journal in {folder} does not start with the session settings; it cannot be resumed")
        config = records[0]
        if config.get("version") != JOURNAL_VERSION:
            raise JournalError(f"journal version {config.get('version')} is not supported (expected {JOURNAL_VERSION})")
        if generator.grid.to_dict() != config["grid"]:
            raise ConfigError(f"the generator's grid {generator.grid.to_dict()} differs from the session's {config['grid']}")
        if config["optimizer_by_name"]:
            if optimizer is not None:
                raise ConfigError("this session made its optimizer by name; resume it without passing one")
            optimizer = config["method"]
        elif optimizer is None:
            raise ConfigError(
                f"this session was started with an optimizer instance ({config['method']}); pass a fresh, "
                "identically configured instance as optimizer="
            )
        session = cls(
            generator, optimizer, budget=config["budget"], folder=None, seed=config["seed"],
            repeats=config["repeats"], missing=config["missing"], max_reshows=config["max_reshows"],
            missing_after=config["missing_after"], on_duplicate=config["on_duplicate"],
            optimizer_params=config["optimizer_params"],
        )
        for record in records[1:]:
            session._replay(record)
        session.journal.records = list(records)
        return session

    def _replay(self, record: dict) -> None:
        event = record.get("event")
        if event in ("ask", "retest"):
            count = len(record["ids"])
            if event == "ask":
                made = self._hand_out(count, record["time"])
            else:
                made = self._hand_out_retest(np.asarray(record["indices"], dtype=np.int64), record["time"])
            ids = [s.id for s in made]
            same = ids == record["ids"] and np.array_equal(
                np.stack([s.index for s in made]) if made else np.zeros((0, self.grid.d)),
                np.asarray(record["indices"], dtype=np.int64).reshape(-1, self.grid.d),
            )
            if not same:
                raise JournalError(
                    f"replay diverged at batch {record['batch']}: the optimizer now asks different points than the "
                    "journal records (different package versions or machine?); the journal itself is intact"
                )
        elif event == "tell":
            self._apply_tell(record["ids"], [np.nan if v is None else v for v in record["responses"]])
        elif event == "expire":
            self._apply_expire(record["ids"])
        else:
            raise JournalError(f"unknown journal record {event!r}")

    def __repr__(self) -> str:
        return (
            f"ClosedLoopSession({self.optimizer.name!r}, shown={self.shown}/{self.budget}, "
            f"outstanding={len(self.outstanding)}, best={self.history.best_value:.4g})"
        )

    # -------------------------------------------------------------- status
    @property
    def budget_left(self) -> int:
        return self.budget - self.shown

    @property
    def outstanding(self) -> List[int]:
        """Ids handed out and not yet answered or declared missing."""
        with self._lock:
            return list(self._outstanding)

    @property
    def done(self) -> bool:
        """The budget is spent and no search stimulus is still awaited."""
        with self._lock:
            return self.budget_left == 0 and not any(self.stimuli[i].kind == "search" for i in self._outstanding)

    # ----------------------------------------------------------------- ask
    def ask(self, n: Optional[int] = None) -> StimulusBatch:
        """Up to ``n`` stimuli to show next (default: the rest of the optimizer's current batch).

        May be empty: when the budget is spent, or when the current batch still awaits
        responses that are not yet declared missing (answer or ``expire()`` them first).
        """
        if n is not None and int(n) < 1:
            raise ConfigError(f"ask(n) needs n >= 1, got {n}")
        with self._lock:
            self._expire_overdue()
            now = time.time()
            made = self._hand_out(n, now)
            if made:
                self._journal_batch("ask", made, now)
            return self._batch("search", made)

    def ask_retest(self, count: int, top: int = 1) -> StimulusBatch:
        """The ``top`` best stimuli so far (by mean response), ``count`` times each, interleaved, to
        re-measure them (extra to the budget). Once re-tested, the MEI is the one with the highest
        re-test mean: choosing among the top few by fresh trials undoes the winner's curse of noise."""
        if int(count) < 1 or int(top) < 1:
            raise ConfigError(f"ask_retest needs count >= 1 and top >= 1, got count={count}, top={top}")
        with self._lock:
            ranked = self.ranked(int(top))
            if not ranked:
                raise ConfigError("there is no MEI to re-test yet: tell some responses first")
            now = time.time()
            made = self._hand_out_retest(np.tile(np.stack([r[0] for r in ranked]), (int(count), 1)), now)
            self._journal_batch("retest", made, now)
            return self._batch("retest", made)

    def _journal_batch(self, event: str, made: List[Stimulus], now: float) -> None:
        self.journal.append({
            "event": event, "batch": made[0].batch, "ids": [s.id for s in made],
            "indices": np.stack([s.index for s in made]).tolist(), "time": now,
        })

    def _batch(self, kind: str, made: List[Stimulus]) -> StimulusBatch:
        indices = np.stack([s.index for s in made]) if made else np.zeros((0, self.grid.d), dtype=np.int64)
        return StimulusBatch(
            number=made[0].batch if made else -1, kind=kind, ids=np.array([s.id for s in made], dtype=np.int64),
            indices=indices, latents=self.grid.to_latent(indices) if made else np.zeros((0, self.grid.d), np.float32),
            generator=self.generator,
        )

    def _hand_out(self, n: Optional[int], now: float) -> List[Stimulus]:
        """Take trials of the open optimizer batch (asking the optimizer for a new one if none is open)."""
        if self._round is None and self.budget_left > 0:
            indices = self.optimizer.ask()
            candidates = [_Candidate(index=row, queued=self.repeats) for row in indices]
            queue = [(c, 0, None) for c in range(len(candidates)) for _ in range(self.repeats)]
            self._round = _Round(indices, candidates, queue)
        if self._round is None:
            return []
        queue = self._round.queue
        take = min(len(queue), self.budget_left, len(queue) if n is None else int(n))
        if take <= 0:
            return []
        batch = self._batches
        self._batches += 1
        made = []
        for position, attempt, _ in queue[:take]:
            candidate = self._round.candidates[position]
            candidate.queued -= 1
            candidate.outstanding += 1
            self.shown += 1
            made.append(self._new_stimulus(candidate.index, "search", batch, now, position, attempt, order=self.shown))
        del queue[:take]
        return made

    def _hand_out_retest(self, indices: np.ndarray, now: float) -> List[Stimulus]:
        batch = self._batches
        self._batches += 1
        return [self._new_stimulus(row, "retest", batch, now) for row in indices]

    def _new_stimulus(self, index, kind, batch, now, candidate=None, attempt=0, order=0) -> Stimulus:
        stimulus = Stimulus(self._next_id, np.array(index, dtype=np.int64), kind, batch, now, candidate, attempt, order=order)
        self.stimuli[stimulus.id] = stimulus
        self._outstanding[stimulus.id] = None
        self._next_id += 1
        return stimulus

    # ---------------------------------------------------------------- tell
    def tell(self, ids: Sequence, responses: Sequence) -> TellReport:
        """Record responses to stimuli by id (any subset, any order); ``None``/NaN means "no response"."""
        with self._lock:
            ids, values = self._check_tell(ids, responses)
            if not len(ids):
                return TellReport(0, 0, 0, 0, 0)
            self.journal.append({
                "event": "tell", "ids": ids, "time": time.time(),
                "responses": [None if np.isnan(v) else float(v) for v in values],
            })
            return self._apply_tell(ids, values)

    def _check_tell(self, ids, responses):
        # strict: an id 1.7 is not stimulus 1, and True or " 7.5 " are not responses (nothing is coerced)
        ids = [parse_id(i) for i in np.asarray(ids, dtype=object).reshape(-1)]
        raw = list(np.asarray(responses, dtype=object).reshape(-1))
        if len(raw) != len(ids):
            raise ConfigError(f"tell() needs one response per id: got {len(ids)} ids and {len(raw)} responses")
        parsed = [parse_response(v) for v in raw]
        values = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
        unknown = [i for i in ids if i not in self.stimuli]
        if unknown:
            raise ConfigError(
                f"unknown stimulus ids {unknown[:10]}{' ...' if len(unknown) > 10 else ''}: only ids handed out by ask() "
                f"can be answered (0..{self._next_id - 1} so far); nothing of this tell was recorded"
            )
        if self.on_duplicate == "error":
            seen, repeated = set(), []
            for i, v in zip(ids, values):
                if (self.stimuli[i].response is not None or i in seen) and not np.isnan(v):
                    repeated.append(i)
                seen.add(i)
            if repeated:
                raise ConfigError(f"ids {repeated[:10]} already have a response; nothing of this tell was recorded")
        return ids, values

    def _apply_tell(self, ids, values) -> TellReport:
        accepted = late = duplicates = missing = 0
        told_before = self.batches_told
        for i, value in zip(ids, values):
            stimulus = self.stimuli[i]
            if stimulus.response is not None:
                duplicates += 1
            elif np.isnan(value):
                if stimulus.status == "outstanding":
                    missing += 1
                    self._declare_missing(stimulus)
            elif stimulus.status == "outstanding":
                accepted += 1
                self._answer(stimulus, float(value))
            else:  # declared missing before its response came
                late += 1
                self._answer_late(stimulus, float(value))
        self.duplicates += duplicates
        self.late += late
        self._close_round_if_resolved()
        return TellReport(accepted, late, duplicates, missing, self.batches_told - told_before)

    def _answer(self, stimulus: Stimulus, value: float) -> None:
        stimulus.status, stimulus.response = "answered", value
        del self._outstanding[stimulus.id]
        if stimulus.kind == "search":
            candidate = self._round.candidates[stimulus.candidate]
            candidate.outstanding -= 1
            candidate.values.append(value)
            self.history.append(stimulus.index[None], np.array([value]))

    def _answer_late(self, stimulus: Stimulus, value: float) -> None:
        stimulus.status, stimulus.response = "late", value
        if stimulus.kind != "search":
            return
        self.history.append(stimulus.index[None], np.array([value]))
        if self._round is None:
            return
        queue = self._round.queue
        for k, (position, _attempt, replaces) in enumerate(queue):
            if replaces == stimulus.id:  # its re-show was not handed out yet: use this response instead
                del queue[k]
                candidate = self._round.candidates[position]
                candidate.queued -= 1
                candidate.values.append(value)
                return

    # -------------------------------------------------------------- expiry
    def expire(self, ids: Optional[Sequence] = None) -> int:
        """Declare outstanding stimuli missing (default: all); returns how many were."""
        with self._lock:
            chosen = self.outstanding if ids is None else [int(i) for i in ids]
            unknown = [i for i in chosen if i not in self.stimuli]
            if unknown:
                raise ConfigError(f"unknown stimulus ids {unknown[:10]}: only ids handed out by ask() can expire")
            chosen = [i for i in chosen if self.stimuli[i].status == "outstanding"]
            if chosen:
                self.journal.append({"event": "expire", "ids": chosen, "time": time.time()})
                self._apply_expire(chosen)
            return len(chosen)

    def _expire_overdue(self) -> None:
        if self.missing_after is None:
            return
        if self.missing_after == "ask":
            overdue = self.outstanding
        else:
            limit = time.time() - float(self.missing_after)
            overdue = [i for i in self.outstanding if self.stimuli[i].shown_at <= limit]
        if overdue:
            self.expire(overdue)

    def _apply_expire(self, ids) -> None:
        for i in ids:
            stimulus = self.stimuli[i]
            if stimulus.status == "outstanding":
                self._declare_missing(stimulus)
        self._close_round_if_resolved()

    def _declare_missing(self, stimulus: Stimulus) -> None:
        stimulus.status = "missing"
        del self._outstanding[stimulus.id]
        if stimulus.kind != "search":
            return
        candidate = self._round.candidates[stimulus.candidate]
        candidate.outstanding -= 1
        if self.missing == "reshow" and stimulus.attempt < self.max_reshows:
            queue = self._round.queue
            front = next((k for k, item in enumerate(queue) if item[2] is None), len(queue))
            queue.insert(front, (stimulus.candidate, stimulus.attempt + 1, stimulus.id))  # re-shows first, in order
            candidate.queued += 1

    def _close_round_if_resolved(self) -> None:
        """Tell the optimizer its batch once no trial of it is queued or awaited."""
        round_ = self._round
        if round_ is None or any(c.queued or c.outstanding for c in round_.candidates):
            return
        fallback = float(np.median(self.history.values)) if len(self.history) else 0.0
        values = np.array([np.mean(c.values) if c.values else fallback for c in round_.candidates])
        self._round = None
        self.optimizer.tell(round_.indices, values)
        self.batches_told += 1

    # ------------------------------------------------------------- results
    def _responses_by_index(self, kind: str) -> Dict[bytes, list]:
        """index bytes -> [index, responses, first order] over answered stimuli of ``kind``."""
        grouped: Dict[bytes, list] = {}
        for s in self.stimuli.values():
            if s.kind == kind and s.response is not None:
                grouped.setdefault(s.index.tobytes(), [s.index, [], s.order])[1].append(s.response)
        return grouped

    def ranked(self, top: Optional[int] = None) -> List[tuple]:
        """Distinct search stimuli as (grid index, mean response, showings), highest mean first
        (late responses included, re-tests not; ties: the earlier shown first)."""
        with self._lock:
            grouped = self._responses_by_index("search").values()
            order = sorted(grouped, key=lambda e: (-np.mean(e[1]), e[2]))
            return [(e[0].copy(), float(np.mean(e[1])), len(e[1])) for e in order[:top]]

    def best(self) -> Optional[tuple]:
        """(grid index, mean response, showings) of the search stimulus with the highest mean response."""
        ranked = self.ranked(1)
        return ranked[0] if ranked else None

    def _mei_index(self) -> Optional[np.ndarray]:
        """The re-tested stimulus with the highest re-test mean, else the best by search responses."""
        retested = self._responses_by_index("retest")
        if retested:
            search = {key: np.mean(e[1]) for key, e in self._responses_by_index("search").items()}
            key = max(retested, key=lambda k: (np.mean(retested[k][1]), search.get(k, -np.inf)))
            return retested[key][0].copy()
        best = self.best()
        return None if best is None else best[0]

    def retest(self) -> Optional[dict]:
        """Mean, standard error and count of the re-test responses of the current MEI."""
        with self._lock:
            index = self._mei_index()
            values = [] if index is None else self._responses_by_index("retest").get(index.tobytes(), [None, []])[1]
            if not len(values):
                return None
            values = np.array(values)
            sem = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
            return {"mean": float(values.mean()), "sem": sem, "count": int(len(values))}

    def mei(self) -> Optional[MEI]:
        """The most exciting image so far (see ``_mei_index``): its search mean response as
        activation, and its re-test if one was made."""
        with self._lock:
            index = self._mei_index()
            if index is None:
                return None
            value = next((mean for idx, mean, _n in self.ranked() if np.array_equal(idx, index)), float("nan"))
            first = min(s.order for s in self.stimuli.values()
                        if s.kind == "search" and s.response is not None and np.array_equal(s.index, index))
            mei = MEI(
                index=index, latent=self.grid.to_latent(index[None])[0],
                image=self.generator(index[None])[0].cpu().numpy(), activation=float(value), query=first,
            )
            retest = self.retest()
            if retest is not None:
                mei.retest_mean, mei.retest_sem, mei.retest_count = retest["mean"], retest["sem"], retest["count"]
            return mei

    def table(self) -> dict:
        """Every stimulus as columns: id, kind, batch, attempt, status, response (NaN if none), shown_at."""
        with self._lock:
            rows = sorted(self.stimuli.values(), key=lambda s: s.id)
            return {
                "id": np.array([s.id for s in rows], dtype=np.int64),
                "kind": np.array([s.kind for s in rows]),
                "batch": np.array([s.batch for s in rows], dtype=np.int64),
                "attempt": np.array([s.attempt for s in rows], dtype=np.int64),
                "status": np.array([s.status for s in rows]),
                "response": np.array([np.nan if s.response is None else s.response for s in rows]),
                "shown_at": np.array([s.shown_at for s in rows]),
                "indices": np.stack([s.index for s in rows]) if rows else np.zeros((0, self.grid.d), np.int64),
            }

    def summary(self) -> dict:
        """Plain-JSON counts of search stimuli (re-tests apart) and the best response so far."""
        with self._lock:
            statuses = [s.status for s in self.stimuli.values() if s.kind == "search"]
            best = self.best()
            return {
                "shown": self.shown,
                "budget": self.budget,
                "retest_shown": sum(s.kind == "retest" for s in self.stimuli.values()),
                "answered": statuses.count("answered"),
                "missing": statuses.count("missing"),
                "late": self.late,
                "duplicates": self.duplicates,
                "outstanding": statuses.count("outstanding"),
                "batches_told": self.batches_told,
                "best_mean_response": None if best is None else best[1],
                "best_showings": None if best is None else best[2],
                "retest": self.retest(),
            }

    def close(self) -> None:
        """Close the journal file and release the optimizer's resources."""
        with self._lock:
            self.journal.close()
            self.optimizer.close()
