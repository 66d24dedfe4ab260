"""`render(verdict) -> str`: the one short Gerrit message a verdict is posted as.

Plain text that reads well in Gerrit's UI: '- ' lines become bullets and lines
indented by two spaces stay preformatted, which keeps the vote table aligned::

    Governance check: PENDING — rule formal-vote
    Formal vote: motions, resolutions, new teams, ...

    - met: more yes than no: 4 yes, 1 no
    - met: at least 3 (ceil(n/3) with n=9) yes votes: 4 yes
    - waiting: open at least 7 days since the first revision: not before 2026-11-29 10:00 UTC

    Technical Committee (Rollcall-Vote):
      Ada Lindqvist     +1  yes
      Bruno Okafor      -1  no
      Chiara Benedetti   -  no vote yet

    Not counted: Zoe Outsider Rollcall-Vote +1 (not a member of Technical Committee)
    Still to vote: Chiara Benedetti
    Earliest approval: 2026-11-29 10:00 UTC

Nothing in it depends on the wall clock, so the same verdict renders the same
text (that is what `Verdict.fingerprint` relies on).
"""

from __future__ import annotations

import hashlib
from itertools import groupby

from .ballot import format_value
from .change import format_time
from .verdict import MET, PENDING, UNGOVERNED, MemberRow, Verdict

__all__ = ["MAX_MESSAGE_CHARS", "headline", "render"]

MAX_MESSAGE_CHARS = 15_000  # Gerrit rejects messages over about 16 KiB
_MARK = {MET: "met", PENDING: "waiting"}  # anything else: "blocked"


def headline(verdict: Verdict) -> str:
    if verdict.state == UNGOVERNED:
        return "Governance check: UNGOVERNED — no rule applies"
    what = f"rule {verdict.rule}" if verdict.rule else verdict.description
    return f"Governance check: {verdict.state.upper()} — {what}"


def _table(rows: list[MemberRow]) -> list[str]:
    width = max(len(r.name) for r in rows)
    return [f"  {r.name:<{width}}  {format_value(r.value):>3}  {r.why}" for r in rows]


def render(verdict: Verdict) -> str:
    lines = [headline(verdict)]
    if verdict.state == UNGOVERNED:  # nothing is required, so nothing is met or missing
        return "\n".join([*lines, *(r.text for r in verdict.reasons)])
    if verdict.rule and verdict.description:
        lines.append(verdict.description)
    if verdict.reasons:
        lines.append("")
        for reason in verdict.reasons:
            indent = "  " * reason.depth
            lines.append(f"{indent}- {_MARK.get(reason.status, 'blocked')}: {reason.text}")
    for (body, label), rows in groupby(verdict.members, key=lambda r: (r.body_name, r.label)):
        lines += ["", f"{body} ({label}):", *_table(list(rows))]
    tail: list[str] = []
    if verdict.others:
        tail.append("Not counted: " + "; ".join(
            f"{o.who} {o.label} {format_value(o.value)} ({o.why})" for o in verdict.others))
    if verdict.missing:
        tail.append("Still to vote: " + ", ".join(v.name for v in verdict.missing))
    if verdict.earliest is not None:
        tail.append(f"Earliest approval: {format_time(verdict.earliest)}")
    if tail:
        lines += ["", *tail]
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS - 20].rstrip() + "\n… (truncated)"
    return text


def fingerprint(verdict: Verdict, message: str | None = None) -> str:
    """Changes exactly when what would be posted changes: the state and the message.

    The message never shows the wall clock (only times computed from the change),
    so evaluating the same change again later gives the same fingerprint. Pass the
    already rendered `message` to save rendering it twice.
    """
    text = f"{verdict.state}\n{render(verdict) if message is None else message}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
