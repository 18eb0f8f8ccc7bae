"""A closed-loop session: an optimizer driven by an outside responder (a lab rig, a simulated neuron).

``ask()`` hands out stimuli (unique ids, grid indices, latents, images); ``tell(ids, responses)``
takes measured responses in any grouping and order. The optimizer keeps its pending-batch
contract: the session tells it a batch only once every candidate of that batch is resolved.

The rules (docs/closed_loop.md explains them):

* Budget: every search stimulus handed out counts, re-shows included; re-tests of the MEI
  (``ask_retest``) are extra and never reach the optimizer. As in ``Search``, a batch is cut to the
  candidates the budget pays for in full (``repeats`` showings each; a cut batch is shown, not told)
  and its first showings are counted when it is asked; a re-show is made only while the budget
  still pays for it, else the trial is given up as after ``max_reshows``.
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
from typing import List, Optional, Sequence, Union

import numpy as np

from mango_widgets.core.driver import Driver
from mango_widgets.core.generator import Generator
from mango_widgets.core.history import MEI
from mango_widgets.core.optimizers import Optimizer
from mango_widgets.errors import ConfigError, unknown_choice, whole_number
from mango_widgets.studies.closed_loop import views
from mango_widgets.studies.closed_loop.journal import Journal, journal_exists
from mango_widgets.studies.closed_loop.rules import (
    DUPLICATE_POLICIES,
    MISSING_POLICIES,
    Stimulus,
    TellReport,
    TrialBook,
)
from mango_widgets.studies.closed_loop.session_journal import (
    JOURNAL_VERSION,
    batch_record,
    expire_record,
    read_session_journal,
    replay,
    tell_record,
)

__all__ = ["ClosedLoopSession", "StimulusBatch", "TellReport"]


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


def _from_book(name: str, doc: str) -> property:
    """A read-only session attribute kept by its :class:`TrialBook`."""
    return property(lambda session: getattr(session.book, name), doc=doc)


class ClosedLoopSession:
    """Maximise an outside responder's answers to generated images with ``optimizer``.

    ``folder`` (optional) keeps the journal; ``repeats`` shows each candidate that many times
    and tells the optimizer the mean. Parameters of a method given by name go as keywords or in
    ``optimizer_params`` (nevergrad's own ``optimizer=`` only there: ``optimizer_params={"optimizer": "CMA"}``).
    The optimizer is stepped by a :class:`~mango_widgets.core.driver.Driver` (budget, repeats, batch
    cut); the rules live in :mod:`.rules`, the journal records in :mod:`.session_journal`, the
    results in :mod:`.views`.
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
        max_reshows = whole_number(max_reshows, "max_reshows", minimum=0)
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
        if budget is None:
            raise ConfigError("a closed-loop session needs a budget: a positive number of shown stimuli")
        self.driver = Driver(generator.grid, optimizer, budget=budget, seed=seed, repeats=repeats, **optimizer_params)
        by_name = isinstance(optimizer, str)
        self.method = optimizer.lower() if by_name else None
        self.optimizer_params = dict(optimizer_params) if by_name else None
        self.generator = generator
        self.grid = generator.grid
        self.budget, self.seed, self.repeats = self.driver.budget, self.driver.seed, self.driver.repeats
        self.missing, self.max_reshows = missing, int(max_reshows)
        self.missing_after, self.on_duplicate = missing_after, on_duplicate
        self.book = TrialBook(self.driver, missing, self.max_reshows, on_duplicate)
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
        records = read_session_journal(folder, generator.grid)
        config = records[0]
        if config.get("generator") not in (None, generator.name):
            raise ConfigError(
                f"this session's stimuli were made by the generator {config['generator']!r}, not {generator.name!r}: "
                "resume it with the generator (and --models) it was started with"
            )
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
        replay(session.book, records[1:])
        session.journal.records = list(records)
        return session

    def __repr__(self) -> str:
        return (
            f"ClosedLoopSession({self.optimizer.name!r}, shown={self.shown}/{self.budget}, "
            f"outstanding={len(self.outstanding)}, best={self.history.best_value:.4g})"
        )

    # -------------------------------------------------------------- status
    @property
    def optimizer(self) -> Optimizer:
        return self.driver.optimizer

    history = _from_book("history", "Every search response (History), in the order it arrived.")
    stimuli = _from_book("stimuli", "Every stimulus handed out, by id.")
    shown = _from_book("shown", "Search stimuli handed out (the budget counts these, re-shows included).")
    duplicates = _from_book("duplicates", "Responses ignored because their id already had one.")
    late = _from_book("late", "Responses that came after their stimulus was declared missing.")
    batches_told = _from_book("batches_told", "Optimizer batches told so far.")

    @property
    def budget_left(self) -> int:
        """Search stimuli the budget still pays for (0 once no more can be handed out)."""
        with self._lock:
            return self.book.budget_left

    @property
    def outstanding(self) -> List[int]:
        """Ids handed out and not yet answered or declared missing."""
        with self._lock:
            return list(self.book.outstanding)

    @property
    def done(self) -> bool:
        """The budget is spent and no search stimulus is still awaited."""
        with self._lock:
            return self.book.finished

    # ----------------------------------------------------------------- ask
    def ask(self, n: Optional[int] = None) -> StimulusBatch:
        """Up to ``n`` stimuli to show next (default: the rest of the optimizer's current batch).

        May be empty: when the budget is spent, or when the current batch still awaits
        responses that are not yet declared missing (answer or ``expire()`` them first).
        """
        if n is not None and int(n) < 1:
            raise ConfigError(f"ask(n) needs n >= 1, got {n}")
        with self._lock:
            overdue = self.book.overdue(self.missing_after, time.time())
            if overdue:
                self.expire(overdue)
            now = time.time()
            made = self.book.hand_out(n, now)
            if made:
                self.journal.append(batch_record("ask", made, now))
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
            made = self.book.hand_out_retest(np.tile(np.stack([r[0] for r in ranked]), (int(count), 1)), now)
            self.journal.append(batch_record("retest", made, now))
            return self._batch("retest", made)

    def _batch(self, kind: str, made: List[Stimulus]) -> StimulusBatch:
        indices = np.stack([s.index for s in made]) if made else np.zeros((0, self.grid.d), dtype=np.int64)
        return StimulusBatch(
            number=made[0].batch if made else -1, kind=kind, ids=np.array([s.id for s in made], dtype=np.int64),
            indices=indices, latents=self.grid.to_latent(indices) if made else np.zeros((0, self.grid.d), np.float32),
            generator=self.generator,
        )

    # ---------------------------------------------------------------- tell
    def tell(self, ids: Sequence, responses: Sequence) -> TellReport:
        """Record responses to stimuli by id (any subset, any order); ``None``/NaN means "no response"."""
        with self._lock:
            ids, values = self.book.check_tell(ids, responses)
            if not len(ids):
                return TellReport(0, 0, 0, 0, 0)
            self.journal.append(tell_record(ids, values, time.time()))
            return self.book.apply_tell(ids, values)

    def expire(self, ids: Optional[Sequence] = None) -> int:
        """Declare outstanding stimuli missing (default: all); returns how many were."""
        with self._lock:
            chosen = self.outstanding if ids is None else [int(i) for i in ids]
            self.book.check_known(chosen, action="expire", call="expire")
            chosen = [i for i in chosen if self.stimuli[i].status == "outstanding"]
            if chosen:
                self.journal.append(expire_record(chosen, time.time()))
                self.book.apply_expire(chosen)
            return len(chosen)

    # ------------------------------------------------------------- results
    def ranked(self, top: Optional[int] = None) -> List[tuple]:
        """Distinct search stimuli as (grid index, mean response, showings), highest mean first
        (late responses included, re-tests not; ties: the earlier shown first)."""
        with self._lock:
            return views.ranked(self.stimuli.values(), top)

    def best(self) -> Optional[tuple]:
        """(grid index, mean response, showings) of the search stimulus with the highest mean response."""
        with self._lock:
            return views.best(self.stimuli.values())

    def retest(self) -> Optional[dict]:
        """Mean, standard error and count of the re-test responses of the current MEI."""
        with self._lock:
            return views.retest(list(self.stimuli.values()))

    def mei(self) -> Optional[MEI]:
        """The most exciting image so far: the re-tested stimulus with the highest re-test mean, else the
        best by search responses; its search mean response as activation, and its re-test if one was made."""
        with self._lock:
            return views.mei(list(self.stimuli.values()), self.generator)

    def table(self) -> dict:
        """Every stimulus as columns: id, kind, batch, attempt, status, response (NaN if none), shown_at."""
        with self._lock:
            return views.table(self.stimuli.values(), self.grid.d)

    def summary(self) -> dict:
        """Plain-JSON counts of search stimuli (re-tests apart) and the best response so far."""
        with self._lock:
            return views.summary(self.book)

    def close(self) -> None:
        """Close the journal file and release the optimizer's resources."""
        with self._lock:
            self.journal.close()
            self.driver.close()
