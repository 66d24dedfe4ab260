"""One instance per state: the lease a daemon holds for as long as it runs.

Two daemons on one state would both act (4 of 24 votes posted twice, issue 12), so
`govbot run` takes the lease before anything else and gives it back last. The interface
is a lease, not a lock file, because the same question will later be answered by
PostgreSQL advisory locks when replicas share one database (a lease per tenant):
`acquire` either holds it or raises `LeaseHeld` naming the holder; `holder` tells who
holds it without taking it.

`FileLease` is the first form: `flock(2)` on a lock file in the state directory. The
kernel drops the lock when the process dies however it dies (SIGKILL included), so a
crashed daemon never leaves a stale lock behind; the file keeps the holder's PID and
host only to say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import Protocol

#: The lock file's name in the state directory.
LOCK_FILE = "govbot.lock"


class LeaseHeld(Exception):
    """Someone else holds the lease; `holder` says who (as the holder wrote it)."""

    def __init__(self, resource: str, holder: str | None) -> None:
        who = f"another govbot ({holder})" if holder else "another process"
        super().__init__(f"{resource}: {who} holds this state; not starting a second "
                         f"instance (stop the other one first)")
        self.resource = resource
        self.holder = holder


class Lease(Protocol):
    """Exclusive right to act for one state (one tenant, later)."""

    async def acquire(self) -> None:
        """Take the lease now or raise `LeaseHeld`; never waits for it."""

    async def release(self) -> None:
        """Give the lease back (idempotent). Called last at shutdown."""

    async def holder(self) -> str | None:
        """Who holds the lease now ("PID 123 on host"), None when nobody does."""


class FileLease:
    """`flock` on `directory/govbot.lock`; the holder's PID and host written into it."""

    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._fd: int | None = None

    @classmethod
    def for_state(cls, database: str) -> FileLease:
        """The lease of the state whose database is at `database`."""
        return cls(Path(database).resolve().parent)

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LeaseHeld(str(self.path), await self.holder()) from None
        except BaseException:
            os.close(fd)
            raise
        # Ours now: say who we are (after taking it, so a loser never overwrites it).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    async def holder(self) -> str | None:
        if self._fd is not None:
            return f"PID {os.getpid()} on {socket.gethostname()}"
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: its holder wrote who it is
                text = os.pread(fd, 200, 0).decode(errors="replace").strip()
                return text or "a process that has not said who it is yet"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)
