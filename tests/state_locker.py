"""`python -m tests.state_locker DB`: hold the SQLite database `DB` locked (`BEGIN
EXCLUSIVE`) until a line arrives on stdin; prints "locked" once it holds the lock.
A real second process with a real lock, for the tests of a daemon that must wait."""

from __future__ import annotations

import sqlite3
import sys


def main() -> int:
    db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    db.execute("COMMIT")
    db.close()
    print("released", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
