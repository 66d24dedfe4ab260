"""A verdict as the web pages show it: a JSON summary the plugin remembers per change.

Each time the plugin decides on an open change it remembers this summary under
`change/<number>` (a `Remember`, only when it differs from the last one), so the
board and the verdict page read the state and never Gerrit: one board render is one
state read for every open change. The summary is also the `/api/changes/<n>` answer,
so its field names are stable (docs/web.md lists them).

`history` holds the verdicts posted, with the time each was decided: one entry per
change of the verdict's fingerprint, the same condition under which the Gerrit
reporter posts a vote, so it lists what was posted (newest last, the last 50).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec
from msgspec.structs import asdict

from govbot.gerrit.changes import ChangeInfo

from .ballot import PeopleIndex
from .change import ChangeState
from .model import CategoryGuard, Rule, RulesConfig
from .verdict import Verdict

__all__ = ["HISTORY", "KEY_PREFIX", "ROW_PREFIX", "board_row", "digest", "dumps", "key_of",
           "loads", "row_key", "summarize", "with_history"]

KEY_PREFIX = "change/"  # the whole summary: the verdict page and /api/changes/<n>
ROW_PREFIX = "board/"  # the board's few fields: the board reads thousands at once
HISTORY = 50  # entries kept per change
MAX_FILES = 200  # files listed per change: a page, not a diff
_ENCODE = msgspec.json.Encoder().encode  # digest input: compact and deterministic


def key_of(number: int) -> str:
    return f"{KEY_PREFIX}{number}"


def row_key(number: int) -> str:
    return f"{ROW_PREFIX}{number}"


def board_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a summary the board shows (and filters and sorts on)."""
    reasons = summary.get("reasons") or ()
    why = next((r["text"] for r in reasons if r["status"] == summary["state"]), None)
    return {k: summary.get(k) for k in (
        "number", "project", "branch", "subject", "state", "rule", "body", "tally",
        "missing", "earliest", "next_check", "updated", "wip", "evaluated_at", "digest")} | {
        "owner": (summary.get("owner") or {}).get("name"), "why": why}


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _names(names: Any) -> list[str]:
    if getattr(names, "everything", False):
        return ["(any)"]
    return sorted(names.exact) + [p.pattern for p in names.patterns]


def select_lines(rule: Rule, change: ChangeState) -> list[str]:
    """Why `rule` selected `change`: one line per selector key the rule gives."""
    select = rule.select
    lines = [f"project {change.project} is one of {', '.join(_names(select.projects))}"]
    if not select.branches.empty:
        lines.append(f"branch {change.branch} is one of {', '.join(_names(select.branches))}")
    if select.files.globs:
        touched = [f for f in change.files if select.files.matches(f)]
        lines.append(f"touches {', '.join(touched[:5])}"
                     f"{' …' if len(touched) > 5 else ''} "
                     f"(files: {', '.join(select.files.globs)})")
    if select.hashtags:
        lines.append("hashtag " + ", ".join(sorted(select.hashtags & set(change.hashtags))))
    if not select.topics.empty:
        lines.append(f"topic {change.topic}")
    if select.owners:
        lines.append(f"owner is one of {', '.join(sorted(select.owners))}")
    return lines


def guard_view(rules: RulesConfig, change: ChangeState) -> dict[str, Any] | None:
    """The category guard of the change's project, and what each touched file needs."""
    guard: CategoryGuard | None = next((g for g in rules.guards if g.applies(change)), None)
    if guard is None:
        return None
    needs = []
    for file_rule in guard.files:
        touched = [f for f in change.files if file_rule.files.matches(f)]
        if touched:
            needs.append({"files": touched[:10], "hashtags": list(file_rule.hashtags)})
    return {"categories": list(guard.hashtags),
            "present": [h for h in guard.hashtags if h in change.hashtags],
            "needs": needs}


def other_labels(verdict: Verdict, change: ChangeState, people: PeopleIndex,
                 ignore: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Votes on labels the rule does not read (what the vote table lists as "another
    label"); `ignore`: labels not worth listing (the bot's own)."""
    read = {m.label for m in verdict.members} | {o.label for o in verdict.others}
    out = []
    for label in sorted(change.votes):
        if label in read or label in ignore:
            continue
        for vote in change.votes[label]:
            if vote.value == 0:
                continue
            person = people.person_for(vote.account)
            out.append({"who": people.name_of(person) if person else vote.account.describe(),
                        "person": person, "label": label, "value": vote.value,
                        "why": f"another label: the rule reads {', '.join(sorted(read))}"
                        if read else "another label: the rule reads no vote"})
    return out


def summarize(verdict: Verdict, change: ChangeState, info: Mapping[str, Any] | ChangeInfo,
              rules: RulesConfig, people: PeopleIndex, *, now: datetime,
              fingerprint: str, message: str, ignore_labels: Sequence[str] = ()
              ) -> dict[str, Any]:
    """The summary of one decision (without `history`; see `with_history`)."""
    rule = rules.rule(verdict.rule) if verdict.rule else None
    owner_person = people.person_for(change.owner)
    counted = [m for m in verdict.members if m.counted]
    return {
        "number": change.number, "project": change.project, "branch": change.branch,
        "subject": _subject(info), "patchset": change.patchset,
        "owner": {"name": people.name_of(owner_person) if owner_person
                  else change.owner.describe(),
                  "person": owner_person, "username": change.owner.username},
        "hashtags": list(change.hashtags), "topic": change.topic, "wip": change.wip,
        "files": list(change.files[:MAX_FILES]), "files_total": len(change.files),
        "state": verdict.state, "rule": verdict.rule, "description": verdict.description,
        "body": rule.body if rule else None,
        "rule_source": str(rule.source) if rule and rule.source else None,
        "select": select_lines(rule, change) if rule else [],
        "guard": guard_view(rules, change),
        # Each row with its struct's fields (Reason, MemberRow, OtherVote, Voter: the
        # names docs/web.md lists), made in C: a reload summarizes thousands of changes.
        "reasons": [asdict(r) for r in verdict.reasons],
        "members": [asdict(m) for m in verdict.members],
        "others": [asdict(o) for o in verdict.others],
        "other_labels": other_labels(verdict, change, people, ignore_labels),
        "missing": [asdict(v) for v in verdict.missing],
        "tally": {"yes": sum(1 for m in counted if (m.value or 0) > 0),
                  "no": sum(1 for m in counted if (m.value or 0) < 0),
                  "voted": sum(1 for m in verdict.members if m.value is not None),
                  "members": len({(m.body, m.person) for m in verdict.members})},
        "earliest": _time(verdict.earliest), "next_check": _time(verdict.next_check),
        "created": _time(change.first_revision_at),
        "updated": _time(change.latest_revision_at),
        "fingerprint": fingerprint, "message": message, "evaluated_at": now.isoformat(),
    }


def digest(fingerprint: str, state: str, change: ChangeState,
           info: Mapping[str, Any] | ChangeInfo) -> str:
    """Changes when the summary would: the verdict's fingerprint covers its message (rule,
    reasons, counted votes, missing voters, times), the rest is what the page shows of the
    change (its votes on every label included).
    Cheap on purpose: it is computed on every decision, the summary only when it differs."""
    votes = sorted((label, v.account.account_id or 0, v.account.username or "", v.value)
                   for label, on_label in change.votes.items() for v in on_label)
    text = _ENCODE([fingerprint, state, change.patchset, change.branch, change.topic,
                    change.wip, change.hashtags, change.files[:MAX_FILES],
                    _subject(info), change.owner.username, change.latest_revision_at, votes])
    return hashlib.sha256(text).hexdigest()[:24]


def _subject(info: Mapping[str, Any] | ChangeInfo) -> str:
    return info.subject if isinstance(info, ChangeInfo) else str(info.get("subject") or "")


def with_history(summary: dict[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """`summary` with the history of `previous` and, if the verdict changed, a new entry."""
    history: list[Any] = list((previous or {}).get("history") or ())
    if not history or history[-1].get("fingerprint") != summary["fingerprint"]:
        history.append({"state": summary["state"], "at": summary["evaluated_at"],
                        "patchset": summary["patchset"],
                        "fingerprint": summary["fingerprint"]})
    summary["history"] = history[-HISTORY:]
    return summary


def dumps(summary: Mapping[str, Any]) -> str:
    """A summary as it is remembered: one JSON string (keys sorted), not nested values,
    which holds a summary in a fraction of the memory of its dicts and lists. msgspec
    writes it in a quarter of json.dumps' time (a reload writes thousands)."""
    return msgspec.json.encode(summary, order="sorted").decode()


def loads(value: Any) -> dict[str, Any] | None:
    """A remembered summary back (None: none, or not one)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None
