"""The `ci` requirement: CI (Zuul) passed on the current patch set. Pure.

Zuul reports in Gerrit as its own account: a vote on `Verified` and a comment with
a link per job. Only the current patch set's votes are read (Gerrit resets
Verified on a new patch set), and of them only the CI account's, which is one
vote: its latest. A `recheck` makes Zuul test again and vote again, so a -1
followed by a +1 is simply a +1 now. The comment is read only to say *why*: the
failing jobs and their build links, from Zuul's latest report on that patch set.

What Zuul's REST API says (enqueued, last build) is not read here: it is live
state, shown beside the verdict by the plugin, never part of the decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from govbot.zuul.report import ZuulReport, parse_report

from .change import Account, ChangeState, Message, Vote
from .model import AllOf, AnyOf, CiVerified, Requirement, Rule
from .verdict import BLOCKED, MET, PENDING

__all__ = ["DEFAULT_CI", "CiDefaults", "ci_outcome", "ci_requirements", "latest_report"]

_MAX_JOBS_SHOWN = 5  # a message is one short comment, not a copy of Zuul's


@dataclass(frozen=True, slots=True)
class CiDefaults:
    """The operator's defaults for `ci: true` (the `zuul:` settings)."""

    label: str = "Verified"
    account: str = "zuul"


DEFAULT_CI = CiDefaults()


def ci_requirements(req: Requirement | Rule) -> Iterator[CiVerified]:
    """Every `ci` requirement of a rule (or requirement), however deeply nested."""
    if isinstance(req, Rule):
        req = req.require
    if isinstance(req, CiVerified):
        yield req
    elif isinstance(req, AllOf | AnyOf):
        for item in req.items:
            yield from ci_requirements(item)


def _is_account(account: Account, who: str) -> bool:
    if who.isdigit():
        return bool(account.account_id == int(who))
    return bool(account.username) and str(account.username).casefold() == who.casefold()


def _latest(votes: list[Vote]) -> Vote | None:
    """Gerrit keeps one vote per account and label; should a reader hand over more, the
    newest wins (a re-vote after a recheck replaces the earlier one)."""
    if not votes:
        return None
    return max(votes, key=lambda v: v.date.timestamp() if v.date else float("-inf"))


def latest_report(change: ChangeState, account: str, label: str) -> ZuulReport | None:
    """The CI account's latest report on the current patch set: the newest comment that
    reports builds or votes on `label` (not a "Starting check jobs" notice)."""
    newest: ZuulReport | None = None
    mine: list[Message] = [m for m in change.messages
                           if m.patchset == change.patchset and _is_account(m.author, account)]
    for message in reversed(mine):
        report = parse_report(message.text)
        if report is None:
            continue
        newest = newest or report
        first_line = message.text.split("\n", 1)[0]
        if report.has_results or f" {label}" in first_line or f":{label}" in first_line:
            return report
    return newest


def _sign(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _why_failed(report: ZuulReport | None) -> str:
    if report is None:
        return "; no report from CI on this patch set"
    failed = report.failed_jobs
    if failed:
        shown = ", ".join(f"{j.name} {j.result}" + (f" {j.url}" if j.url else "")
                          for j in failed[:_MAX_JOBS_SHOWN])
        more = len(failed) - _MAX_JOBS_SHOWN
        tail = f" and {more} more" if more > 0 else ""
        link = (f"; all results: {report.buildset_url}" if report.buildset_url else "")
        return f"; {report.headline} Failed: {shown}{tail}{link}"
    url = report.report_url or next(iter(report.links), None)
    return f"; {report.headline}" + (f" See {url}" if url else "")


def ci_outcome(req: CiVerified, change: ChangeState,
               defaults: CiDefaults = DEFAULT_CI) -> tuple[str, str]:
    """(status, sentence) for one `ci` requirement."""
    label = req.label or defaults.label
    account = req.account or defaults.account
    wanted = (f"{label} {_sign(req.at_least)} from CI ({account}) on patch set "
              f"{change.patchset}")
    vote = _latest([v for v in change.votes_on(label) if _is_account(v.account, account)])
    if vote is None or vote.value == 0:
        return PENDING, f"{wanted}: waiting for CI"
    if vote.value >= req.at_least:
        report = latest_report(change, account, label)
        said = f" ({report.headline})" if report is not None else ""
        return MET, f"{wanted}: {label} {_sign(vote.value)}{said}"
    if vote.value < 0:
        why = _why_failed(latest_report(change, account, label))
        return BLOCKED, f"{wanted}: CI voted {label} {_sign(vote.value)}{why}"
    # A positive vote below the threshold (check's +1 where gate's +2 is required).
    return PENDING, f"{wanted}: {label} {_sign(vote.value)} so far; waiting for CI"
