"""Gerrit stream-event JSON, field for field.

Mirrors Gerrit's ``EventFactory`` / ``StreamEventsApiListener`` (3.x): Gson drops null
fields, so ``topic`` is absent when unset, ``hashtags`` when empty, ``wip``/``private``
unless true; ``lastUpdated`` and ``open`` exist only in ``gerrit query`` output, never in
stream events. Keys are in Gson's order (the event's own fields first, then ``patchSet``,
``change``, ``project``, ``refName``, ``changeKey``, then ``type`` and ``eventCreatedOn``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from govbot.testing.gerrit.model import Account, Change, PatchSet, Project

Event = dict[str, Any]


class EventFactory:
    """Builds event dicts from the model. ``url_base`` is read at build time (it is only
    known once the HTTP server listens)."""

    def __init__(self, accounts: Mapping[int, Account], projects: Mapping[str, Project],
                 url_base: Callable[[], str], clock: Callable[[], float]) -> None:
        self.accounts = accounts
        self.projects = projects
        self.url_base = url_base
        self.clock = clock

    def account(self, account_id: int | None) -> dict[str, str] | None:
        if account_id is None:
            return None
        acc = self.accounts[account_id]
        return {"name": acc.name, "email": acc.email, "username": acc.username}

    def change(self, change: Change) -> dict[str, Any]:
        attr: dict[str, Any] = {"project": change.project, "branch": change.branch}
        if change.topic:
            attr["topic"] = change.topic
        attr.update({
            "id": change.change_id,
            "number": change.number,
            "subject": change.subject,
            "owner": self.account(change.owner),
            "url": f"{self.url_base()}/c/{change.project}/+/{change.number}",
            "commitMessage": change.current.commit_message,
        })
        if change.hashtags:
            attr["hashtags"] = list(change.hashtags)
        attr["createdOn"] = int(change.created_on)
        attr["status"] = change.status
        if change.wip:
            attr["wip"] = True
        if change.private:
            attr["private"] = True
        return attr

    def patch_set(self, ps: PatchSet) -> dict[str, Any]:
        author_acc = next((a for a in self.accounts.values() if a.email == ps.author_email), None)
        # Gerrit resolves the commit author to an account by email; unknown authors get an
        # empty username.
        author = (self.account(author_acc.account_id) if author_acc else
                  {"name": ps.author_name, "email": ps.author_email, "username": ""})
        return {
            "number": ps.number,
            "revision": ps.revision,
            "parents": list(ps.parents),
            "ref": ps.ref,
            "uploader": self.account(ps.uploader),
            "createdOn": int(ps.created_on),
            "author": author,
            "kind": ps.kind,
            "sizeInsertions": ps.insertions,
            "sizeDeletions": ps.deletions,
        }

    def approvals(self, change: Change, labels: Mapping[str, int],
                  old: Mapping[str, int | None]) -> list[dict[str, str]] | None:
        """``approvals[]``: one entry per label in ``labels``; ``oldValue`` only where ``old``
        has a non-None value (the votes this event changed)."""
        if not labels:
            return None
        project = self.projects[change.project]
        out = []
        for name, value in labels.items():
            entry: dict[str, str] = {"type": name}
            if name in project.labels:
                entry["description"] = project.labels[name].name
            entry["value"] = str(value)
            if old.get(name) is not None:
                entry["oldValue"] = str(old[name])
            out.append(entry)
        return out

    def change_event(self, type_: str, change: Change, fields: Mapping[str, Any], *,
                     patch_set: PatchSet | None = None, with_patch_set: bool = True) -> Event:
        event: Event = {k: v for k, v in fields.items() if v is not None}
        if with_patch_set:
            event["patchSet"] = self.patch_set(patch_set or change.current)
        event["change"] = self.change(change)
        event["project"] = change.project
        event["refName"] = change.refname
        event["changeKey"] = {"id": change.change_id}
        event["type"] = type_
        event["eventCreatedOn"] = int(self.clock())
        return event

    def ref_updated(self, project: str, refname: str, old: str, new: str,
                    submitter: int | None) -> Event:
        event: Event = {}
        if submitter is not None:
            event["submitter"] = self.account(submitter)
        event["refUpdate"] = {"oldRev": old, "newRev": new, "refName": refname,
                              "project": project}
        event["type"] = "ref-updated"
        event["eventCreatedOn"] = int(self.clock())
        return event

    def project_created(self, project: str, head: str) -> Event:
        return {"projectName": project, "headName": f"refs/heads/{head}",
                "type": "project-created", "eventCreatedOn": int(self.clock())}

    def dropped_output(self) -> Event:
        return {"type": "dropped-output", "eventCreatedOn": int(self.clock())}


def to_legacy(event: Event) -> Event:
    """The older wire variants a parser must still accept: numbers as strings, ``project``
    as ``{"name": ...}``, bare branch names in ref-updated, negative ``sizeDeletions``
    (Gerrit 2.x subtracted deletions)."""
    out = copy.deepcopy(event)
    change = out.get("change")
    if isinstance(change, dict) and "number" in change:
        change["number"] = str(change["number"])
    ps = out.get("patchSet")
    if isinstance(ps, dict):
        ps["number"] = str(ps["number"])
        ps["sizeDeletions"] = -ps["sizeDeletions"]
    if isinstance(out.get("project"), str):
        out["project"] = {"name": out["project"]}
    ref = out.get("refUpdate")
    if isinstance(ref, dict) and ref["refName"].startswith("refs/heads/"):
        ref["refName"] = ref["refName"][len("refs/heads/"):]
    return out


def to_events_log(event: Event) -> Event:
    """The events-log plugin's stored form: ``project`` as an object."""
    if isinstance(event.get("project"), str):
        out = dict(event)
        out["project"] = {"name": event["project"]}
        return out
    return event


def dumps(event: Event) -> str:
    """Compact JSON, UTF-8 kept raw, like Gson."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
