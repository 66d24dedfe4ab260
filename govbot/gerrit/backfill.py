"""Read a range of seconds of Gerrit events that the stream missed (a gap).

With the events-log plugin (`gerrit.events_log: auto|yes`), Gerrit replays the
exact events: it answers at most `returnLimit` events per call (5,000 unless the
server sets otherwise), oldest first, for `t1`..`t2` to the second, so the range
is paged, each call starting at the last second the previous one reached (the
intake drops the events read twice by their semantic id). A page entirely within
one second cannot be paged past: that second is read from change queries, and
paging goes on from the next one. Any failure of the events-log (a status, an
answer that is not event lines, a timeout) falls back to change queries for the
rest of the range; if those fail too, the caller keeps the gap and retries.

Without the plugin, the changes updated since the range's start are queried
over REST (paged, never one call per change) and what changed becomes events
again: a `patchset-created` for each newer patch set, a `comment-added` for each
newer message (votes from the message's `Patch Set N: Label+1` header, with the
author's current votes), and `change-merged` / `change-abandoned` for a change
closed meanwhile. Topic, hashtag and WIP edits cannot be told apart from REST
data; the next event on such a change re-evaluates it anyway.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from govbot.gerrit.coverage import created_on
from govbot.gerrit.rest import GerritRest

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
Progress = Callable[[int], Awaitable[None]]
_VOTE = re.compile(r"([A-Za-z][\w-]*)([+-]\d+)")
_HEADER = re.compile(r"^Patch Set (\d+):?(.*)$")
#: Lines handed to the intake at once (one inbox transaction each).
ACCEPT_BATCH = 1000
#: Changes per query page (Gerrit caps pages at its `index.maxLimit`, 500 by default).
QUERY_PAGE = 500


def gerrit_time(epoch: int) -> str:
    """Gerrit's timestamp format (UTC), as query operators and events-log take it."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_gerrit_time(text: str) -> int:
    """'2026-11-22 10:00:00.000000000' (UTC) -> epoch seconds."""
    return int(dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
               .replace(tzinfo=dt.UTC).timestamp())


class EventsLogFailed(Exception):
    """The events-log answered something that is not a page of events."""


class Backfill:
    """Implements `coverage.GapReader` over Gerrit REST."""

    def __init__(self, rest: GerritRest, accept: Accept, *, mode: str = "auto",
                 web_url: str = "", page_limit: int = 5000) -> None:
        self._rest = rest
        self._accept = accept
        self.mode = mode
        self._has_events_log: bool | None = None if mode == "auto" else mode == "yes"
        self._web_url = web_url.rstrip("/")
        #: The server's `returnLimit`: a page this long may have more behind it.
        self.page_limit = page_limit
        self.pages = 0  # events-log answers and change-query pages read
        self.fallbacks = 0  # events-log reads that failed and went to change queries

    async def read(self, start: int, end: Callable[[], int | None],
                   progress: Progress) -> int:
        if self._has_events_log is not False:
            reached = start

            async def advanced(second: int) -> None:
                nonlocal reached
                reached = second
                await progress(second)

            try:
                found = await self._from_events_log(start, end, advanced)
            except Exception as exc:
                # A status, a timeout, an answer that is not events: change queries
                # read the rest; if they fail as well, the caller keeps the gap.
                log.warning("gerrit events-log failed from %s (%s: %s); reading the rest "
                            "from change queries", gerrit_time(reached),
                            type(exc).__name__, exc)
            else:
                if found is not None:
                    return found
                if self.mode == "yes":
                    log.error("gerrit.events_log is 'yes' but the server has no events-log "
                              "plugin; backfilling from change queries instead")
                self._has_events_log = False
                return await self._from_changes(start, end())
            self.fallbacks += 1
            return await self._from_changes(reached, end())
        return await self._from_changes(start, end())

    async def _from_events_log(self, start: int, end: Callable[[], int | None],
                               progress: Progress) -> int | None:
        """Page the events-log over the range; None when the server has no such plugin."""
        t1, found = start, 0
        while True:
            t2 = end()
            if t2 is not None and t1 > t2:
                return found
            page = await self._rest.events_log(gerrit_time(t1),
                                               None if t2 is None else gerrit_time(t2))
            if page is None:
                return None
            self._has_events_log = True
            self.pages += 1
            lines = [line.encode() for line in page]
            seconds = [s for s in map(created_on, lines) if s is not None]
            if lines and not seconds:
                raise EventsLogFailed(f"an answer of {len(lines)} line(s) without events")
            for at in range(0, len(lines), ACCEPT_BATCH):
                found += len(await self._accept("events-log", lines[at:at + ACCEPT_BATCH]))
            last = max(seconds, default=t1)
            if len(lines) < self.page_limit and last <= t1:
                await progress(last)
                return found  # a short page that adds no second: nothing more to read
            if last > t1:
                # The last second may go on in the next page: read it again. A short page
                # is confirmed by one more call, so a server whose `returnLimit` is lower
                # than `page_limit` loses nothing either.
                t1 = last
            else:
                # A full page of one second: the events-log cannot page past it.
                found += await self._from_changes(t1, t1)
                t1 += 1
            await progress(t1)

    async def _from_changes(self, start: int, end: int | None) -> int:
        """Events re-created from the changes updated since `start`, up to `end`."""
        since = start - 1  # `start` itself is unread: events_from_change wants "after"
        changes = await self._rest.query(f'after:"{gerrit_time(max(0, since))}"',
                                         limit=None, page_size=QUERY_PAGE)
        self.pages += 1 + len(changes) // QUERY_PAGE
        events = [e for c in changes for e in events_from_change(c, since)
                  if end is None or e["eventCreatedOn"] <= end]
        events.sort(key=lambda e: e["eventCreatedOn"])
        lines = [json.dumps(e).encode() for e in events]
        found = 0
        for at in range(0, len(lines), ACCEPT_BATCH):
            found += len(await self._accept("backfill", lines[at:at + ACCEPT_BATCH]))
        return found


def _account(info: Mapping[str, Any] | None) -> dict[str, Any]:
    info = info or {}
    return {k: info[k] for k in ("name", "email", "username") if info.get(k)}


def events_from_change(change: Mapping[str, Any], since: int) -> list[dict[str, Any]]:
    """Gerrit events re-created from a ChangeInfo (DETAILED_LABELS, CURRENT_REVISION, MESSAGES)."""
    project, number = change["project"], change["_number"]
    revisions: Mapping[str, Any] = change.get("revisions") or {}
    current = change.get("current_revision", "")
    current_ps = (revisions.get(current) or {}).get("_number", 1)
    base = {
        "change": {
            "project": project, "branch": change.get("branch", ""), "id": change.get("change_id"),
            "number": number, "subject": change.get("subject", ""),
            "owner": _account(change.get("owner")), "topic": change.get("topic"),
            "hashtags": change.get("hashtags", []), "status": change.get("status"),
            "open": change.get("status") == "NEW", "wip": bool(change.get("work_in_progress")),
            "createdOn": parse_gerrit_time(change["created"]) if change.get("created") else None,
        },
        "project": project,
        "refName": f"refs/heads/{change.get('branch', '')}",
        "changeKey": {"id": change.get("change_id")},
    }
    base["change"] = {k: v for k, v in base["change"].items() if v is not None}

    def patch_set(number_: int, sha: str = "", info: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
        info = info or {}
        data: dict[str, Any] = {"number": number_, "revision": sha, "ref": info.get("ref")}
        if info.get("uploader"):
            data["uploader"] = _account(info["uploader"])
        if info.get("created"):
            data["createdOn"] = parse_gerrit_time(info["created"])
        return {k: v for k, v in data.items() if v is not None}

    events: list[dict[str, Any]] = []
    for sha, info in revisions.items():
        created = parse_gerrit_time(info["created"]) if info.get("created") else 0
        if created > since:
            events.append({**base, "type": "patchset-created", "eventCreatedOn": created,
                           "patchSet": patch_set(info.get("_number", 1), sha, info),
                           "uploader": _account(info.get("uploader"))})
    votes = _current_votes(change)
    for message in change.get("messages") or ():
        when = parse_gerrit_time(message["date"]) if message.get("date") else 0
        if when <= since or not message.get("author"):
            continue
        text = message.get("message", "")
        header = _HEADER.match(text.split("\n", 1)[0])
        ps = int(header.group(1)) if header else message.get("_revision_number", current_ps)
        changed = dict((k, int(v)) for k, v in _VOTE.findall(header.group(2))) if header else {}
        author = message["author"]
        mine = votes.get(author.get("_account_id"), {})
        approvals = [{"type": label, "value": str(value)}
                     | ({"oldValue": "0"} if label in changed else {})
                     for label, value in {**mine, **changed}.items()]
        events.append({**base, "type": "comment-added", "eventCreatedOn": when,
                       "patchSet": patch_set(ps), "author": _account(author),
                       "approvals": approvals, "comment": text})
    updated = parse_gerrit_time(change["updated"]) if change.get("updated") else 0
    closed = {"MERGED": ("change-merged", "submitter"),
              "ABANDONED": ("change-abandoned", "abandoner")}.get(change.get("status", ""))
    if closed and updated > since:
        kind, role = closed
        who = change.get("submitter") if kind == "change-merged" else None
        events.append({**base, "type": kind, "eventCreatedOn": updated,
                       "patchSet": patch_set(current_ps, current), role: _account(who)})
    return events


def _current_votes(change: Mapping[str, Any]) -> dict[Any, dict[str, int]]:
    votes: dict[Any, dict[str, int]] = {}
    for label, info in (change.get("labels") or {}).items():
        for vote in info.get("all") or ():
            if vote.get("value"):
                votes.setdefault(vote.get("_account_id"), {})[label] = int(vote["value"])
    return votes
