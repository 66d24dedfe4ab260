"""The emulator's data model: accounts, groups, labels, projects, changes.

Plain dataclasses, no behaviour beyond small derived views. All mutation goes through
:class:`govbot.testing.gerrit.core.GerritCore` so that every change emits its events.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from govbot.testing.gerrit.git import ZERO_SHA, FileDiff, GitRepo

Clock = Callable[[], float]

#: Status values used by Gerrit for changes.
NEW, MERGED, ABANDONED = "NEW", "MERGED", "ABANDONED"
#: Gerrit's pseudo-group every registered account belongs to.
REGISTERED_USERS = "Registered Users"


class FakeClock:
    """A controllable clock for the emulator: ``clock()`` returns epoch seconds.

    Tests call :meth:`advance` to simulate time passing (days for governance
    deadlines) without sleeping.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = float(start if start is not None else time.time())

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0,
                days: float = 0) -> float:
        self.now += seconds + minutes * 60 + hours * 3600 + days * 86400
        return self.now

    def set(self, epoch: float) -> None:
        self.now = float(epoch)


@dataclass
class Account:
    account_id: int
    username: str
    name: str
    email: str
    http_password: str
    registered_on: float
    ssh_keys: list[str] = field(default_factory=list)


@dataclass
class Group:
    name: str
    uuid: str
    group_id: int
    members: set[int] = field(default_factory=set)
    #: Names of included (sub)groups; expanded by ``?recursive``.
    includes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Label:
    """A label definition as in ``project.config`` (``[label "Code-Review"]``)."""

    name: str
    values: dict[int, str]
    default_value: int = 0
    #: Change kinds (e.g. ``{"NO_CODE_CHANGE", "TRIVIAL_REBASE"}``) on which votes are copied
    #: to a new patch set; Gerrit's ``copyCondition`` reduced to what tests need.
    copy_kinds: frozenset[str] = frozenset()
    #: Gerrit's ``allowPostSubmit`` (default true): may this label be voted on after merge.
    allow_post_submit: bool = True
    function: str = "MaxWithBlock"

    @property
    def min(self) -> int:
        return min(self.values)

    @property
    def max(self) -> int:
        return max(self.values)

    @classmethod
    def ranged(cls, name: str, low: int, high: int, **kwargs: object) -> Label:
        """A label with every value from ``low`` to ``high`` and generic descriptions."""
        values = {v: ("No score" if v == 0 else f"{name} {format_vote(v)}")
                  for v in range(low, high + 1)}
        return cls(name=name, values=values, **kwargs)  # type: ignore[arg-type]


def code_review_label() -> Label:
    return Label("Code-Review", {
        -2: "This shall not be submitted", -1: "I would prefer this is not submitted as is",
        0: "No score", 1: "Looks good to me, but someone else must approve",
        2: "Looks good to me, approved"},
        copy_kinds=frozenset({"NO_CODE_CHANGE", "TRIVIAL_REBASE"}))


def verified_label() -> Label:
    return Label("Verified", {-1: "Fails", 0: "No score", 1: "Verified"})


@dataclass(frozen=True)
class Grant:
    """``label-<Name> = min..max group <group>`` in a project's access section."""

    group: str
    min: int
    max: int


@dataclass
class Project:
    name: str
    repo: GitRepo
    labels: dict[str, Label]
    grants: dict[str, list[Grant]]
    head: str = "master"
    submit_type: str = "MERGE_IF_NECESSARY"


@dataclass
class PatchSet:
    number: int
    revision: str
    parents: list[str]
    ref: str
    uploader: int
    author_name: str
    author_email: str
    created_on: float
    kind: str
    commit_message: str
    tree: str
    files: list[FileDiff] = field(default_factory=list)

    @property
    def insertions(self) -> int:
        return sum(f.insertions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


@dataclass
class Vote:
    account_id: int
    label: str
    value: int
    granted: float
    tag: str | None = None


@dataclass
class Message:
    id: str
    author: int | None
    date: float
    message: str
    revision_number: int
    tag: str | None = None


@dataclass
class Change:
    number: int
    project: str
    branch: str
    change_id: str
    owner: int
    subject: str
    created_on: float
    last_updated: float
    status: str = NEW
    topic: str | None = None
    hashtags: list[str] = field(default_factory=list)
    wip: bool = False
    private: bool = False
    patch_sets: list[PatchSet] = field(default_factory=list)
    #: patch set number -> label -> account id -> vote (zero votes are not stored).
    votes: dict[int, dict[str, dict[int, Vote]]] = field(default_factory=dict)
    #: account id -> "REVIEWER" | "CC"
    reviewers: dict[int, str] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    meta_rev: str = ZERO_SHA
    submitter: int | None = None
    submitted: float | None = None
    review_started: bool = True

    @property
    def current(self) -> PatchSet:
        return self.patch_sets[-1]

    @property
    def is_open(self) -> bool:
        return self.status == NEW

    @property
    def refname(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def meta_ref(self) -> str:
        return f"refs/changes/{self.number % 100:02d}/{self.number}/meta"

    def patch_set(self, number: int) -> PatchSet:
        for ps in self.patch_sets:
            if ps.number == number:
                return ps
        raise KeyError(number)

    def votes_on(self, ps_number: int | None = None) -> dict[str, dict[int, Vote]]:
        """Votes on a patch set (default: the current one), label -> account -> vote."""
        return self.votes.setdefault(ps_number or self.current.number, {})

    def vote_of(self, account_id: int, label: str, ps_number: int | None = None) -> int:
        vote = self.votes_on(ps_number).get(label, {}).get(account_id)
        return vote.value if vote else 0


def patchset_ref(change_number: int, ps_number: int) -> str:
    return f"refs/changes/{change_number % 100:02d}/{change_number}/{ps_number}"


def format_vote(value: int) -> str:
    """``+1``, ``-2``, ``0`` as Gerrit prints vote values in messages."""
    return f"+{value}" if value > 0 else str(value)


def format_value_key(value: int) -> str:
    """The keys of a label's ``values`` map in REST: ``"-1"``, ``" 0"``, ``"+1"``."""
    return " 0" if value == 0 else format_vote(value)


def sha1_hex(*parts: object) -> str:
    return hashlib.sha1("\0".join(str(p) for p in parts).encode()).hexdigest()


def permitted_range(project: Project, label: str, groups: Iterable[str]) -> tuple[int, int] | None:
    """The (min, max) an account in ``groups`` may vote on ``label``, or None."""
    names = set(groups)
    ranges = [(g.min, g.max) for g in project.grants.get(label, []) if g.group in names]
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
