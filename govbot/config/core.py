"""The core sections: people (`people.yaml`) and bodies (`bodies.yaml`).

People are the single place where a human's identities live. Bodies list their
members by person id, by an inline identity, or through an openstack-style
`members.yaml`; every entry is resolved to one person by shared identity
(email, IRC name, Gerrit username), and an entry that contradicts what is
already known about that person is an error, so that a vote can never be
counted for the wrong human.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from govbot.config.model import Body, Person, Source
from govbot.config.schema import (
    INVALID,
    SLUG,
    AnyValue,
    Bool,
    Either,
    Enum,
    Field,
    Int,
    Issues,
    ListOf,
    MapOf,
    Schema,
    Str,
    did_you_mean,
)
from govbot.config.yamlpos import parse_yaml_file, source_of

PEOPLE_FILE = "people.yaml"
BODIES_FILE = "bodies.yaml"

EMAIL = Str(pattern=r"[^@\s]+@[^@\s]+", expected="an email address")
# RFC 2812 nick characters; also fits services account names.
IRC_NAME = Str(pattern=r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*",
               expected="an IRC nick or account")
PERSON_ID = Str(pattern=SLUG, expected="a person id", plural="person ids")

PERSON = Schema({
    "id": Field(PERSON_ID, required=True, doc="unique slug"),
    "name": Field(Str(), required=True),
    "gerrit": Field(Schema({
        "username": Field(Str(expected="a Gerrit username")),
        "account_id": Field(Int(minimum=1)),
        "email": Field(EMAIL),
        "emails": Field(ListOf(EMAIL), default=()),
    }, what="'gerrit'")),
    "irc": Field(Schema({
        "account": Field(IRC_NAME),
        "nick": Field(IRC_NAME),
    }, what="'irc'")),
    "reminders": Field(Bool(), default=True),
}, what="a person", expected="a person (a mapping with 'id' and 'name')", plural="people")
PEOPLE = ListOf(PERSON, expected="a list of people")

IDENTITY = Schema({
    "name": Field(Str()),
    "email": Field(EMAIL),
    "irc": Field(IRC_NAME),
    "gerrit": Field(Str(expected="a Gerrit username")),
}, what="an inline member identity", expected="an identity mapping")
MEMBER = Either(PERSON_ID, IDENTITY, expected="a person id or an identity mapping")
ROLE_HOLDERS = ListOf(PERSON_ID, single_ok=True, expected="a person id or a list of person ids")
BODY = Schema({
    "name": Field(Str()),
    "label": Field(Str(pattern=r"[A-Za-z0-9][A-Za-z0-9-]*",
                       expected="a Gerrit label name like 'Code-Review'"),
                   default="Code-Review"),
    "channel": Field(Str(pattern=r"#\S+", expected="an IRC channel starting with '#'")),
    "members": Field(ListOf(MEMBER, expected="a list of person ids"), default=()),
    "roles": Field(MapOf(ROLE_HOLDERS, key=Str(pattern=SLUG, expected="a role name")),
                   default={}),
    "members_file": Field(Str(expected="a path relative to the config root")),
}, what="a body", expected="a body (a mapping)")
BODIES = MapOf(BODY, key=Str(pattern=SLUG, expected="a body id"), item_label="body '{key}'",
               expected="a mapping of body ids to bodies")

# openstack/governance reference/members.yaml; keys we do not use are ignored.
MEMBERS_FILE = ListOf(Schema({
    "name": Field(Str(), required=True),
    "irc": Field(IRC_NAME),
    "email": Field(EMAIL),
    "gerrit": Field(Str(expected="a Gerrit username")),
    "memberid": Field(Int()),
    "date": Field(AnyValue()),
    "role": Field(Enum("chair", "vice-chair")),
}, what="a member", extra="ignore"), expected="a list of members")

# Identity kinds. An IRC name is an account or a nick: they share one namespace so
# that one person's nick can never be another person's account.
EMAIL_KIND = "email"
IRC_KIND = "IRC name"
GERRIT_KIND = "Gerrit username"
ACCOUNT_KIND = "Gerrit account id"


@dataclass(frozen=True, slots=True)
class Claim:
    """Who holds an identity, and where that was said."""

    person: str
    value: Any
    source: Source
    body: str | None = None  # set when seen in a body's member entry, not in people.yaml


@dataclass
class Directory:
    """People by id and an index of every identity claim."""

    people: dict[str, Person] = field(default_factory=dict)
    claims: dict[tuple[str, Any], Claim] = field(default_factory=dict)
    by_person: dict[tuple[str, str], list[Claim]] = field(default_factory=dict)
    # people.yaml has errors, so someone may be missing: "unknown person" errors
    # elsewhere are echoes of those, counted in `echoed` and not reported.
    incomplete: bool = False
    echoed: int = 0
    tainted: set[str] = field(default_factory=set)  # bodies missing someone for that

    def echo(self, body: str) -> None:
        self.echoed += 1
        self.tainted.add(body)

    def find(self, kind: str, value: Any) -> Claim | None:
        return self.claims.get((kind, _fold(value)))

    def known(self, person: str, kind: str) -> list[Claim]:
        return self.by_person.get((person, kind), [])

    def claim(self, kind: str, value: Any, claim: Claim, issues: Issues) -> None:
        key = (kind, _fold(value))
        held = self.claims.get(key)
        if held is not None:
            if held.person != claim.person:
                issues.error(claim.source, (
                    f"{kind} {value!r} is claimed by both {held.person!r} and "
                    f"{claim.person!r}; an identity belongs to one person (also at "
                    f"{held.source})"))
            return
        self.claims[key] = claim
        self.by_person.setdefault((claim.person, kind), []).append(claim)

    def match(self, identity: Mapping[str, Any]) -> dict[str, list[tuple[str, Claim]]]:
        """Person id -> the identities of `identity` that name that person."""
        found: dict[str, list[tuple[str, Claim]]] = {}
        for kind, value in _components(identity):
            held = self.find(kind, value)
            if held is not None:
                found.setdefault(held.person, []).append((kind, held))
        return found


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _components(identity: Mapping[str, Any]) -> list[tuple[str, Any]]:
    pairs = [(EMAIL_KIND, identity.get("email")), (IRC_KIND, identity.get("irc")),
             (GERRIT_KIND, identity.get("gerrit"))]
    return [(kind, value) for kind, value in pairs if value]


def parse_people(data: Any, file: str, issues: Issues) -> Directory:
    """Build the directory of people from the content of people.yaml."""
    directory = Directory()
    if data is None:
        return directory  # an empty or absent people.yaml: no people
    records = PEOPLE.check(data, source_of(data) or Source(file, 1), "this file", issues)
    if records is INVALID:
        return directory
    for record in records:
        person_id = record["id"]
        if not person_id or not record["name"]:
            continue
        if person_id in directory.people:
            first = directory.people[person_id].source
            issues.error(record.source_of("id"), (
                f"duplicate person id {person_id!r}; give each person a unique id "
                f"(also at {first})"))
            continue
        gerrit = record["gerrit"] or {}
        irc = record["irc"] or {}
        emails = list(gerrit.get("emails") or ())
        if gerrit.get("email"):
            emails.insert(0, gerrit["email"])
        person = Person(
            id=person_id, name=record["name"], gerrit_username=gerrit.get("username"),
            gerrit_account_id=gerrit.get("account_id"), emails=tuple(dict.fromkeys(emails)),
            irc_account=irc.get("account"), irc_nick=irc.get("nick"),
            reminders=record["reminders"], source=record.source)
        directory.people[person_id] = person
        _claim_person(directory, record, issues)
    return directory


def _claim_person(directory: Directory, record: Any, issues: Issues) -> None:
    person_id = record["id"]
    gerrit = record["gerrit"]
    if gerrit:
        for key, kind in (("username", GERRIT_KIND), ("account_id", ACCOUNT_KIND),
                          ("email", EMAIL_KIND)):
            if gerrit[key] is not None:
                directory.claim(kind, gerrit[key],
                                Claim(person_id, gerrit[key], gerrit.source_of(key)), issues)
        for index, email in enumerate(gerrit["emails"] or ()):
            where = source_of(gerrit["emails"], index) or gerrit.source_of("emails")
            directory.claim(EMAIL_KIND, email, Claim(person_id, email, where), issues)
    irc = record["irc"]
    if irc:
        for key in ("account", "nick"):
            if irc[key]:
                directory.claim(IRC_KIND, irc[key],
                                Claim(person_id, irc[key], irc.source_of(key)), issues)


@dataclass
class _BodyBuilder:
    """Resolves one body's member entries; keeps where each member was listed."""

    body_id: str
    directory: Directory
    issues: Issues
    members: dict[str, Source] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)

    def add(self, person_id: str, where: Source) -> None:
        if person_id in self.members:
            self.issues.error(where, (
                f"{person_id!r} is listed twice in body {self.body_id!r}; remove one "
                f"(also at {self.members[person_id]})"))
            return
        self.members[person_id] = where

    def add_id(self, person_id: str, where: Source) -> None:
        if person_id not in self.directory.people and self.directory.incomplete:
            self.directory.echo(self.body_id)
            return
        if person_id not in self.directory.people:
            self.issues.error(where, (
                f"unknown person {person_id!r} in body {self.body_id!r}"
                f"{did_you_mean(person_id, self.directory.people)}; add them to "
                f"{PEOPLE_FILE} or fix the id"))
            return
        self.add(person_id, where)

    def add_identity(self, identity: Mapping[str, Any], where: Source, *,
                     implicit_ok: bool) -> str | None:
        person_id = resolve_identity(self.directory, identity, where, self.issues,
                                     body=self.body_id, implicit_ok=implicit_ok)
        if person_id is not None:
            self.add(person_id, where)
        return person_id


def _describe_entry(identity: Mapping[str, Any]) -> str:
    if identity.get("name"):
        return f"member {identity['name']!r}"
    components = _components(identity)
    if not components:
        return "member"
    kind, value = components[0]
    return f"member with {kind} {value!r}"


def resolve_identity(directory: Directory, identity: Mapping[str, Any], where: Source,
                     issues: Issues, *, body: str, implicit_ok: bool) -> str | None:
    """The person an identity names; records what it says about them.

    With `implicit_ok` (members files), an identity that matches nobody becomes an
    implicit person, with a warning: such a person has no IRC authority until they
    are added to people.yaml.
    """
    what = _describe_entry(identity)
    if not _components(identity):
        issues.error(where, f"{what} has no email, irc or gerrit to find them by; add one")
        return None
    matched = directory.match(identity)
    if len(matched) > 1:
        (first, hits_a), (second, hits_b) = list(matched.items())[:2]
        kind_a, (kind_b, claim_b) = hits_a[0][0], hits_b[0]
        issues.error(where, (
            f"{what} matches two people: {first!r} by {kind_a} and {second!r} by {kind_b}; "
            f"fix the identity (also at {claim_b.source})"))
        return None
    if not matched:
        if not implicit_ok and directory.incomplete:
            directory.echo(body)
            return None
        if not implicit_ok:
            issues.error(where, (
                f"{what} matches no person in {PEOPLE_FILE}; add them there or list "
                "their person id"))
            return None
        return _implicit_person(directory, identity, where, issues, body)
    [(person_id, hits)] = matched.items()
    matched_kinds = {kind for kind, _ in hits}
    by = hits[0][0]
    for kind, value in _components(identity):
        if kind in matched_kinds:
            continue
        known = directory.known(person_id, kind)
        if kind != EMAIL_KIND and known:
            _contradiction(issues, where, what, person_id, by, kind, value, known[0], body)
            return None
        # A new fact about this person: kept so a later entry in another body that
        # contradicts it is caught too.
        directory.claim(kind, value, Claim(person_id, value, where, body), issues)
    return person_id


def _contradiction(issues: Issues, where: Source, what: str, person_id: str, by: str,
                   kind: str, value: Any, known: Claim, body: str) -> None:
    if known.body is None:
        issues.error(where, (
            f"{what} is {person_id!r} by {by}, but {kind} {value!r} contradicts "
            f"that person's {kind} {known.value!r}; fix the entry or {PEOPLE_FILE} "
            f"(also at {known.source})"))
    else:
        issues.error(where, (
            f"{person_id!r} appears in body {body!r} with {kind} {value!r} but in body "
            f"{known.body!r} with {kind} {known.value!r}; one person has one identity "
            f"(also at {known.source})"))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_text.lower()).split()
    return "-".join(words)


def _implicit_person(directory: Directory, identity: Mapping[str, Any], where: Source,
                     issues: Issues, body: str) -> str:
    email = identity.get("email")
    base = _slug(identity.get("name") or identity.get("irc") or (email or "").split("@")[0])
    base = base or "member"
    person_id, n = base, 1
    while person_id in directory.people:
        n += 1
        person_id = f"{base}-{n}"
    directory.people[person_id] = Person(
        id=person_id, name=identity.get("name") or base,
        gerrit_username=identity.get("gerrit"), emails=(email,) if email else (),
        irc_nick=identity.get("irc"), source=where)
    for kind, value in _components(identity):
        directory.claim(kind, value, Claim(person_id, value, where, body), issues)
    issues.warning(where, (
        f"{_describe_entry(identity)} of body {body!r} matches no person in {PEOPLE_FILE}; "
        f"using implicit person {person_id!r} (add them to {PEOPLE_FILE} to give them "
        "a Gerrit and IRC identity)"))
    return person_id


def parse_bodies(data: Any, file: str, directory: Directory, issues: Issues, *,
                 root: Path) -> tuple[dict[str, Body], list[str]]:
    """Bodies from the content of bodies.yaml; also returns the members files read."""
    bodies: dict[str, Body] = {}
    files_read: list[str] = []
    if data is None:
        return bodies, files_read
    records = BODIES.check(data, source_of(data) or Source(file, 1), "this file", issues)
    if records is INVALID:
        return bodies, files_read
    for body_id, record in records.items():
        builder = _BodyBuilder(body_id, directory, issues)
        members = record["members"]
        for index, entry in enumerate(members):
            where = source_of(members, index) or record.source
            if isinstance(entry, str):
                builder.add_id(entry, where)
            else:
                builder.add_identity(entry, where, implicit_ok=False)
        if record["members_file"]:
            path = _read_members_file(record, root, builder, issues)
            if path:
                files_read.append(path)
        _apply_roles(record, builder)
        bodies[body_id] = Body(
            id=body_id, name=record["name"] or body_id, members=tuple(builder.members),
            roles={role: tuple(holders) for role, holders in builder.roles.items()},
            label=record["label"], channel=record["channel"], source=record.source)
    return bodies, files_read


def _read_members_file(record: Any, root: Path, builder: _BodyBuilder,
                       issues: Issues) -> str | None:
    return read_members_file(record["members_file"], record.source_of("members_file"), root,
                             builder, issues)


def body_from_members_file(body_id: str, name: str, file: str, root: Path,
                           directory: Directory, issues: Issues) -> Body:
    """A body made of an openstack-style members file alone (the layout's `members`)."""
    builder = _BodyBuilder(body_id, directory, issues)
    read_members_file(file, Source(file, 1), root, builder, issues)
    return Body(id=body_id, name=name, members=tuple(builder.members),
                roles={role: tuple(holders) for role, holders in builder.roles.items()},
                source=Source(file, 1))


def read_members_file(name: str, where: Source, root: Path, builder: _BodyBuilder,
                      issues: Issues) -> str | None:
    """Add the members of `name` (relative to `root`) to `builder`; the path read."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or "\\" in name:
        issues.error(where, (
            f"members_file {name!r} must be a path inside the config repo, relative to "
            "its root, like 'reference/members.yaml'"))
        return None
    path = root / relative
    if not path.is_file():
        issues.error(where, (
            f"members_file {name!r} does not exist; give a path relative to the config root"))
        return None
    shown = relative.as_posix()
    data, errors = parse_yaml_file(path, shown)
    issues.extend(errors)
    if errors:
        return shown
    entries = MEMBERS_FILE.check(data, source_of(data) or Source(shown, 1), "this file", issues)
    if entries is INVALID:
        return shown
    for entry in entries:
        if not entry["name"]:
            continue
        person_id = builder.add_identity(entry, entry.source, implicit_ok=True)
        if person_id is not None and entry["role"]:
            builder.roles.setdefault(entry["role"], []).append(person_id)
    return shown


def _apply_roles(record: Any, builder: _BodyBuilder) -> None:
    people = builder.directory.people
    roles = record["roles"]
    for role, holders in roles.items():
        for index, person_id in enumerate(holders):
            where = source_of(holders, index) or roles.source_of(role)
            if person_id not in people and builder.directory.incomplete:
                builder.directory.echo(builder.body_id)
            elif person_id not in people:
                builder.issues.error(where, (
                    f"role {role!r} of body {builder.body_id!r} names unknown person "
                    f"{person_id!r}{did_you_mean(person_id, people)}; add them to "
                    f"{PEOPLE_FILE} or fix the id"))
            elif person_id not in builder.members:
                builder.issues.error(where, (
                    f"role {role!r} of body {builder.body_id!r} names {person_id!r}, who is "
                    "not a member; add them to 'members' or fix the role"))
            elif person_id not in builder.roles.get(role, ()):
                builder.roles.setdefault(role, []).append(person_id)
