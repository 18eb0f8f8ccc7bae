"""An exclusive OS lock on a folder, so two processes never write the same results at once.

The lock is ``flock`` on a small file inside the folder: the operating system drops it when the
holder exits, even on ``kill -9``, so a crashed run never leaves a stale lock behind. The file
names the holder (host and pid) for the error the next process gets.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Union

from mango_widgets.errors import ConfigError


class FolderLock:
    """Held by one process at a time: :meth:`acquire` raises a ConfigError naming the holder otherwise.

    ``what`` describes the folder in messages, ``verb`` how the holder uses it, and ``advice`` what
    to do when it is taken.
    """

    def __init__(self, path: Union[str, Path], what: str = "folder", verb: str = "is in use by",
                 advice: str = "wait for it to end, or use another folder"):
        self.path = Path(path)
        self.what, self.verb, self.advice = what, verb, advice
        self._handle = None

    @property
    def held(self) -> bool:
        return bool(self._handle)

    def acquire(self) -> FolderLock:
        if self._handle is not None:
            return self
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: nothing to hold
            self._handle = False
            return self
        try:
            handle = open(self.path, "a+")
        except OSError as error:
            raise ConfigError(
                f"cannot write the {self.what} {self.path.parent} ({error.strerror or error}); choose a folder you can write to"
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(f"the {self.what} {self.path.parent} {self.verb} {holder}; {self.advice}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle:
            self._handle.close()  # closing drops the flock
        self._handle = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


__all__ = ["FolderLock"]
