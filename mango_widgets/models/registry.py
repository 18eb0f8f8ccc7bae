"""Tables of named entries (zoo networks and generators, training recipes): one rule for adding and finding.

Adding never overwrites silently (``replace=True`` says so); a name not in the table is a clear
error listing the names that are.
"""
from __future__ import annotations

from typing import Dict, TypeVar

from mango_widgets.errors import ConfigError, unknown_choice

Entry = TypeVar("Entry")


def add_named(table: Dict[str, Entry], entry: Entry, kind: str, replace: bool = False) -> Entry:
    """Put ``entry`` into ``table`` under ``entry.name``; a taken name is refused unless ``replace``."""
    if entry.name in table and not replace:
        raise ConfigError(f"{kind} {entry.name!r} is already registered; pass replace=True to overwrite it")
    table[entry.name] = entry
    return entry


def named(table: Dict[str, Entry], name: str, kind: str) -> Entry:
    """The entry of ``table`` called ``name``, or an error listing the valid names."""
    if name not in table:
        raise unknown_choice(kind, name, table)
    return table[name]
