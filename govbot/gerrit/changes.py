"""Gerrit's REST ChangeInfo as typed, frozen structs, decoded once.

The change data a plugin judges (labels and their votes, messages, revisions and
their files, the change's times) decoded by msgspec in C straight from the response
bytes (`ChangeInfoDecoder`, what the core's REST reader does), or converted from the
JSON another reader decoded (`change_info`). Only the fields govbot reads are
declared: Gerrit's others are skipped by the decoder without being built. The JSON
names are Gerrit's (`_number`, `_account_id`, `_revision_number`, `_more_changes`);
the attributes drop the underscore.

Times stay Gerrit's text ("2026-11-22 12:00:00.000000000", UTC, nanoseconds) and
`parse_gerrit_time` reads one (`*_at` properties) where it is used, once: msgspec's
own datetime decoding would give naive datetimes rounded to the nearest microsecond,
and a deadline read from Gerrit must never be later than Gerrit's instant (the last
three digits are dropped, never rounded up). The exact parse is one C call per time
read (~0.25 µs); a change has hundreds of message times and the rules read almost
none, so parsing all of them in the decoder would cost more, not less.

Pure: plugins may import it (the plugin API, docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import msgspec

if TYPE_CHECKING:
    from govbot.context import ChangeReader

__all__ = ["AccountInfo", "ApprovalInfo", "ChangeInfo", "ChangeInfoDecoder", "ChangeInfoReader",
           "ChangeMessageInfo", "FileInfo", "LabelInfo", "RevisionInfo", "change_info",
           "change_infos", "change_pages", "format_gerrit_time", "parse_gerrit_time",
           "read_change"]


class AccountInfo(msgspec.Struct, frozen=True, rename={"account_id": "_account_id"}):
    """An account as REST shows it (DETAILED_ACCOUNTS adds all but the id)."""

    account_id: int | None = None
    username: str | None = None
    email: str | None = None
    name: str | None = None


class ApprovalInfo(msgspec.Struct, frozen=True, rename={"account_id": "_account_id"}):
    """One entry of a label's `all` (DETAILED_LABELS): a reviewer and their vote;
    value 0 without a date is a reviewer who has not voted."""

    account_id: int | None = None
    username: str | None = None
    email: str | None = None
    name: str | None = None
    value: int | None = None
    date: str | None = None  # when the vote was cast; none for a reviewer who did not vote
    tag: str | None = None

    @property
    def date_at(self) -> datetime | None:
        return _time(self.date)


class LabelInfo(msgspec.Struct, frozen=True):
    """A label of the change; only the detailed votes are read."""

    all: tuple[ApprovalInfo, ...] = ()


class FileInfo(msgspec.Struct, frozen=True):
    """A file of a revision (CURRENT_FILES): a rename ("R") has the path it came from."""

    status: str | None = None
    old_path: str | None = None


class RevisionInfo(msgspec.Struct, frozen=True, rename={"number": "_number"}):
    """A patch set: its number, when it was uploaded, its ref and files."""

    number: int | None = None
    created: str | None = None
    ref: str | None = None
    files: dict[str, FileInfo] = {}

    @property
    def created_at(self) -> datetime | None:
        return _time(self.created)


class ChangeMessageInfo(msgspec.Struct, frozen=True,
                        rename={"revision_number": "_revision_number"}):
    """A change message (MESSAGES), as Gerrit stores it."""

    author: AccountInfo | None = None
    message: str = ""
    date: str | None = None
    tag: str | None = None
    revision_number: int | None = None

    @property
    def date_at(self) -> datetime | None:
        return _time(self.date)


class ChangeInfo(msgspec.Struct, frozen=True,
                 rename={"number": "_number", "more_changes": "_more_changes"}):
    """One change, with what `o=LABELS&o=DETAILED_LABELS&o=CURRENT_REVISION
    &o=CURRENT_FILES&o=MESSAGES&o=DETAILED_ACCOUNTS` adds (ALL_REVISIONS optional)."""

    project: str = ""
    branch: str = ""
    number: int = 0
    id: str = ""
    subject: str = ""
    status: str = "NEW"
    owner: AccountInfo = AccountInfo()
    created: str | None = None
    updated: str | None = None
    hashtags: tuple[str, ...] = ()
    topic: str | None = None
    work_in_progress: bool = False
    current_revision: str | None = None
    current_revision_number: int | None = None
    labels: dict[str, LabelInfo] = {}
    messages: tuple[ChangeMessageInfo, ...] = ()
    revisions: dict[str, RevisionInfo] = {}
    reviewers: dict[str, tuple[AccountInfo, ...]] = {}
    more_changes: bool = False  # on the last change of a page that is not the last one

    @property
    def created_at(self) -> datetime | None:
        return _time(self.created)

    @property
    def updated_at(self) -> datetime | None:
        return _time(self.updated)

    @property
    def key(self) -> str:
        """`project~number`, how govbot names a change."""
        return f"{self.project}~{self.number}"

    @property
    def current(self) -> RevisionInfo | None:
        """The current revision, if the options listed it."""
        sha = self.current_revision
        return self.revisions.get(sha) if sha else None


class ChangeInfoDecoder:
    """Decodes a REST answer's JSON (without the `)]}'` guard) into `ChangeInfo`s."""

    def __init__(self) -> None:
        self._one = msgspec.json.Decoder(ChangeInfo)
        self._page = msgspec.json.Decoder(list[ChangeInfo])

    def change(self, content: bytes) -> ChangeInfo:
        return self._one.decode(content)

    def page(self, content: bytes) -> list[ChangeInfo]:
        return self._page.decode(content)


class ChangeInfoReader(Protocol):
    """What a `ChangeReader` may offer besides its JSON: the same reads decoded straight
    into ChangeInfo structs. The core's REST reader does; `read_change` and
    `change_pages` use it when a reader has it and convert the JSON of one without
    (a test's, a replay's), so plugins read typed changes from any reader."""

    async def get_change_info(self, change: str) -> ChangeInfo | None:
        """`ChangeReader.get_change`, typed."""

    def change_info_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None
                          ) -> AsyncIterator[Sequence[ChangeInfo]]:
        """`ChangeReader.query_pages`, typed."""


async def read_change(reader: ChangeReader, change: str) -> ChangeInfo | None:
    """The change `project~number` (with labels, revisions and messages), typed."""
    if hasattr(reader, "get_change_info"):
        return await cast(ChangeInfoReader, reader).get_change_info(change)
    info = await reader.get_change(change)
    return None if info is None else change_info(info)


async def change_pages(reader: ChangeReader, query: str, *, limit: int | None = 500,
                       options: Sequence[str] | None = None
                       ) -> AsyncIterator[Sequence[ChangeInfo]]:
    """The changes of `query`, typed, one page at a time as Gerrit answers them."""
    if hasattr(reader, "change_info_pages"):
        typed = cast(ChangeInfoReader, reader)
        async for page in typed.change_info_pages(query, limit=limit, options=options):
            yield page
        return
    async for infos in reader.query_pages(query, limit=limit, options=options):
        yield change_infos(infos)


def change_info(info: Mapping[str, Any] | ChangeInfo) -> ChangeInfo:
    """A ChangeInfo from the JSON a reader decoded (a ChangeInfo is returned as it is).

    Lenient as govbot always was with Gerrit's JSON: numbers written as strings are
    read, a project given as `{"name": ...}` (events-log output) is its name, and
    message entries that are not objects are skipped.
    """
    if isinstance(info, ChangeInfo):
        return info
    project = info.get("project")
    messages = info.get("messages")
    if isinstance(project, Mapping) or (
            messages and not all(isinstance(m, Mapping) for m in messages)):
        info = {**info,
                "project": project.get("name", "") if isinstance(project, Mapping)
                else project,
                "messages": [m for m in messages or () if isinstance(m, Mapping)]}
    return msgspec.convert(_without_nulls(info), ChangeInfo, strict=False)


def change_infos(infos: Iterable[Mapping[str, Any] | ChangeInfo]) -> list[ChangeInfo]:
    return [change_info(i) for i in infos]


def _without_nulls(info: Mapping[str, Any]) -> Mapping[str, Any]:
    # A field given as null means "not there" (the struct's default), as `.get` read it.
    if any(v is None for v in info.values()):
        return {k: v for k, v in info.items() if v is not None}
    return info


def parse_gerrit_time(text: str) -> datetime:
    """Gerrit's 'YYYY-MM-DD HH:MM:SS.fffffffff' (UTC, nanoseconds) as an aware datetime.

    Python keeps microseconds: the last three digits are dropped, never rounded up,
    so a deadline computed from it is never later than Gerrit's own instant.
    """
    if len(text) == 29 and text[10] == " " and text[19] == ".":
        # Gerrit's own shape: one C call on the digits down to microseconds (9x faster
        # than the general path below).
        try:
            return datetime.fromisoformat(text[:26] + "+00:00")
        except ValueError:
            pass  # not a time after all: the general path says so
    text = text.strip().replace("T", " ").removesuffix("Z")
    main, _, fraction = text.partition(".")
    # fromisoformat is C and ~20x faster than strptime.
    moment = datetime.fromisoformat(main).replace(tzinfo=UTC)
    if fraction:
        digits = (fraction + "000000")[:6]
        moment = moment.replace(microsecond=int(digits))
    return moment


def format_gerrit_time(moment: datetime) -> str:
    """The inverse of `parse_gerrit_time` (for building ChangeInfo in tests)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond * 1000:09d}"


def _time(text: str | None) -> datetime | None:
    return parse_gerrit_time(text) if text else None
