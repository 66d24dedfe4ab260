"""A faithful Gerrit emulator for tests, demos and plugin authors.

No real Gerrit can run in CI, so this package speaks Gerrit's wire formats instead:

- a change model backed by real bare git repositories (patch sets are real commits, with
  ``refs/changes/NN/N/P`` refs and Change-Id footers; merges move real branches);
- ``gerrit stream-events [-s TYPE ...]`` and ``gerrit version`` over SSH (asyncssh, public-key
  auth), with Gerrit 3.9's event JSON field for field, and an opt-in legacy variant;
- the REST API subset a bot needs (``)]}'`` prefix, ``/a/`` basic auth, change queries with
  paging, Set Review with Gerrit's label permission checks and error texts, accounts, groups,
  server version, and the events-log plugin endpoint);
- fault injection (dropped streams, refused SSH, 5xx, slow answers, duplicated events),
  a record of every REST call, and ``wait_for`` to block on conditions without polling.

Typical use::

    async with GerritEmulator(tmp_path, clock=FakeClock()) as emu:
        alice = emu.add_account("alice", groups=["core"])
        await emu.create_project("demo")
        change = await emu.create_change("demo", "master", alice, "Add x", {"x": "1\\n"})
        await emu.review(change, alice, {"Code-Review": 1}, "LGTM")

See ``README.md`` in this directory for the whole API.
"""

from govbot.testing.gerrit.core import GerritError, Settings
from govbot.testing.gerrit.emulator import DEFAULT_GRANTS, GerritEmulator
from govbot.testing.gerrit.events import to_events_log, to_legacy
from govbot.testing.gerrit.faults import Faults
from govbot.testing.gerrit.git import FileDiff, MergeConflict
from govbot.testing.gerrit.model import (
    REGISTERED_USERS,
    Account,
    Change,
    FakeClock,
    Grant,
    Group,
    Label,
    Message,
    PatchSet,
    Project,
    Vote,
    code_review_label,
    verified_label,
)
from govbot.testing.gerrit.rest import XSSI_PREFIX, RestCall

__all__ = [
    "DEFAULT_GRANTS",
    "REGISTERED_USERS",
    "XSSI_PREFIX",
    "Account",
    "Change",
    "FakeClock",
    "Faults",
    "FileDiff",
    "GerritEmulator",
    "GerritError",
    "Grant",
    "Group",
    "Label",
    "MergeConflict",
    "Message",
    "PatchSet",
    "Project",
    "RestCall",
    "Settings",
    "Vote",
    "code_review_label",
    "to_events_log",
    "to_legacy",
    "verified_label",
]
