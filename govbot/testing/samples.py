"""Realistic Gerrit event JSON, field for field, for tests, replays and benchmarks.

`sample_event(type_name)` builds one event of any documented type;
`synthetic_stream()` builds a long, seeded stream with the mix of types a busy
Gerrit produces (most of it comment-added and patchset-created, plus NoteDb's
`refs/changes/*/meta` noise), about 1.5 KB per line like the real thing.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from typing import Any

BASE_TIME = 1_790_000_000  # 2026-09-21, a fixed point so outputs are reproducible
URL = "https://review.example.org"

PROJECTS = ("example/governance", "example/compute", "example/network", "example/docs",
            "example/infra-config", "example/releases")
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
          "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor")


def account(user: str) -> dict[str, str]:
    return {"name": user.capitalize() + " Example", "email": f"{user}@example.org",
            "username": user}


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def change_dict(project: str, number: int, *, owner: str = "alice", branch: str = "master",
                hashtags: tuple[str, ...] = (), topic: str | None = None, status: str = "NEW",
                wip: bool = False, subject: str | None = None, legacy: bool = False,
                created: int = BASE_TIME) -> dict[str, Any]:
    subject = subject or f"Update {project.split('/')[-1]} handling of case {number}"
    change_id = "I" + _sha("change", project, number)
    data: dict[str, Any] = {
        "project": project, "branch": branch, "id": change_id,
        "number": str(number) if legacy else number, "subject": subject,
        "owner": account(owner), "url": f"{URL}/c/{project}/+/{number}",
        "commitMessage": (f"{subject}\n\nThis change reworks the way the service handles the "
                          "corner case reported by operators, adds unit tests for it and "
                          "updates the release note.\n\nCloses-Bug: #2051234\n"
                          f"Change-Id: {change_id}\n"),
        "hashtags": list(hashtags), "createdOn": created, "lastUpdated": created + 600,
        "open": status == "NEW", "status": status,
    }
    if topic:
        data["topic"] = topic
    if wip:
        data["wip"] = True
    return data


def patchset_dict(project: str, number: int, ps: int, *, uploader: str = "alice",
                  legacy: bool = False, created: int = BASE_TIME) -> dict[str, Any]:
    return {
        "number": str(ps) if legacy else ps, "revision": _sha("rev", project, number, ps),
        "parents": [_sha("parent", project, number, ps)],
        "ref": f"refs/changes/{number % 100:02d}/{number}/{ps}",
        "uploader": account(uploader), "author": account(uploader), "createdOn": created,
        "kind": "REWORK", "sizeInsertions": 42, "sizeDeletions": -7,
    }


def change_event(type_name: str, project: str, number: int, *, ps: int = 1,
                 legacy: bool = False, when: int = BASE_TIME, **change_kw: Any) -> dict[str, Any]:
    change = change_dict(project, number, legacy=legacy, **change_kw)
    return {
        "type": type_name, "eventCreatedOn": when,
        "change": change,
        "patchSet": patchset_dict(project, number, ps, uploader=change["owner"]["username"],
                                  legacy=legacy),
        "project": {"name": project} if legacy else project,
        "refName": f"refs/heads/{change['branch']}",
        "changeKey": {"id": change["id"]},
    }


def approval(label: str, value: int, old: int | None = None) -> dict[str, str]:
    data = {"type": label, "description": label, "value": str(value)}
    if old is not None:
        data["oldValue"] = str(old)
    return data


def comment_added(project: str, number: int, author: str, votes: dict[str, int],
                  *, old: dict[str, int] | None = None, text: str = "Looks good to me.",
                  ps: int = 1, **kw: Any) -> dict[str, Any]:
    old = old or {}
    event = change_event("comment-added", project, number, ps=ps, **kw)
    event["author"] = account(author)
    event["approvals"] = [approval(k, v, old.get(k)) for k, v in votes.items()]
    changed = " ".join(f"{k}{v:+d}" for k, v in votes.items() if k in old)
    header = f"Patch Set {ps}:" + (f" {changed}" if changed else "")
    event["comment"] = f"{header}\n\n{text}" if text else header
    return event


def ref_updated(project: str, ref: str, *, old: str | None = None, new: str | None = None,
                who: str = "alice", when: int = BASE_TIME, legacy: bool = False) -> dict[str, Any]:
    return {"type": "ref-updated", "eventCreatedOn": when, "submitter": account(who),
            "refUpdate": {"oldRev": old or _sha("old", ref), "newRev": new or _sha("new", ref),
                          "refName": ref, "project": project},
            "project": {"name": project} if legacy else project, "refName": ref}


def sample_event(type_name: str, *, legacy: bool = False) -> dict[str, Any]:
    """One realistic event of each documented type."""
    p, n = "example/governance", 1234
    if type_name == "comment-added":
        return comment_added(p, n, "bob", {"Rollcall-Vote": 1, "Code-Review": 0},
                             old={"Rollcall-Vote": 0}, legacy=legacy)
    if type_name in ("ref-updated", "ref-received", "commit-received"):
        event = ref_updated(p, "refs/heads/master", legacy=legacy)
        event["type"] = type_name
        return event
    if type_name == "batch-ref-updated":
        one = ref_updated(p, "refs/heads/master")
        return {"type": type_name, "eventCreatedOn": BASE_TIME, "submitter": account("alice"),
                "refUpdates": [one["refUpdate"], ref_updated(p, "refs/tags/1.0")["refUpdate"]]}
    if type_name == "project-created":
        return {"type": type_name, "eventCreatedOn": BASE_TIME, "projectName": "example/new",
                "projectHead": "refs/heads/master"}
    if type_name == "project-head-updated":
        return {"type": type_name, "eventCreatedOn": BASE_TIME, "projectName": p,
                "oldHead": "refs/heads/master", "newHead": "refs/heads/main"}
    if type_name == "dropped-output":
        return {"type": type_name, "eventCreatedOn": BASE_TIME}
    event = change_event(type_name, p, n, legacy=legacy)
    extra: dict[str, dict[str, Any]] = {
        "patchset-created": {"uploader": account("alice")},
        "change-merged": {"submitter": account("carol"), "newRev": _sha("merged")},
        "change-abandoned": {"abandoner": account("alice"), "reason": "superseded"},
        "change-restored": {"restorer": account("alice"), "reason": "still needed"},
        "change-deleted": {"deleter": account("alice")},
        "reviewer-added": {"reviewer": account("dave"), "adder": account("alice")},
        "reviewer-deleted": {"reviewer": account("dave"), "remover": account("alice"),
                             "approvals": [approval("Code-Review", 0)], "comment": ""},
        "vote-deleted": {"reviewer": account("dave"), "remover": account("alice"),
                         "approvals": [approval("Rollcall-Vote", 0, 1)],
                         "comment": "Removed Rollcall-Vote+1 by Dave Example"},
        "topic-changed": {"changer": account("alice"), "oldTopic": "old-topic"},
        "hashtags-changed": {"editor": account("alice"), "added": ["formal-vote"],
                             "removed": [], "hashtags": ["formal-vote"]},
        "custom-keyed-values-changed": {"editor": account("alice"), "added": {"k": "v"},
                                        "removed": [], "customKeyedValues": {"k": "v"}},
        "wip-state-changed": {"changer": account("alice")},
        "private-state-changed": {"changer": account("alice")},
    }
    event.update(extra[type_name])
    return event


ALL_TYPES = (
    "batch-ref-updated", "change-abandoned", "change-deleted", "change-merged",
    "change-restored", "comment-added", "commit-received", "custom-keyed-values-changed",
    "hashtags-changed", "patchset-created", "private-state-changed", "project-created",
    "ref-received", "ref-updated", "reviewer-added", "reviewer-deleted", "topic-changed",
    "vote-deleted", "wip-state-changed", "project-head-updated", "dropped-output",
)

#: (type, weight): roughly what a busy Gerrit's stream carries.
MIX = (
    ("comment-added", 40), ("meta-noise", 20), ("patchset-created", 14),
    ("reviewer-added", 8), ("ref-updated", 4), ("change-merged", 4), ("hashtags-changed", 2),
    ("topic-changed", 1), ("wip-state-changed", 1), ("change-abandoned", 2),
    ("change-restored", 1), ("vote-deleted", 1), ("reviewer-deleted", 1), ("ref-replicated", 1),
)


def synthetic_stream(events: int = 100_000, changes: int = 2_000, *, seed: int = 1,
                     legacy_share: float = 0.1) -> Iterator[bytes]:
    """A seeded stream of `events` JSON lines spread over `changes` changes."""
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    patchsets = [1] * changes
    for i in range(events):
        kind = rng.choices(kinds, weights)[0]
        number = rng.randrange(changes) + 1
        project = PROJECTS[number % len(PROJECTS)]
        when = BASE_TIME + i * 3
        legacy = rng.random() < legacy_share
        user = PEOPLE[rng.randrange(len(PEOPLE))]
        owner = PEOPLE[number % len(PEOPLE)]
        ps = patchsets[number - 1]
        kw: dict[str, Any] = {"owner": owner, "ps": ps, "legacy": legacy, "when": when,
                              "hashtags": ("formal-vote",) if number % 7 == 0 else ()}
        if kind == "comment-added":
            label = "Rollcall-Vote" if project.endswith("governance") else "Code-Review"
            value = rng.choice((-1, 0, 1, 1, 2)) if label == "Code-Review" else rng.choice((-1, 1))
            event = comment_added(project, number, user, {label: value, "Verified": 1},
                                  old={label: 0}, **kw)
        elif kind == "meta-noise":
            event = ref_updated(project, f"refs/changes/{number % 100:02d}/{number}/meta",
                                when=when)
        elif kind == "ref-updated":
            ref = f"refs/tags/1.{i % 50}.0" if i % 5 == 0 else "refs/heads/master"
            event = ref_updated(project, ref, who=user, when=when, legacy=legacy)
        elif kind == "ref-replicated":
            event = {"type": "ref-replicated", "eventCreatedOn": when, "project": project,
                     "ref": "refs/heads/master", "targetNode": "mirror-1", "status": "succeeded"}
        else:
            if kind == "patchset-created":
                patchsets[number - 1] = ps = ps + 1
                kw["ps"] = ps
            event = change_event(kind, project, number, **kw)
            actor = account(user)
            role = {"patchset-created": "uploader", "change-merged": "submitter",
                    "change-abandoned": "abandoner", "change-restored": "restorer",
                    "reviewer-added": "adder", "hashtags-changed": "editor",
                    "topic-changed": "changer", "wip-state-changed": "changer",
                    "vote-deleted": "remover", "reviewer-deleted": "remover"}[kind]
            event[role] = actor
            if kind in ("reviewer-added", "vote-deleted", "reviewer-deleted"):
                event["reviewer"] = account(PEOPLE[(number + 3) % len(PEOPLE)])
            if kind == "hashtags-changed":
                event.update(added=["formal-vote"], removed=[], hashtags=["formal-vote"])
            if kind == "topic-changed":
                event["oldTopic"] = "cycle-goals"
        yield json.dumps(event, separators=(",", ":")).encode()
