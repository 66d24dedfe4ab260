"""A subset of Gerrit's change query language, parsed into predicates over the model.

Supported: terms ANDed (implicitly or with ``AND``), ``OR``, ``NOT``/``-`` negation,
parentheses, quoted (``"..."``) and braced (``{...}``) values, and the operators
``status: is: project: projects: branch: ref: hashtag: owner: reviewer: topic: change:
after:/since: before:/until: mergedafter: mergedbefore: age: label: file: limit:``
(``branch:^regex`` too). Anything else is a 400, like
Gerrit's "Unsupported operator".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from govbot.testing.gerrit.core import GerritCore, GerritError
from govbot.testing.gerrit.model import ABANDONED, MERGED, NEW, Change

Predicate = Callable[[Change], bool]

_TOKEN = re.compile(r'\s*(\(|\)|-?[\w.-]+:(?:"[^"]*"|\{[^}]*\}|[^\s()]+)|"[^"]*"|[^\s()]+)')
_AGE_UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60,
              "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400,
              "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800,
              "mon": 2592000, "month": 2592000, "months": 2592000, "y": 31536000,
              "year": 31536000, "years": 31536000}


@dataclass
class Query:
    predicate: Predicate
    limit: int | None


def parse(text: str, core: GerritCore, caller: int | None) -> Query:
    tokens = [t for t in _TOKEN.findall(text) if t.strip()]
    parser = _Parser(tokens, core, caller)
    pred = parser.parse_or() if tokens else (lambda c: True)
    if parser.pos != len(tokens):
        raise GerritError(400, f"line 1:0 no viable alternative at input '{text}'")
    return Query(pred, parser.limit)


def parse_timestamp(value: str) -> float:
    """``YYYY-MM-DD[ HH:MM:SS[.fff]]`` in UTC (the emulator's server time zone)."""
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise GerritError(400, f"Invalid timestamp: {value}")


def parse_age(value: str) -> float:
    m = re.fullmatch(r"(\d+)\s*([a-z]+)", value.strip().lower())
    if not m or m.group(2) not in _AGE_UNITS:
        raise GerritError(400, f"Invalid age: {value}")
    return int(m.group(1)) * _AGE_UNITS[m.group(2)]


class _Parser:
    def __init__(self, tokens: list[str], core: GerritCore, caller: int | None) -> None:
        self.tokens, self.pos, self.core, self.caller = tokens, 0, core, caller
        self.limit: int | None = None

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.pos += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda c: any(p(c) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.pos += 1
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda c: all(p(c) for p in parts))

    def parse_not(self) -> Predicate:
        tok = self.peek()
        if tok == "NOT":
            self.pos += 1
            inner = self.parse_not()
            return lambda c: not inner(c)
        if tok is not None and tok.startswith("-") and ":" in tok:
            self.tokens[self.pos] = tok[1:]
            inner = self.parse_not()
            return lambda c: not inner(c)
        return self.parse_atom()

    def parse_atom(self) -> Predicate:
        tok = self.peek()
        if tok is None or tok == ")":
            raise GerritError(400, "line 1:0 no viable alternative at input")
        self.pos += 1
        if tok == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise GerritError(400, "line 1:0 missing ')'")
            self.pos += 1
            return inner
        if ":" not in tok:  # a bare word is a default-field search; support change ids/numbers
            return self.operator("change", tok)
        name, _, value = tok.partition(":")
        if len(value) >= 2 and value[0] + value[-1] in ('""', "{}"):
            value = value[1:-1]
        return self.operator(name.lower(), value)

    def account_ids(self, value: str) -> set[int]:
        if value == "self":
            if self.caller is None:
                raise GerritError(400, "self is only valid when authenticated")
            return {self.caller}
        acc = self.core.find_account(value)
        return {acc.account_id} if acc else set()

    def operator(self, name: str, value: str) -> Predicate:
        core = self.core
        if name == "status" or name == "is":
            return self._status(name, value.lower())
        if name == "project":
            return lambda c: c.project == value
        if name == "projects":
            return lambda c: c.project.startswith(value)
        if name == "branch":
            if value.startswith("^"):  # Gerrit: a leading '^' makes it a regex
                branch_re = re.compile(value.removeprefix("^").removeprefix("refs/heads/"))
                return lambda c: branch_re.fullmatch(c.branch) is not None
            short = value.removeprefix("refs/heads/")
            return lambda c: c.branch == short
        if name == "ref":
            return lambda c: c.refname == value
        if name == "hashtag":
            tag = value.lower().lstrip("#")
            return lambda c: tag in (h.lower() for h in c.hashtags)
        if name == "topic":
            return lambda c: c.topic == value
        if name == "owner":
            ids = self.account_ids(value)
            return lambda c: c.owner in ids
        if name == "reviewer":
            ids = self.account_ids(value)
            return lambda c: any(c.reviewers.get(i) == "REVIEWER" for i in ids)
        if name == "change":
            if value.isdigit():
                return lambda c: c.number == int(value)
            return lambda c: c.change_id == value
        if name in ("after", "since"):
            ts = parse_timestamp(value)
            return lambda c: c.last_updated >= ts
        if name in ("before", "until"):
            ts = parse_timestamp(value)
            return lambda c: c.last_updated <= ts
        if name == "mergedafter":
            ts = parse_timestamp(value)
            return lambda c: c.submitted is not None and c.submitted >= ts
        if name == "mergedbefore":
            ts = parse_timestamp(value)
            return lambda c: c.submitted is not None and c.submitted <= ts
        if name == "age":
            seconds = parse_age(value)
            return lambda c: core.clock() - c.last_updated >= seconds
        if name == "label":
            return self._label(value)
        if name == "file":
            return lambda c: any(f.path == value or f.path.startswith(value.rstrip("/") + "/")
                                 for f in c.current.files)
        if name == "limit":
            if not value.isdigit():
                raise GerritError(400, f"Invalid limit: {value}")
            self.limit = int(value)
            return lambda c: True
        raise GerritError(400, f"Unsupported operator {name}:{value}")

    def _status(self, name: str, value: str) -> Predicate:
        statuses = {"open": {NEW}, "new": {NEW}, "pending": {NEW}, "merged": {MERGED},
                    "abandoned": {ABANDONED}, "closed": {MERGED, ABANDONED}}
        if value in statuses:
            wanted = statuses[value]
            return lambda c: c.status in wanted
        if name == "is" and value == "wip":
            return lambda c: c.wip
        if name == "is" and value == "private":
            return lambda c: c.private
        if name == "is" and value == "reviewed":
            return lambda c: any(m.author not in (None, c.owner) for m in c.messages)
        raise GerritError(400, f"Unsupported operator {name}:{value}")

    def _label(self, value: str) -> Predicate:
        spec, _, who = value.partition(",")
        m = re.fullmatch(r"([\w-]+?)(>=|<=|=|>|<)?([+-]?\d+|MAX|MIN|ANY)?", spec)
        if not m or (m.group(2) is None and m.group(3) is None):
            raise GerritError(400, f"Invalid label: {value}")
        label, op, raw = m.group(1), m.group(2) or "=", m.group(3) or "ANY"
        accounts: set[int] | None = None
        if who:
            key, _, ident = who.partition("=")
            ident = ident if ident else key
            group = self.core.groups.get(ident) if key == "group" else None
            if group is not None:
                accounts = set(group.members)
            elif key == "owner":
                accounts = None  # resolved per change below
            else:
                accounts = self.account_ids(ident)
        owner_only = who in ("owner", "user=owner")

        def matches(c: Change) -> bool:
            project = self.core.projects[c.project]
            lt = project.labels.get(label)
            if lt is None:
                return False
            target = {"MAX": lt.max, "MIN": lt.min}.get(raw)
            votes = [v.value for acc, v in c.votes_on().get(lt.name, {}).items()
                     if (accounts is None or acc in accounts)
                     and (not owner_only or acc == c.owner)]
            if raw == "ANY":
                return any(votes)
            n = target if target is not None else int(raw)
            if n == 0 and op == "=":
                return not any(votes)
            ops = {"=": n.__eq__, ">=": n.__le__, "<=": n.__ge__, ">": n.__lt__, "<": n.__gt__}
            return any(ops[op](v) for v in votes)

        return matches
