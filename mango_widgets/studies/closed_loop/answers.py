"""Reading a presentation program's answer files strictly, entry by entry.

An answer file holds (stimulus id, response) entries, as JSON (``{"responses": {"12": 4.0}}``,
a bare ``{"12": 4.0}``, or a list of ``{"id": 12, "response": 4.0}`` records) or as CSV with the
header ``id,response``. Nothing is coerced: an id is a whole number (a JSON integer, or digits
as a JSON key or CSV cell), a response is a number or empty (``null`` / an empty CSV cell / NaN
means "no response"). ``1.7`` as an id, ``true`` or ``" 7.5 "`` as a response are rejected with
a reason, not read as 1, 1.0 or 7.5. One bad entry rejects only itself: the valid entries of the
same file are used, so a batch never stalls on a typo. File suffixes are matched case-insensitively.
"""
from __future__ import annotations

import csv
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from mango_widgets.errors import ConfigError

#: suffixes of answer files (compared in lower case)
ANSWER_SUFFIXES = (".json", ".csv")
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass
class Answers:
    """The usable entries of one answer file, and the rejected ones with their reasons."""

    ids: List[int] = field(default_factory=list)
    responses: List[Optional[float]] = field(default_factory=list)
    rejected: List[dict] = field(default_factory=list)  # {"entry": ..., "reason": ...}
    unknown: List[int] = field(default_factory=list)  # well-formed ids that were never handed out

    def summary(self) -> str:
        """One line per kind of problem (unknown ids grouped), for the client to read."""
        lines = []
        if self.unknown:
            lines.append(f"unknown stimulus ids {self.unknown[:20]}{' ...' if len(self.unknown) > 20 else ''}: "
                         "only ids in the outbox manifests can be answered")
        lines += [f"{r['entry']}: {r['reason']}" for r in self.rejected if not r.get("unknown")]
        return "\n".join(lines)

    def reject(self, entry, reason: str) -> None:
        self.rejected.append({"entry": entry, "reason": reason})


def is_answer_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in ANSWER_SUFFIXES and not path.name.startswith(".")


def parse_id(value) -> int:
    """A stimulus id: a JSON integer or a string of digits; anything else is a ConfigError."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise ConfigError(f"stimulus id {value!r} is not a whole number; send the id exactly as the manifest gives it (e.g. 17)")


def parse_response(value, from_text: bool = False) -> Optional[float]:
    """A response: a number, or None/NaN/empty for "no response"; booleans, padded or other text are refused."""
    if value is None:
        return None
    if from_text:  # a CSV cell: empty means no response, otherwise a plain decimal number
        if value == "":
            return None
        if value.lower() == "nan":
            return None
        if not _NUMBER.fullmatch(value):
            raise ConfigError(f"response {value!r} is not a plain number; write e.g. 7.5 (no spaces, quotes or units), "
                              "or leave the cell empty for no response")
        value = float(value)
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"response {value!r} is not a number; send a JSON number (e.g. 7.5), or null for no response")
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ConfigError(f"response {value!r} is not finite; send a finite number, or null for no response")
    return value


def _entries(path: Path) -> List[Tuple[object, object, bool]]:
    """(raw id, raw response, response is text) of every entry; a ConfigError if the file as a whole is unreadable."""
    if path.suffix.lower() == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows and not {"id", "response"} <= set(rows[0]):
            raise ConfigError(f"{path.name}: a CSV answer needs the header 'id,response', got {list(rows[0])}")
        return [(row["id"], row["response"] or "", True) for row in rows]
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path.name} is not valid JSON ({error}); write the file completely, then rename it into inbox/") from None
    answers = data.get("responses", data) if isinstance(data, dict) else data
    if isinstance(answers, dict):
        return [(key, value, False) for key, value in answers.items()]
    if isinstance(answers, list):
        return [(a.get("id") if isinstance(a, dict) else a, a.get("response") if isinstance(a, dict) else None, False)
                for a in answers]
    raise ConfigError(f"{path.name}: expected {{'responses': {{id: value}}}} or a list of {{'id', 'response'}} records")


def read_answers(path: Path, known=None) -> Answers:
    """The entries of an answer file, each checked on its own; ``known(id) -> bool`` rejects ids never handed out."""
    answers = Answers()
    for raw_id, raw_response, text in _entries(path):
        entry = {"id": raw_id, "response": raw_response}
        try:
            stimulus = parse_id(raw_id)
            response = parse_response(raw_response, from_text=text)
        except ConfigError as error:
            answers.reject(entry, str(error))
            continue
        if known is not None and not known(stimulus):
            answers.reject(entry, f"unknown stimulus id {stimulus}: only ids in the outbox manifests can be answered")
            answers.rejected[-1]["unknown"] = True
            answers.unknown.append(stimulus)
            continue
        answers.ids.append(stimulus)
        answers.responses.append(response)
    return answers


def read_responses(path: Path) -> tuple:
    """(ids, responses) of a file whose every entry is valid; a ConfigError naming the first bad one otherwise."""
    answers = read_answers(Path(path))
    if answers.rejected:
        first = answers.rejected[0]
        raise ConfigError(f"{Path(path).name}: {first['reason']} (entry {first['entry']})")
    return answers.ids, answers.responses


__all__ = ["ANSWER_SUFFIXES", "Answers", "is_answer_file", "parse_id", "parse_response", "read_answers", "read_responses"]
