"""SIGTERM handled like Ctrl-C, so a batch system's time limit or ``kill`` loses nothing.

Python turns SIGINT (Ctrl-C) into ``KeyboardInterrupt``, which the commands already handle:
a search stops and saves, a sweep stops and keeps its finished cells. SIGTERM, by default, ends
the process on the spot. :func:`interrupt_on_sigterm` makes SIGTERM raise ``KeyboardInterrupt``
too, while a command runs; :meth:`SignalGuard.deferred` holds both signals back during a
final save (the interrupt is raised once the save is complete).
Signal handlers can only be set from the main thread; elsewhere both do nothing.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator, List

#: the signals treated as "stop, keep what you have"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


class SignalGuard:
    """Handle to the SIGTERM setting of :func:`interrupt_on_sigterm` (see :meth:`deferred`)."""

    def __init__(self, active: bool):
        self.active = active
        self.received: List[int] = []

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Run the block without being interrupted by SIGINT/SIGTERM; a signal that arrived meanwhile
        raises ``KeyboardInterrupt`` once the block has finished."""
        if not self.active:
            yield
            return
        received: List[int] = []
        previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.received.extend(received)
        if received:
            raise KeyboardInterrupt(f"stopped by {signal.Signals(received[0]).name}")


@contextmanager
def interrupt_on_sigterm() -> Iterator[SignalGuard]:
    """While the block runs, SIGTERM raises ``KeyboardInterrupt`` in the main thread, like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield SignalGuard(active=False)
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield SignalGuard(active=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["STOP_SIGNALS", "SignalGuard", "interrupt_on_sigterm"]
