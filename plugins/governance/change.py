"""What the rules look at: one Gerrit change, as frozen data.

`ChangeState.from_change_info` reads Gerrit's REST ChangeInfo, fetched with
`o=LABELS&o=DETAILED_LABELS&o=CURRENT_REVISION&o=CURRENT_FILES&o=MESSAGES
&o=DETAILED_ACCOUNTS` (ALL_REVISIONS optional): the typed `govbot.gerrit.changes.ChangeInfo`
the core's REST reader decodes, its times already parsed, or the JSON of a reader
that hands Mappings (converted to one first). `ChangeState.create` builds one
directly, for tests and for callers that already hold typed data.

Only the current patch set's votes are read: they are what Gerrit would submit.
The change messages are kept (oldest first), for what only comments say: the build
links in Zuul's reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import msgspec

from govbot.gerrit.changes import (
    AccountInfo,
    ChangeInfo,
    FileInfo,
    LabelInfo,
    change_info,
    format_gerrit_time,
    parse_gerrit_time,
)

__all__ = ["Account", "ChangeState", "Message", "Vote", "format_duration", "format_gerrit_time",
           "format_time", "parse_gerrit_time"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_time(moment: datetime) -> str:
    """'2026-11-29 10:00 UTC' for messages. Seconds are rounded UP to the minute, so a
    time shown as "earliest" is never earlier than the real one."""
    moment = moment.astimezone(UTC)
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def format_duration(span: timedelta) -> str:
    """'7 days', '1 day 12 hours', '36 minutes' (rules are written in days and hours)."""
    days, rest = span.days, span.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{v} {unit}{'s' if v != 1 else ''}"
             for v, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if v]
    return " ".join(parts) or "no time"


class Account(msgspec.Struct, frozen=True):
    """A Gerrit account as REST shows it; any field may be missing."""

    account_id: int | None = None
    username: str | None = None
    email: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, info: AccountInfo | None) -> Account:
        """The account of a decoded AccountInfo (empty strings are not names)."""
        if info is None:
            return _NOBODY
        return cls(info.account_id, info.username or None, info.email or None,
                   info.name or None)

    def describe(self) -> str:
        """A name for messages about accounts no person in the config claims."""
        if self.name:
            return self.name
        if self.username:
            return self.username
        if self.email:
            return self.email
        return f"account {self.account_id}" if self.account_id is not None else "someone"


_NOBODY = Account()


class Vote(msgspec.Struct, frozen=True):
    """One current vote on one label."""

    account: Account
    value: int
    date: datetime | None = None  # None only when Gerrit did not say


class Message(msgspec.Struct, frozen=True):
    """One change message (MESSAGES), as Gerrit stores it: "Patch Set 3: Verified-1" and
    then the comment."""

    author: Account
    text: str
    patchset: int | None = None  # `_revision_number`: the patch set it was posted on
    tag: str | None = None
    # Gerrit's timestamp, parsed only when asked for: a busy change has hundreds of
    # messages and the rules read the date of almost none of them.
    date_text: str | None = None

    @property
    def date(self) -> datetime | None:
        return _time(self.date_text)

    @classmethod
    def at(cls, author: Account, text: str, date: datetime | None = None, *,
           patchset: int | None = None, tag: str | None = None) -> Message:
        """Build one from a datetime (tests, callers holding typed data)."""
        return cls(author, text, patchset, tag,
                   format_gerrit_time(date) if date is not None else None)


class ChangeState(msgspec.Struct, frozen=True, kw_only=True):
    """One change: where it is, who owns it, what it touches, who voted what."""

    project: str
    branch: str
    number: int
    owner: Account
    patchset: int
    first_revision_at: datetime  # the change was proposed (patch set 1)
    latest_revision_at: datetime  # the current patch set was uploaded
    hashtags: tuple[str, ...] = ()  # sorted, for deterministic messages
    topic: str | None = None
    status: str = "NEW"
    wip: bool = False
    files: tuple[str, ...] = ()  # current revision, no magic files; rename sources included
    votes: Mapping[str, tuple[Vote, ...]] = msgspec.field(
        default_factory=lambda: MappingProxyType({}))
    messages: tuple[Message, ...] = ()  # oldest first, every patch set

    @classmethod
    def create(cls, *, project: str, number: int = 1, owner: Account, branch: str = "master",
               patchset: int = 1, first_revision_at: datetime,
               latest_revision_at: datetime | None = None, hashtags: Iterable[str] = (),
               topic: str | None = None, status: str = "NEW", wip: bool = False,
               files: Iterable[str] = (),
               votes: Mapping[str, Iterable[Vote]] | None = None,
               messages: Iterable[Message] = ()) -> ChangeState:
        """Build a change without JSON; normalises like `from_change_info` does."""
        return cls(
            project=project, branch=_short_branch(branch), number=number, owner=owner,
            patchset=patchset, first_revision_at=first_revision_at,
            latest_revision_at=latest_revision_at or first_revision_at,
            hashtags=tuple(sorted(set(hashtags))), topic=topic or None, status=status,
            wip=wip, files=tuple(sorted(set(files))),
            votes=MappingProxyType({label: tuple(v) for label, v in (votes or {}).items()}),
            messages=tuple(messages))

    @classmethod
    def from_change_info(cls, info: Mapping[str, Any] | ChangeInfo) -> ChangeState:
        """Read a REST ChangeInfo (see the module docstring for the `o=` options): typed,
        as the core's REST reader decodes it, or the JSON of another reader."""
        info = change_info(info)  # a ChangeInfo as it is; JSON converted
        revisions = info.revisions
        current = info.current
        created = _time(info.created) or _EPOCH
        # Without ALL_REVISIONS only the current revision is listed; the change's own
        # `created` is when patch set 1 was uploaded, so it is the first revision's time.
        revision_times: list[datetime] = []
        latest: datetime | None = None
        for revision in revisions.values():
            if revision.created:
                revision_times.append(parse_gerrit_time(revision.created))
                if revision is current:
                    latest = revision_times[-1]  # each time is parsed once
        first = min([created, *revision_times])
        latest = latest or max([first, *revision_times])
        patchset = (current.number if current is not None else None) \
            or info.current_revision_number or 1
        return cls.create(
            project=info.project, number=info.number, owner=Account.of(info.owner),
            branch=info.branch, patchset=patchset, first_revision_at=first,
            latest_revision_at=latest, hashtags=info.hashtags, topic=info.topic,
            status=info.status, wip=info.work_in_progress,
            files=_files(current.files) if current is not None else (),
            votes=_votes(info.labels, fallback_date=info.updated),
            messages=[Message(Account.of(m.author), m.message, m.revision_number,
                              m.tag or None, m.date) for m in info.messages])

    def votes_on(self, label: str) -> tuple[Vote, ...]:
        return self.votes.get(label, ())

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"


def _short_branch(branch: str) -> str:
    return branch.removeprefix("refs/heads/")


def _time(text: str | None) -> datetime | None:
    return parse_gerrit_time(text) if text else None


def _files(files: Mapping[str, FileInfo]) -> list[str]:
    """Touched paths: Gerrit's magic files ('/COMMIT_MSG', '/MERGE_LIST') are not files;
    a rename also touches where the file came from (moving the charter changes it)."""
    paths: list[str] = []
    for path, info in files.items():
        if path.startswith("/"):
            continue
        paths.append(path)
        if info.old_path and info.status == "R":
            paths.append(info.old_path)
    return paths


def _votes(labels: Mapping[str, LabelInfo], *, fallback_date: str | None
           ) -> dict[str, list[Vote]]:
    """DETAILED_LABELS' `all`: value 0 without a date is a reviewer who has not voted;
    a vote without a date takes `fallback_date` (the change's update, parsed if needed)."""
    out: dict[str, list[Vote]] = {}
    for label, info in labels.items():
        for entry in info.all:
            value, date = entry.value, entry.date
            if value is None or (value == 0 and date is None):
                continue
            out.setdefault(label, []).append(
                Vote(Account(entry.account_id, entry.username or None, entry.email or None,
                             entry.name or None), value, _time(date or fallback_date)))
    return out
