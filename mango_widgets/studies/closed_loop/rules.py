"""The rules of a closed-loop session: which trials to show, and what each response does.

A :class:`TrialBook` hands out the trials of the driver's current batch (``repeats`` per candidate,
re-shows of missing ones first) and resolves them with responses: answered, missing (re-shown or
given up), late or duplicate. Once every candidate of a batch is resolved it tells the driver the
mean of each candidate's answered trials (one with none: the median of all search responses so far,
0 before any). The budget belongs to the :class:`~mango_widgets.core.driver.Driver`: a batch's
first showings are counted when the batch is asked (so they are always shown), a re-show when it is
handed out, and only while the budget still pays for it (else the trial is given up, as after
``max_reshows``). No I/O here: the session journals each step before applying it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from mango_widgets.core.driver import Batch, Driver
from mango_widgets.core.history import History
from mango_widgets.errors import ConfigError
from mango_widgets.studies.closed_loop.answers import parse_id, parse_response

MISSING_POLICIES = ("reshow", "impute")
DUPLICATE_POLICIES = ("ignore", "error")


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
    kind: str  # "search" (feeds the optimizer) or "retest" (re-measures the MEI)
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
    """One driver batch (the optimizer's pending ask) and the trials still to show for it."""

    batch: Batch
    candidates: List[_Candidate]  # the shown candidates (all of the batch unless the budget cut it)
    queue: List[tuple]  # (candidate, attempt, id of the stimulus it re-shows or None)

    @property
    def queued_reshows(self) -> int:
        return sum(attempt > 0 for _, attempt, _ in self.queue)


class TrialBook:
    """Every stimulus handed out for ``driver``'s batches (and re-tests) and what became of it."""

    def __init__(self, driver: Driver, missing: str = "reshow", max_reshows: int = 2, on_duplicate: str = "ignore"):
        self.driver = driver
        self.missing, self.max_reshows, self.on_duplicate = missing, int(max_reshows), on_duplicate
        self.history = History(driver.optimizer.grid.d)  # every search response, in the order it arrived
        self.stimuli: Dict[int, Stimulus] = {}
        self.outstanding: Dict[int, None] = {}  # ids awaiting a response, in hand-out order
        self.shown = 0  # search stimuli handed out (the budget counts these)
        self.duplicates = 0
        self.late = 0
        self.batches_told = 0
        self._round: Optional[_Round] = None
        self._next_id = 0
        self._batches = 0

    # ------------------------------------------------------------ status
    @property
    def finished(self) -> bool:
        """No batch is open and the budget pays for no other: nothing more to hand out or await."""
        return self._round is None and self.driver.exhausted

    @property
    def budget_left(self) -> int:
        """Search stimuli the budget still pays for (0 once finished; a remainder below ``repeats`` is unused)."""
        return 0 if self.finished else self.driver.budget - self.shown

    # ----------------------------------------------------------- hand out
    def hand_out(self, n: Optional[int], now: float) -> List[Stimulus]:
        """Up to ``n`` trials of the open batch (asking the driver for a new batch if none is open)."""
        if self._round is None and not self.driver.exhausted:
            batch = self.driver.next_batch()
            self.driver.spend(batch)  # its first showings are paid for now: they will be shown
            repeats = self.driver.repeats
            candidates = [_Candidate(index=row, queued=repeats) for row in batch.shown]
            queue = [(c, 0, None) for c in range(len(candidates)) for _ in range(repeats)]
            self._round = _Round(batch, candidates, queue)
        if self._round is None:
            return []
        queue = self._round.queue
        take = len(queue) if n is None else min(len(queue), int(n))
        if take <= 0:
            return []
        number = self._next_batch_number()
        made = []
        for position, attempt, _ in queue[:take]:
            candidate = self._round.candidates[position]
            candidate.queued -= 1
            candidate.outstanding += 1
            if attempt:
                self.driver.charge(1)
            self.shown += 1
            made.append(self._new_stimulus(candidate.index, "search", number, now, position, attempt, order=self.shown))
        del queue[:take]
        return made

    def hand_out_retest(self, indices: np.ndarray, now: float) -> List[Stimulus]:
        """Re-test trials of ``indices`` (extra to the budget, never told to the optimizer)."""
        number = self._next_batch_number()
        return [self._new_stimulus(row, "retest", number, now) for row in indices]

    def _next_batch_number(self) -> int:
        self._batches += 1
        return self._batches - 1

    def _new_stimulus(self, index, kind, batch, now, candidate=None, attempt=0, order=0) -> Stimulus:
        stimulus = Stimulus(self._next_id, np.array(index, dtype=np.int64), kind, batch, now, candidate, attempt, order=order)
        self.stimuli[stimulus.id] = stimulus
        self.outstanding[stimulus.id] = None
        self._next_id += 1
        return stimulus

    # -------------------------------------------------------------- tell
    def check_tell(self, ids: Sequence, responses: Sequence) -> tuple:
        """(ids, float responses with NaN for "none"), or a ConfigError if any of it cannot be recorded."""
        # strict: an id 1.7 is not stimulus 1, and True or " 7.5 " are not responses (nothing is coerced)
        ids = [parse_id(i) for i in np.asarray(ids, dtype=object).reshape(-1)]
        raw = list(np.asarray(responses, dtype=object).reshape(-1))
        if len(raw) != len(ids):
            raise ConfigError(f"tell() needs one response per id: got {len(ids)} ids and {len(raw)} responses")
        parsed = [parse_response(v) for v in raw]
        values = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
        self.check_known(ids)
        if self.on_duplicate == "error":
            seen, repeated = set(), []
            for i, v in zip(ids, values):
                if (self.stimuli[i].response is not None or i in seen) and not np.isnan(v):
                    repeated.append(i)
                seen.add(i)
            if repeated:
                raise ConfigError(f"ids {repeated[:10]} already have a response; nothing of this tell was recorded")
        return ids, values

    def check_known(self, ids: Sequence[int], action: str = "be answered", call: str = "tell") -> None:
        """A ConfigError naming the ids that were never handed out (``action``: what ``call`` tried with them)."""
        unknown = [i for i in ids if i not in self.stimuli]
        if unknown:
            more = " ..." if len(unknown) > 10 else ""
            raise ConfigError(
                f"unknown stimulus ids {unknown[:10]}{more}: only ids handed out by ask() can {action} "
                f"(0..{self._next_id - 1} so far); nothing of this {call} was recorded"
            )

    def apply_tell(self, ids: Sequence[int], values: Sequence[float]) -> TellReport:
        """Resolve stimuli with checked responses (NaN: no response); tells the driver completed batches."""
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
        del self.outstanding[stimulus.id]
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

    # ------------------------------------------------------------ expiry
    def overdue(self, missing_after, now: float) -> List[int]:
        """Outstanding ids to declare missing before the next ask under the ``missing_after`` rule."""
        if missing_after is None:
            return []
        if missing_after == "ask":
            return list(self.outstanding)
        limit = now - float(missing_after)
        return [i for i in self.outstanding if self.stimuli[i].shown_at <= limit]

    def apply_expire(self, ids: Sequence[int]) -> None:
        """Declare the outstanding ones of ``ids`` missing."""
        for i in ids:
            stimulus = self.stimuli[i]
            if stimulus.status == "outstanding":
                self._declare_missing(stimulus)
        self._close_round_if_resolved()

    def _declare_missing(self, stimulus: Stimulus) -> None:
        stimulus.status = "missing"
        del self.outstanding[stimulus.id]
        if stimulus.kind != "search":
            return
        candidate = self._round.candidates[stimulus.candidate]
        candidate.outstanding -= 1
        if self.missing == "reshow" and stimulus.attempt < self.max_reshows and self._reshow_room() > 0:
            queue = self._round.queue
            front = next((k for k, item in enumerate(queue) if item[2] is None), len(queue))
            queue.insert(front, (stimulus.candidate, stimulus.attempt + 1, stimulus.id))  # re-shows first, in order
            candidate.queued += 1

    def _reshow_room(self) -> int:
        """Re-shows the budget still pays for, beyond those already queued."""
        return self.driver.queries_left - self._round.queued_reshows

    def _close_round_if_resolved(self) -> None:
        """Tell the driver its batch once no trial of it is queued or awaited (a cut batch is not told)."""
        round_ = self._round
        if round_ is None or any(c.queued or c.outstanding for c in round_.candidates):
            return
        fallback = float(np.median(self.history.values)) if len(self.history) else 0.0
        values = np.array([np.mean(c.values) if c.values else fallback for c in round_.candidates])
        self._round = None
        self.driver.tell(round_.batch, values)
        if not round_.batch.cut:
            self.batches_told += 1
