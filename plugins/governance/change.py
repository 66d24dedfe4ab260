"""What the rules look at: one Gerrit change, as frozen data.

`ChangeState.from_change_info` reads Gerrit's REST ChangeInfo, fetched with
`o=LABELS&o=DETAILED_LABELS&o=CURRENT_REVISION&o=CURRENT_FILES&o=MESSAGES
&o=DETAILED_ACCOUNTS` (ALL_REVISIONS optional). `ChangeState.create` builds one
directly, for tests and for callers that already hold typed data.

Only the current patch set's votes are read: they are what Gerrit would submit.
The change messages are kept (oldest first), for what only comments say: the build
links in Zuul's reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

__all__ = ["Account", "ChangeState", "Message", "Vote", "format_duration", "format_gerrit_time",
           "format_time", "parse_gerrit_time"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_gerrit_time(text: str) -> datetime:
    """Gerrit's 'YYYY-MM-DD HH:MM:SS.fffffffff' (UTC, nanoseconds) as an aware datetime.

    Python keeps microseconds: the last three digits are dropped, never rounded up,
    so a deadline computed from it is never later than Gerrit's own instant.
    """
    if len(text) == 29 and text[10] == " " and text[19] == ".":
        # Gerrit's own shape: one C call on the digits down to microseconds (9x faster
        # than the general path below; ~8 timestamps per change on re-evaluation).
        try:
            return datetime.fromisoformat(text[:26] + "+00:00")
        except ValueError:
            pass  # not a time after all: the general path says so
    text = text.strip().replace("T", " ").removesuffix("Z")
    main, _, fraction = text.partition(".")
    # fromisoformat is C and ~20x faster than strptime: re-evaluating thousands of
    # changes after a reload parses tens of thousands of timestamps.
    moment = datetime.fromisoformat(main).replace(tzinfo=UTC)
    if fraction:
        digits = (fraction + "000000")[:6]
        moment = moment.replace(microsecond=int(digits))
    return moment


def format_gerrit_time(moment: datetime) -> str:
    """The inverse of `parse_gerrit_time` (for building ChangeInfo in tests)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond * 1000:09d}"


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


@dataclass(frozen=True, slots=True)
class Account:
    """A Gerrit account as REST shows it; any field may be missing."""

    account_id: int | None = None
    username: str | None = None
    email: str | None = None
    name: str | None = None

    @classmethod
    def from_info(cls, info: Mapping[str, Any] | None) -> Account:
        info = info or {}
        raw_id = info.get("_account_id")
        return cls(account_id=int(raw_id) if raw_id is not None else None,
                   username=info.get("username") or None,
                   email=info.get("email") or None,
                   name=info.get("name") or None)

    def describe(self) -> str:
        """A name for messages about accounts no person in the config claims."""
        if self.name:
            return self.name
        if self.username:
            return self.username
        if self.email:
            return self.email
        return f"account {self.account_id}" if self.account_id is not None else "someone"


@dataclass(frozen=True, slots=True)
class Vote:
    """One current vote on one label."""

    account: Account
    value: int
    date: datetime | None = None  # None only when Gerrit did not say


@dataclass(frozen=True, slots=True)
class Message:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeState:
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
    votes: Mapping[str, tuple[Vote, ...]] = field(default_factory=lambda: MappingProxyType({}))
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
    def from_change_info(cls, info: Mapping[str, Any]) -> ChangeState:
        """Read a REST ChangeInfo (see the module docstring for the `o=` options)."""
        revisions: Mapping[str, Any] = info.get("revisions") or {}
        current_sha = info.get("current_revision")
        current: Mapping[str, Any] = revisions.get(current_sha, {}) if current_sha else {}
        created = _time(info.get("created")) or _EPOCH
        # Without ALL_REVISIONS only the current revision is listed; the change's own
        # `created` is when patch set 1 was uploaded, so it is the first revision's time.
        revision_times = [t for t in (_time(r.get("created")) for r in revisions.values())
                          if t is not None]
        first = min([created, *revision_times])
        latest = _time(current.get("created")) or max([first, *revision_times])
        patchset = current.get("_number") or info.get("current_revision_number") or 1
        updated = _time(info.get("updated"))
        return cls.create(
            project=_project(info.get("project")), number=int(info.get("_number", 0)),
            owner=Account.from_info(info.get("owner")), branch=str(info.get("branch", "")),
            patchset=int(patchset), first_revision_at=first, latest_revision_at=latest,
            hashtags=info.get("hashtags") or (), topic=info.get("topic"),
            status=str(info.get("status", "NEW")),
            wip=bool(info.get("work_in_progress", False)),
            files=_files(current.get("files") or {}),
            votes=_votes(info.get("labels") or {}, fallback_date=updated),
            messages=_messages(info.get("messages") or ()))

    def votes_on(self, label: str) -> tuple[Vote, ...]:
        return self.votes.get(label, ())

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"


def _project(value: Any) -> str:
    # Events-log output writes {"name": ...}; REST writes the string.
    if isinstance(value, Mapping):
        return str(value.get("name", ""))
    return str(value or "")


def _short_branch(branch: str) -> str:
    return branch.removeprefix("refs/heads/")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return parse_gerrit_time(str(value))


def _files(files: Mapping[str, Any]) -> list[str]:
    """Touched paths: Gerrit's magic files ('/COMMIT_MSG', '/MERGE_LIST') are not files;
    a rename also touches where the file came from (moving the charter changes it)."""
    paths: list[str] = []
    for path, info in files.items():
        if path.startswith("/"):
            continue
        paths.append(path)
        old = info.get("old_path") if isinstance(info, Mapping) else None
        if old and info.get("status") == "R":
            paths.append(old)
    return paths


def _votes(labels: Mapping[str, Any], *, fallback_date: datetime | None
           ) -> dict[str, list[Vote]]:
    """DETAILED_LABELS' `all`: value 0 without a date is a reviewer who has not voted."""
    out: dict[str, list[Vote]] = {}
    for label, info in labels.items():
        entries = info.get("all") if isinstance(info, Mapping) else None
        for entry in entries or ():
            value = entry.get("value")
            date = _time(entry.get("date"))
            if value is None or (int(value) == 0 and date is None):
                continue
            out.setdefault(label, []).append(
                Vote(Account.from_info(entry), int(value), date or fallback_date))
    return out


def _messages(messages: Iterable[Any]) -> list[Message]:
    """MESSAGES, oldest first as Gerrit lists them; malformed entries are skipped."""
    out: list[Message] = []
    for entry in messages:
        if not isinstance(entry, Mapping):
            continue
        number = entry.get("_revision_number")
        out.append(Message(Account.from_info(entry.get("author")),
                           str(entry.get("message") or ""),
                           int(number) if number is not None else None,
                           entry.get("tag") or None, entry.get("date") or None))
    return out
