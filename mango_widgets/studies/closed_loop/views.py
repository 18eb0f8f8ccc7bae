"""What a closed-loop session has found, read from its stimuli: the ranking, the MEI, tables, counts.

Pure functions of a :class:`~mango_widgets.studies.closed_loop.rules.TrialBook` (or its stimuli);
the session calls them under its lock. Re-tests never change the search ranking; once made, they
pick the MEI among the re-tested stimuli (fresh trials undo the winner's curse of noise).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import numpy as np

from mango_widgets.core.generator import Generator
from mango_widgets.core.history import MEI
from mango_widgets.studies.closed_loop.rules import Stimulus, TrialBook


def responses_by_index(stimuli: Iterable[Stimulus], kind: str) -> Dict[bytes, list]:
    """index bytes -> [index, responses, first order] over the answered stimuli of ``kind``."""
    grouped: Dict[bytes, list] = {}
    for s in stimuli:
        if s.kind == kind and s.response is not None:
            grouped.setdefault(s.index.tobytes(), [s.index, [], s.order])[1].append(s.response)
    return grouped


def ranked(stimuli: Iterable[Stimulus], top: Optional[int] = None) -> List[tuple]:
    """Distinct search stimuli as (grid index, mean response, showings), highest mean first
    (late responses included, re-tests not; ties: the earlier shown first)."""
    grouped = responses_by_index(stimuli, "search").values()
    order = sorted(grouped, key=lambda e: (-np.mean(e[1]), e[2]))
    return [(e[0].copy(), float(np.mean(e[1])), len(e[1])) for e in order[:top]]


def best(stimuli: Iterable[Stimulus]) -> Optional[tuple]:
    """(grid index, mean response, showings) of the search stimulus with the highest mean response."""
    top = ranked(stimuli, 1)
    return top[0] if top else None


def mei_index(stimuli: List[Stimulus]) -> Optional[np.ndarray]:
    """The re-tested stimulus with the highest re-test mean, else the best by search responses."""
    retested = responses_by_index(stimuli, "retest")
    if retested:
        search = {key: np.mean(e[1]) for key, e in responses_by_index(stimuli, "search").items()}
        key = max(retested, key=lambda k: (np.mean(retested[k][1]), search.get(k, -np.inf)))
        return retested[key][0].copy()
    top = best(stimuli)
    return None if top is None else top[0]


def retest(stimuli: List[Stimulus]) -> Optional[dict]:
    """Mean, standard error and count of the re-test responses of the current MEI (None: not re-tested)."""
    index = mei_index(stimuli)
    values = [] if index is None else responses_by_index(stimuli, "retest").get(index.tobytes(), [None, []])[1]
    if not len(values):
        return None
    values = np.array(values)
    sem = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    return {"mean": float(values.mean()), "sem": sem, "count": int(len(values))}


def mei(stimuli: List[Stimulus], generator: Generator) -> Optional[MEI]:
    """The most exciting image so far (see ``mei_index``): its search mean response as activation,
    and its re-test if one was made."""
    index = mei_index(stimuli)
    if index is None:
        return None
    value = next((mean for idx, mean, _n in ranked(stimuli) if np.array_equal(idx, index)), float("nan"))
    first = min(s.order for s in stimuli if s.kind == "search" and s.response is not None and np.array_equal(s.index, index))
    found = MEI(
        index=index, latent=generator.grid.to_latent(index[None])[0],
        image=generator(index[None])[0].cpu().numpy(), activation=float(value), query=first,
    )
    measured = retest(stimuli)
    if measured is not None:
        found.retest_mean, found.retest_sem, found.retest_count = measured["mean"], measured["sem"], measured["count"]
    return found


def table(stimuli: Iterable[Stimulus], d: int) -> dict:
    """Every stimulus as columns: id, kind, batch, attempt, status, response (NaN if none), shown_at, indices."""
    rows = sorted(stimuli, key=lambda s: s.id)
    return {
        "id": np.array([s.id for s in rows], dtype=np.int64),
        "kind": np.array([s.kind for s in rows]),
        "batch": np.array([s.batch for s in rows], dtype=np.int64),
        "attempt": np.array([s.attempt for s in rows], dtype=np.int64),
        "status": np.array([s.status for s in rows]),
        "response": np.array([np.nan if s.response is None else s.response for s in rows]),
        "shown_at": np.array([s.shown_at for s in rows]),
        "indices": np.stack([s.index for s in rows]) if rows else np.zeros((0, d), np.int64),
    }


def summary(book: TrialBook) -> dict:
    """Plain-JSON counts of search stimuli (re-tests apart) and the best response so far."""
    stimuli = list(book.stimuli.values())
    statuses = [s.status for s in stimuli if s.kind == "search"]
    top = best(stimuli)
    return {
        "shown": book.shown,
        "budget": book.driver.budget,
        "retest_shown": sum(s.kind == "retest" for s in stimuli),
        "answered": statuses.count("answered"),
        "missing": statuses.count("missing"),
        "late": book.late,
        "duplicates": book.duplicates,
        "outstanding": statuses.count("outstanding"),
        "batches_told": book.batches_told,
        "best_mean_response": None if top is None else top[1],
        "best_showings": None if top is None else top[2],
        "retest": retest(stimuli),
    }
