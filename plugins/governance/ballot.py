"""Who voted what: Gerrit accounts mapped to people, and one body's tally on one label.

A vote belongs to a person when the account id, the username or an email matches
that person in people.yaml (case does not matter for names and emails). Votes
from accounts nobody claims are kept, but count for nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import msgspec

from govbot.config.model import Body, Person

from .change import Account, ChangeState, Vote
from .verdict import MemberRow

__all__ = ["Ballot", "PeopleIndex", "build_ballot", "format_value"]


@dataclass(frozen=True, slots=True)
class PeopleIndex:
    """Lookups from Gerrit identities to person ids. Build it once per loaded config
    (`PeopleIndex.of(config.people)`) when evaluating many changes."""

    people: Mapping[str, Person]
    by_account_id: Mapping[int, str]
    by_username: Mapping[str, str]
    by_email: Mapping[str, str]

    @classmethod
    def of(cls, people: Mapping[str, Person]) -> PeopleIndex:
        ids: dict[int, str] = {}
        names: dict[str, str] = {}
        emails: dict[str, str] = {}
        for person in people.values():
            if person.gerrit_account_id is not None:
                ids[person.gerrit_account_id] = person.id
            if person.gerrit_username:
                names[person.gerrit_username.casefold()] = person.id
            for email in person.emails:
                emails[email.casefold()] = person.id
        return cls(people, ids, names, emails)

    def person_for(self, account: Account) -> str | None:
        # The account id is what Gerrit guarantees; names and emails are fallbacks for
        # REST answers without DETAILED_ACCOUNTS, or accounts people.yaml lists by email.
        if account.account_id is not None and account.account_id in self.by_account_id:
            return self.by_account_id[account.account_id]
        if account.username and account.username.casefold() in self.by_username:
            return self.by_username[account.username.casefold()]
        if account.email and account.email.casefold() in self.by_email:
            return self.by_email[account.email.casefold()]
        return None

    def name_of(self, person_id: str) -> str:
        person = self.people.get(person_id)
        return person.name if person else person_id

    def votes_by_person(self, votes: Iterable[Vote]) -> dict[str, Vote]:
        """Each person's vote; with two accounts voting, the later vote is theirs."""
        out: dict[str, Vote] = {}
        for vote in votes:
            person = self.person_for(vote.account)
            if person is None:
                continue
            held = out.get(person)
            if held is None or _later(vote.date, held.date):
                out[person] = vote
        return out


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


def format_value(value: int | None) -> str:
    if value is None:
        return "-"
    return f"+{value}" if value > 0 else str(value)


class Ballot(msgspec.Struct, frozen=True):
    """One body's votes on one label, classified by the rule's yes/no values."""

    body: Body
    label: str
    rows: tuple[MemberRow, ...]
    yes: tuple[str, ...]  # person ids, counted yes votes
    no: tuple[str, ...]  # counted no votes
    voted: tuple[str, ...]  # counted members who voted anything (an explicit 0 too)
    remaining: tuple[str, ...]  # counted members who have not voted yet
    yes_dates: tuple[datetime, ...]  # when each counted yes was cast, earliest first

    @property
    def n(self) -> int:
        return self.body.size

    def row(self, person: str) -> MemberRow | None:
        return next((r for r in self.rows if r.person == person), None)


def build_ballot(body: Body, label: str, change: ChangeState, index: PeopleIndex, *,
                 yes_value: int, no_value: int, owner: str | None,
                 exclude_owner: bool) -> Ballot:
    votes = index.votes_by_person(change.votes_on(label))
    rows: list[MemberRow] = []
    yes: list[str] = []
    no: list[str] = []
    voted: list[str] = []
    remaining: list[str] = []
    dates: list[datetime] = []
    for member in body.members:
        vote = votes.get(member)
        value = vote.value if vote else None
        if exclude_owner and member == owner:
            counted, why = False, "owner: not counted"
        elif vote is None:
            counted, why = False, "no vote yet"
            remaining.append(member)
        else:
            counted = True
            voted.append(member)
            if vote.value >= yes_value:
                why = "yes"
                yes.append(member)
                dates.append(vote.date or change.latest_revision_at)
            elif vote.value <= no_value:
                why = "no"
                no.append(member)
            elif vote.value == 0:
                why = "abstains"
            else:
                why = f"neither yes ({format_value(yes_value)}) nor no ({format_value(no_value)})"
        rows.append(MemberRow(body=body.id, body_name=body.name, person=member,
                              name=index.name_of(member), label=label, value=value,
                              counted=counted, why=why))
    return Ballot(body, label, tuple(rows), tuple(yes), tuple(no), tuple(voted),
                  tuple(remaining), tuple(sorted(dates)))
