"""What a sweep is made of: cells (one search each) and the models they search on.

A :class:`Cell` is one point of layers x units x checkpoints x methods x seeds (plus the
budget, exposure T and grid spacing that make its result what it is); its ``key`` names it
in the result store. A model source says which checkpoints exist and builds a network at a
checkpoint and the generator; it is a small picklable value so Dask can ship it to workers,
which build (and cache) the models themselves. Sources are defined in
:mod:`mango_widgets.models.source` (``"demo"`` is the bundled demo SNN and DCGAN).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Iterable, List, Optional, Sequence, Union

from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.models.source import SOURCES, DemoModels, ModelSource, model_source  # noqa: F401  (the sweep's model sources)

#: the columns that make a cell unique, in the order of its key
KEY_FIELDS = ("network", "epoch", "layer", "unit", "method", "seed", "budget", "T", "spacing")
#: how a cell's search starts: from scratch, or from the MEI of the cell it depends on (see engine.plan)
INITS = ("cold", "warm")


@dataclass(frozen=True)
class Cell:
    """One search of a sweep: ``method`` on ``layer:unit`` of ``network`` at checkpoint ``epoch``."""

    network: str
    epoch: int
    layer: str
    unit: int
    method: str
    seed: int
    budget: int
    T: int
    spacing: str = "uniform"
    init: str = "cold"  # "warm": starts from the MEI of the cell it depends on in a Plan

    def __post_init__(self):
        if self.init not in INITS:
            raise unknown_choice("init", self.init, INITS)

    @property
    def target(self) -> str:
        return f"{self.layer}:{self.unit}"

    @property
    def key(self) -> str:
        """Unique, readable name of the cell, e.g. ``demo|epoch=3|lif3:7|tt-b|seed=0|budget=2000|T=20|uniform``."""
        key = (
            f"{self.network}|epoch={self.epoch}|{self.target}|{self.method}|seed={self.seed}"
            f"|budget={self.budget}|T={self.T}|{self.spacing}"
        )
        return key if self.init == "cold" else f"{key}|{self.init}"  # cold keys read as before

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Cell:
        """A cell from a dict with at least the key fields (extra entries are ignored)."""
        missing = [name for name in KEY_FIELDS if name not in data]
        if missing:
            raise ConfigError(f"a cell needs the fields {', '.join(KEY_FIELDS)}; missing: {', '.join(missing)}")
        names = {f.name for f in fields(cls)}
        data = {**data, "init": data.get("init") if data.get("init") in INITS else "cold"}  # older stores have no init
        cell = cls(**{k: v for k, v in data.items() if k in names})
        return cls(
            network=str(cell.network), epoch=int(cell.epoch), layer=str(cell.layer), unit=int(cell.unit),
            method=str(cell.method).lower(), seed=int(cell.seed), budget=int(cell.budget), T=int(cell.T),
            spacing=str(cell.spacing), init=str(cell.init or "cold"),
        )


# -------------------------------------------------------------- choice parsing
_RANGE = re.compile(r"^\s*(-?\d+)\s*(?:-|\.\.)\s*(-?\d+)\s*$")


def parse_ints(value, what: str, valid: Optional[Sequence[int]] = None) -> List[int]:
    """Integers from ints, ranges or text like ``"0-7"``, ``"1,6,12"``, ``"all"``/``"last"`` (need ``valid``)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "last"):
            if valid is None:
                raise ConfigError(f"{what}={value!r} needs a known set of {what}; give numbers instead")
            return list(valid) if text == "all" else [list(valid)[-1]]
        numbers: List[int] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _RANGE.match(part)
            if match:
                low, high = int(match.group(1)), int(match.group(2))
                if high < low:
                    raise ConfigError(f"{what} range {part!r} is empty; write low-high with low <= high")
                numbers.extend(range(low, high + 1))
            elif part.lstrip("-").isdigit():
                numbers.append(int(part))
            else:
                raise ConfigError(f"cannot read {what} {part!r}; write numbers, ranges like 0-7, or 'all'")
        value = numbers
    elif isinstance(value, int):
        value = [value]
    try:
        numbers = [int(v) for v in value]
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{what} must be integers, ranges like '0-7' or 'all', got {value!r}") from error
    if not numbers:
        raise ConfigError(f"no {what} given; a sweep needs at least one")
    return list(dict.fromkeys(numbers))  # in order, without repeats


def as_names(value: Union[str, Iterable[str]], what: str) -> List[str]:
    """A list of names from a name, a comma-separated string or an iterable."""
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise ConfigError(f"no {what} given; a sweep needs at least one")
    return names
