"""Actions: what plugins decide, as plain frozen data. Reporters carry them out.

An action names its target completely (change and patch set, channel), so a
reporter needs nothing but the action to act, and a recorded action can be
printed, compared in a test, or replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Notify = Literal["NONE", "OWNER", "OWNER_REVIEWERS", "ALL"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base class. ``plugin`` is filled in by the dispatcher; ``event_id`` too."""

    plugin: str = ""
    event_id: str = ""

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"action": self.kind, **data}


@dataclass(frozen=True, slots=True, kw_only=True)
class Vote(Action):
    """A review on a change's patch set: label votes and/or a message.

    ``fingerprint`` identifies the decision (e.g. a verdict digest); the Gerrit
    reporter posts only when it differs from the last one posted for this
    change and patch set, so replays and restarts never double-post.
    """

    change: str  # "project~number"
    patchset: int
    labels: dict[str, int] = field(default_factory=dict)
    message: str = ""
    tag: str = ""
    notify: Notify = "OWNER"
    fingerprint: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddReviewers(Action):
    change: str
    reviewers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Say(Action):
    """A PRIVMSG to a channel or a nick. ``priority`` replies jump the bulk queue.

    Says with the same ``batch`` key (e.g. a change) and target that arrive within
    a short window are sent as one line (a burst of votes on one change).
    """

    target: str
    text: str
    priority: bool = False
    batch: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Action):
    target: str
    text: str
    priority: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTopic(Action):
    channel: str
    topic: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadConfig(Action):
    """Ask the core to fetch and load the governance config repo now."""

    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Remember(Action):
    """Store a JSON-serialisable value in the plugin's own state namespace."""

    key: str
    value: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Append(Action):
    """Append one entry to a journal of the plugin's (e.g. a meeting's lines).

    Journals are append-only and durable: written as they arrive, read back with
    `ctx.state.journal(name)` (after a restart too). `close=True` marks it finished.
    """

    journal: str
    entry: dict[str, Any] = field(default_factory=dict)
    close: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeAt(Action):
    """Ask for a `Wakeup` event at `when` (e.g. when a waiting period ends).

    One pending wake-up per plugin and `key`: a new `WakeAt` for the same key
    replaces the old one; `when=None` cancels it. `lane` orders the wake-up with
    other events (use the change's lane to keep a change's events in order).
    """

    key: str
    when: dt.datetime | None
    lane: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class MinutesFiles(dict[str, str]):
    """Relative path -> content. Its repr names the files only: a dry run logs every
    action, and minutes can be megabytes."""

    def __repr__(self) -> str:
        size = sum(len(v) for v in self.values())
        return f"<{len(self)} files, {size:,} characters: {', '.join(sorted(self))}>"


@dataclass(frozen=True, slots=True)
class GitPublishing:
    """Commit the minutes to the git repository at their directory, and push."""

    remote: str | None = None  # a remote name or URL; None: commit only
    branch: str = "master"
    author_name: str = "govbot"
    author_email: str = "govbot@localhost"


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteMinutes(Action):
    """Write the files of one meeting's minutes (relative path -> content).

    Where and how is the plugin's to say, from its own operator settings, so the core
    needs no plugin's settings: `directory` None is the core's default
    (`state.workdir/minutes`); `git` None writes the files without committing them.
    """

    meeting: str  # the meeting's name, for commit messages and logs
    files: dict[str, str] = field(default_factory=MinutesFiles)
    url_base: str = ""  # where the files are published (for logs)
    restricted: bool = False  # #restrictlogs: owner-only files, never published
    directory: str | None = None
    git: GitPublishing | None = None
    #: Set: the reporter tells the plugin how it went (`MinutesWritten`, or
    #: `MinutesFailed` and a retry with backoff), in `lane`. "" : it only logs.
    key: str = ""
    lane: str = ""


ACTION_TYPES: tuple[type[Action], ...] = (
    Vote, AddReviewers, Say, Notice, SetTopic, ReloadConfig, Remember, WakeAt, Append,
    WriteMinutes,
)
