"""Votes in meetings: MeetBot's `#startvote` / `#vote` / `#endvote`, plus an electorate.

An unbound vote is MeetBot's: anyone votes, the last vote of each person counts,
`#endvote` prints the tally and declares nothing. A vote bound to a body of the
governance config (`#startvote tc Question? A, B`) counts only the body's members,
recognised by their services account; others' votes are shown as non-binding. Its
quorum and threshold are fixed when the vote starts (from meetbot.yaml, see
`VoteRules`) and stored in the journal, so the result never changes on replay.

Thresholds: `majority` — the option (Yes for a Yes/No vote, else the leading
option) has more than half of the binding votes cast; or an expression of the body
size (`ceil(n/2)`, `floor(n/2)+1`, `3`) — at least that many binding votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the expressions (fractions, decimal) are parsed for the live plugin's
    # rules; `govbot minutes` decides votes from the numbers the journal or log holds
    from govbot.thresholds import Expr

DEFAULT_QUORUM = "ceil(n/2)"
DEFAULT_THRESHOLD = "majority"


@dataclass(frozen=True, slots=True)
class VoteRules:
    """A body's rules for meeting votes, from meetbot.yaml `votes:`."""

    quorum: Expr = field(default_factory=lambda: _parse(DEFAULT_QUORUM))
    threshold: Expr | None = None  # None: majority of the binding votes cast

    @classmethod
    def of(cls, quorum: Any = DEFAULT_QUORUM, threshold: Any = DEFAULT_THRESHOLD) -> VoteRules:
        """Raises ExprError for an expression that does not parse."""
        limit = None if str(threshold).strip() == "majority" else _parse(threshold)
        return cls(_parse(quorum), limit)

    def snapshot(self, size: int) -> tuple[int, dict[str, Any]]:
        """(quorum needed, threshold) for a body of `size`, as stored in the journal."""
        if self.threshold is None:
            return self.quorum.needed(size), {"kind": "majority"}
        return self.quorum.needed(size), {"kind": "count", "needed": self.threshold.needed(size),
                                          "text": self.threshold.text}


def _parse(text: Any) -> Expr:
    from govbot.thresholds import parse_expr

    return parse_expr(text)


def check_rules(quorum: Any, threshold: Any) -> str | None:
    """The problem with a rules entry, or None."""
    from govbot.thresholds import ExprError

    try:
        VoteRules.of(quorum, threshold)
    except ExprError as exc:
        return f"{exc.message} (write 'majority' or an expression like 'ceil(n/2)')"
    return None


@dataclass(frozen=True, slots=True)
class Ballot:
    nick: str
    option: str
    person: str | None  # the config person the voter's account maps to, if any


@dataclass(slots=True)
class Poll:
    """The vote in progress (mutable while the journal is folded)."""

    question: str
    options: tuple[str, ...]
    body: str | None = None
    body_name: str | None = None
    members: frozenset[str] = frozenset()
    quorum: int | None = None
    threshold: dict[str, Any] | None = None
    line: int = 0
    ballots: dict[str, Ballot] = field(default_factory=dict)  # voter key -> last ballot

    def match(self, text: str) -> str | None:
        wanted = text.strip().casefold()
        return next((o for o in self.options if o.casefold() == wanted), None)

    def binding(self, ballot: Ballot) -> bool:
        return self.body is None or (ballot.person is not None and ballot.person in self.members)


@dataclass(frozen=True, slots=True)
class Count:
    option: str
    voters: tuple[str, ...]  # nicks whose vote counts
    non_binding: tuple[str, ...] = ()  # bound votes: nicks of non-members


@dataclass(frozen=True, slots=True)
class VoteResult:
    question: str
    counts: tuple[Count, ...]
    body: str | None = None
    body_name: str | None = None
    electorate: int = 0
    quorum: int | None = None
    cast: int = 0  # binding ballots
    result: str | None = None  # passed | failed | no quorum (None: unbound)
    winner: str | None = None
    threshold: str = ""

    @property
    def tally(self) -> str:
        """`Yes (2): alice, bob; No (0)` — MeetBot's shape, one option after the other."""
        parts = []
        for c in self.counts:
            part = f"{c.option} ({len(c.voters)})" + (f": {', '.join(c.voters)}" if c.voters
                                                      else "")
            parts.append(part)
        return "; ".join(parts)

    @property
    def non_binding(self) -> str:
        found = [f"{c.option}: {', '.join(c.non_binding)}" for c in self.counts if c.non_binding]
        return "; ".join(found)

    @property
    def summary(self) -> str:
        text = f'Voted on "{self.question}" Results are: {self.tally}'
        if self.result is not None:
            text += f". {self.verdict}"
        return text

    @property
    def verdict(self) -> str:
        if self.result is None:
            return ""
        who = self.body_name or self.body or ""
        head = f"Result: {self.result.upper()}"
        if self.winner and self.result == "passed" and not _is_yes_no(self.counts):
            head += f" ({self.winner})"
        return (f"{head} — {self.cast} of {self.electorate} members of {who} voted, quorum "
                f"{self.quorum}, threshold {self.threshold}")


def _is_yes_no(counts: tuple[Count, ...]) -> bool:
    return any(c.option.casefold() == "yes" for c in counts)


def decide(poll: Poll) -> VoteResult:
    """Tally a poll and, when bound to a body, declare its result."""
    binding: dict[str, list[str]] = {o: [] for o in poll.options}
    other: dict[str, list[str]] = {o: [] for o in poll.options}
    for ballot in poll.ballots.values():
        (binding if poll.binding(ballot) else other)[ballot.option].append(ballot.nick)
    counts = tuple(Count(o, tuple(sorted(binding[o], key=str.lower)),
                         tuple(sorted(other[o], key=str.lower))) for o in poll.options)
    if poll.body is None:
        return VoteResult(poll.question, counts)
    cast = sum(len(v) for v in binding.values())
    threshold = poll.threshold or {"kind": "majority"}
    described = ("more than half of the votes cast" if threshold["kind"] == "majority"
                 else f"{threshold['needed']} votes ({threshold.get('text', '')})")

    def declared(result: str, winner: str | None = None) -> VoteResult:
        return VoteResult(poll.question, counts, body=poll.body, body_name=poll.body_name,
                          electorate=len(poll.members), quorum=poll.quorum, cast=cast,
                          result=result, winner=winner, threshold=described)

    if cast < (poll.quorum or 0):
        return declared("no quorum")
    yes = next((o for o in poll.options if o.casefold() == "yes"), None)
    ranked = sorted(poll.options, key=lambda o: -len(binding[o]))
    leader = yes or ranked[0]
    tie = yes is None and len(ranked) > 1 and len(binding[ranked[0]]) == len(binding[ranked[1]])
    got = len(binding[leader])
    reached = (got * 2 > cast) if threshold["kind"] == "majority" else got >= threshold["needed"]
    if reached and not tie and got > 0:
        return declared("passed", leader)
    return declared("failed")
