"""Torch intra-op thread count for a block of work, restored afterwards.

torch's thread pool is process-wide, so a search sets it only while it runs. The default
comes from ``benchmarks/threads.py`` on this 2-core machine kind (see docs/performance.md).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Optional

#: environment variable that overrides the default thread count of searches
THREADS_ENV = "MANGO_THREADS"


def default_threads() -> Optional[int]:
    """Threads a search uses unless told otherwise: $MANGO_THREADS, else all cores."""
    value = os.environ.get(THREADS_ENV)
    if value:
        return max(1, int(value))
    return os.cpu_count() or 1


@contextmanager
def torch_threads(count: Optional[int]):
    """Run the block with ``count`` torch intra-op threads (None: leave as is)."""
    import torch

    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
