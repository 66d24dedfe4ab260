"""The one explained vote on a change of the election repository."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .checks import Candidacy


def render(candidacies: Sequence[Candidacy]) -> str:
    """A headline, then each candidacy file with each of its checks on its own line."""
    failed = [c for c in candidacies if not c.ok]
    noun = "candidacy" if len(candidacies) == 1 else "candidacies"
    if failed:
        names = sorted({name for c in failed for name in c.failed})
        head = (f"Election check: FAILED — {len(failed)} of {len(candidacies)} {noun} "
                f"failed ({', '.join(names) or 'not every check could run'}).")
    else:
        head = f"Election check: PASSED — {len(candidacies)} {noun}, every check passed."
    blocks = [head]
    for candidacy in candidacies:
        title = candidacy.election.title if candidacy.election else "no election"
        blocks.append("\n".join([f"{candidacy.path} ({title}):",
                                 *(check.line() for check in candidacy.checks)]))
    return "\n\n".join(blocks)


def fingerprint(message: str) -> str:
    """The message says the whole decision and nothing that changes without one."""
    return hashlib.sha256(message.encode()).hexdigest()[:16]
