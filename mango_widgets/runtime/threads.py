"""Torch intra-op thread count for a block of work, restored afterwards.

torch's thread pool is process-wide, so a search sets it only while it runs; when several
searches run at once (widgets racing methods), the setting made first holds until the last
of them ends, and only then is the original restored.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Optional

from mango_widgets.errors import ConfigError, whole_number

#: environment variable that overrides the default thread count of searches
THREADS_ENV = "MANGO_THREADS"


def default_threads() -> Optional[int]:
    """Threads a search uses unless told otherwise: $MANGO_THREADS, else all cores."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"{THREADS_ENV}={value!r} is not a thread count; set it to a whole number >= 1 (or unset it: all cores)")
        return int(value)
    return os.cpu_count() or 1


class _ThreadSetting:
    """Who holds torch's process-wide thread count, and what to restore when all let go."""

    lock = threading.Lock()
    holders = 0
    original: Optional[int] = None


@contextmanager
def torch_threads(count: Optional[int]):
    """Run the block with ``count`` torch intra-op threads (None: leave as is)."""
    import torch

    if count is None:
        yield
        return
    count = whole_number(count, "threads", minimum=1, fix="give a thread count >= 1, or None to leave torch's setting")
    with _ThreadSetting.lock:
        if _ThreadSetting.holders == 0:
            _ThreadSetting.original = torch.get_num_threads()
            torch.set_num_threads(int(count))
        _ThreadSetting.holders += 1
    try:
        yield
    finally:
        with _ThreadSetting.lock:
            _ThreadSetting.holders -= 1
            if _ThreadSetting.holders == 0:
                torch.set_num_threads(_ThreadSetting.original)
