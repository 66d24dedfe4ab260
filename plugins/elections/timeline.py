"""The election timeline on IRC: which reminders, when, and what they say.

Each election is one stream of reminders (`timeline:<election>`): the configured
instants, "last 24 hours" of nominations and of polling, and a daily digest while
nominations are open. The plugin keeps one wake-up per stream for the next
reminder and a cursor in its state (the last instant handled), so a restart
neither repeats nor skips one; what fell due while the bot was down is sent if
it is at most the election's `grace` late, and dropped (logged) if older.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import PTL, Election

DAY = dt.timedelta(days=1)
WHEN = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True, slots=True)
class Reminder:
    election: str
    what: str  # nominations-open, nominations-last-24h, digest, ...
    at: dt.datetime


def stream_key(election: Election) -> str:
    return f"timeline:{election.id}"


def reminders(election: Election) -> list[Reminder]:
    """Every reminder of the election, by time (one per instant and kind)."""
    t = election.timeline
    found = [("nominations-open", t.nominations_open),
             ("nominations-last-24h", t.nominations_close - DAY),
             ("nominations-close", t.nominations_close),
             ("polling-start", t.polling_start),
             ("polling-last-24h", t.polling_end - DAY),
             ("polling-end", t.polling_end)]
    if t.campaigning_start != t.nominations_close:
        found.append(("campaigning-start", t.campaigning_start))
    digest = t.nominations_open + DAY
    while digest < t.nominations_close - DAY:
        found.append(("digest", digest))
        digest += DAY
    # A "last 24 hours" before its window opened (a window shorter than a day) is noise.
    kept = [(w, at) for w, at in found
            if not (w == "nominations-last-24h" and at <= t.nominations_open)
            and not (w == "polling-last-24h" and at <= t.polling_start)]
    return sorted((Reminder(election.id, w, at) for w, at in kept), key=lambda r: r.at)


@dataclass(frozen=True, slots=True)
class Progress:
    send: tuple[Reminder, ...]
    dropped: tuple[Reminder, ...]
    next: Reminder | None


def advance(election: Election, cursor: dt.datetime, now: dt.datetime) -> Progress:
    """What is due in (cursor, now]: sent within grace, else dropped; and what is next."""
    due = [r for r in reminders(election) if cursor < r.at <= now]
    upcoming = next((r for r in reminders(election) if r.at > now), None)
    return Progress(tuple(r for r in due if now - r.at <= election.grace),
                    tuple(r for r in due if now - r.at > election.grace), upcoming)


def text(election: Election, reminder: Reminder, *, teams_without: Sequence[str] | None,
         candidates: int | None) -> str:
    """The line said in each of the election's channels."""
    t = election.timeline
    where = f"propose a change to {election.repository} adding {election.path}"
    missing = _missing(election, teams_without)
    lines = {
        "nominations-open": f"Nominations for the {election.title} are open until "
                            f"{t.nominations_close:{WHEN}}: {where}.{missing}",
        "nominations-last-24h": f"Last 24 hours of nominations for the {election.title}: "
                                f"they close {t.nominations_close:{WHEN}}.{missing}",
        "digest": f"{election.title}: nominations are open until "
                  f"{t.nominations_close:{WHEN}}.{missing}",
        "nominations-close": f"Nominations for the {election.title} are closed"
                             f"{_count(candidates)}.{missing}",
        "campaigning-start": f"Campaigning for the {election.title} starts now; polling "
                            f"opens {t.polling_start:{WHEN}}.",
        "polling-start": f"Polling for the {election.title} is open until "
                         f"{t.polling_end:{WHEN}}.",
        "polling-last-24h": f"Last 24 hours of polling for the {election.title}: it closes "
                            f"{t.polling_end:{WHEN}}.",
        "polling-end": f"Polling for the {election.title} is closed.",
    }
    return lines[reminder.what]


def needs_candidacies(reminder: Reminder) -> bool:
    """The reminders that list teams without a candidate or count the candidacies."""
    return reminder.what in ("nominations-open", "nominations-last-24h", "digest",
                             "nominations-close")


def _missing(election: Election, teams: Sequence[str] | None) -> str:
    if election.kind != PTL or teams is None:
        return ""
    if not teams:
        return " Every team has a candidate."
    return f" Teams without a candidate yet: {', '.join(teams)}."


def _count(candidates: int | None) -> str:
    if candidates is None:
        return ""
    return f" with {candidates} candidacy" if candidates == 1 else \
        f" with {candidates} candidacies"


def ptl_teams(names: Iterable[tuple[str, str]]) -> list[str]:
    """Team names of (name, leadership) pairs that elect a PTL, sorted."""
    return sorted(name for name, leadership in names if leadership == PTL)
