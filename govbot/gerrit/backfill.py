"""Recover events missed while the stream was down.

With the events-log plugin (`gerrit.events_log: auto|yes`), Gerrit replays the
exact events since the cursor. Without it, the changes updated since then are
queried over REST (paged, never one call per change) and what changed becomes
events again: a `patchset-created` for each newer patch set, a `comment-added`
for each newer message (votes from the message's `Patch Set N: Label+1` header,
with the author's current votes), and `change-merged` / `change-abandoned` for a
change closed meanwhile. Topic, hashtag and WIP edits cannot be told apart from
REST data; the next event on such a change re-evaluates it anyway.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from govbot.gerrit.rest import GerritRest

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
_VOTE = re.compile(r"([A-Za-z][\w-]*)([+-]\d+)")
_HEADER = re.compile(r"^Patch Set (\d+):?(.*)$")


def gerrit_time(epoch: int) -> str:
    """Gerrit's timestamp format (UTC), as query operators and events-log take it."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_gerrit_time(text: str) -> int:
    """'2026-11-22 10:00:00.000000000' (UTC) -> epoch seconds."""
    return int(dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
               .replace(tzinfo=dt.UTC).timestamp())


class Backfill:
    def __init__(self, rest: GerritRest, accept: Accept, *, mode: str = "auto",
                 web_url: str = "") -> None:
        self._rest = rest
        self._accept = accept
        self.mode = mode
        self._has_events_log: bool | None = None if mode == "auto" else mode == "yes"
        self._web_url = web_url.rstrip("/")

    async def __call__(self, since: int) -> int:
        if self._has_events_log is not False:
            logged = await self._rest.events_log(gerrit_time(since))
            if logged is not None:
                self._has_events_log = True
                return len(await self._accept("events-log", [line.encode() for line in logged]))
            if self.mode == "yes":
                log.error("gerrit.events_log is 'yes' but the server has no events-log "
                          "plugin; backfilling from change queries instead")
            self._has_events_log = False
        changes = await self._rest.query(f'after:"{gerrit_time(since)}"', limit=5000)
        lines = [json.dumps(e).encode() for c in changes for e in events_from_change(c, since)]
        lines.sort(key=lambda line: json.loads(line)["eventCreatedOn"])
        return len(await self._accept("backfill", lines))


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
