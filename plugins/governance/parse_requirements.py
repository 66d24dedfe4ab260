"""The requirements of `rules.yaml` (the items of a rule's `require`), read and checked.

One `RequirementCheck` per rule: it knows the rule's body and label, so a role, a
tie-breaker or a veto naming something the body does not have is reported at its line.
`governance_parse` reads the rest of the file (rules, selectors, the category guard).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from govbot.config.model import Body, Source, team_key
from govbot.config.schema import (
    INVALID,
    SLUG,
    Bool,
    Check,
    Enum,
    ErrorSink,
    Field,
    Glob,
    Int,
    ListOf,
    Schema,
    Str,
    describe,
    did_you_mean,
)
from govbot.config.sections import SectionContext
from govbot.config.yamlpos import source_of
from govbot.thresholds import ExprError, parse_expr

from .model import (
    FIRST_REVISION,
    LATEST_REVISION,
    AllOf,
    AnyOf,
    CiVerified,
    GlobSet,
    Lazy,
    Majority,
    NoObjection,
    OpenFor,
    PathOwner,
    Paths,
    Quorum,
    RoleVote,
    Veto,
    Yes,
)

__all__ = ["ALL_KINDS", "BODY", "CI_KIND", "HASHTAG", "KINDS", "LABEL", "RequirementCheck",
           "RuleContext", "Threshold"]

LABEL = Str(pattern=r"[A-Za-z0-9][A-Za-z0-9-]*", expected="a Gerrit label name")
HASHTAG = Str(pattern=r"[^\s,]+", expected="a hashtag (no spaces or commas)")
BODY = Str(pattern=SLUG, expected="a body id")
_ROLE = Str(pattern=r"[a-z0-9][a-z0-9:_.-]*", expected="a role name")
TEAM_ROLES = ("ptl", "leader", "liaison")
# Not "yes": YAML 1.1 reads a bare `yes:` key as the boolean true.
KINDS = ("yes_votes", "more_yes_than_no", "no_objection", "open", "lazy_consensus", "quorum",
         "veto", "role", "paths", "all", "any")
# Kinds added later are accepted everywhere but kept out of the list quoted in the
# "exactly one key" message, whose wording people (and tests) already rely on.
CI_KIND = "ci"
ALL_KINDS = (*KINDS, CI_KIND)
_NEEDS_BODY = ("yes_votes", "more_yes_than_no", "no_objection", "lazy_consensus", "quorum", "veto")


class Threshold(Check):
    """An integer, or an expression of the body size n such as 'ceil(2*n/3)'."""

    expected = "a number or an expression of n like 'ceil(n/3)'"
    plural = "thresholds"
    types = (int, str)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        try:
            return parse_expr(value)
        except ExprError as exc:
            sink.error(where, f"{label} {value!r} is not a valid threshold: {exc.message} "
                              f"(at character {exc.position + 1}); write an integer or an "
                              "expression of n with + - * /, ceil, floor, min, max")
            return INVALID


class _CountingSink:
    """Passes errors on, counting them: a requirement with any error is not built."""

    def __init__(self, sink: ErrorSink) -> None:
        self.sink = sink
        self.errors = 0

    def error(self, where: Source, message: str) -> None:
        self.errors += 1
        self.sink.error(where, message)


class _Account(Check):
    """A Gerrit username, or an account id (YAML reads `account: 1000042` as a number)."""

    expected = "a Gerrit username or account id"
    types = (str, int)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        text = str(value)
        if not text or any(c.isspace() for c in text):
            sink.error(where, f"{label} must be {self.expected}, got {value!r}")
            return INVALID
        return text


_CI_ACCOUNT = _Account()
_DURATION_FIELDS = {"days": Field(Int(minimum=0), default=0),
                    "hours": Field(Int(minimum=0), default=0)}


def _reported(raw: Mapping[Any, Any], checked: Mapping[str, Any]) -> bool:
    """Whether `Schema.check` already reported a problem in `raw` (an unknown key, or a
    scalar replaced by its default): later checks stay quiet rather than pile on."""
    return any(key not in checked or (
        isinstance(value, (int, str)) and isinstance(checked[key], (int, str, type(None)))
        and checked[key] != value) for key, value in raw.items())


def _duration(raw: Mapping[Any, Any], checked: Mapping[str, Any], where: Source, label: str,
              sink: ErrorSink) -> timedelta | None:
    if _reported(raw, checked):
        return None
    span = timedelta(days=checked["days"], hours=checked["hours"])
    if not span:
        sink.error(where, f"{label} must last at least an hour; give 'days' or 'hours'")
        return None
    return span


class RuleContext:
    """What a requirement of one rule may refer to: its body, label, and the core config."""

    def __init__(self, name: str, body: Body | None, label: str, ctx: SectionContext, *,
                 body_given: bool = False) -> None:
        self.name = name
        self.body_given = body_given
        self.body = body
        self.label = label
        self.ctx = ctx


class RequirementCheck(Check):
    """One requirement: a mapping with exactly one key, the kind, e.g. `{yes_votes: 3}`."""

    expected = "a requirement (a mapping like {yes_votes: ceil(n/3)})"
    plural = "requirements"
    types = (Mapping,)

    def __init__(self, rule: RuleContext) -> None:
        self.rule = rule

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if len(value) != 1:
            keys = ", ".join(repr(k) for k in value) or "none"
            sink.error(where, f"{label} must have exactly one key, the kind of requirement "
                              f"({', '.join(KINDS)}); got {keys}: write each requirement "
                              "as its own list item")
            return INVALID
        kind, spec = next(iter(value.items()))
        where = source_of(value, kind) or where
        if kind is True:
            sink.error(where, f"{label}: YAML reads the key 'yes' (or 'on', 'true') as true; "
                              "write 'yes_votes: ...' for a yes-vote threshold")
            return INVALID
        if kind not in ALL_KINDS:
            hint = (did_you_mean(str(kind), ALL_KINDS)
                    or "; known kinds: " + ", ".join(ALL_KINDS))
            sink.error(where, f"{label} is an unknown requirement {kind!r}{hint}")
            return INVALID
        if kind in _NEEDS_BODY and self.rule.body is None:
            if self.rule.body_given:
                return INVALID
            sink.error(where, f"rule {self.rule.name!r}: {kind!r} counts the votes of the "
                              "rule's body, and the rule has none; set 'body'")
            return INVALID
        result: Any = _READERS[kind](self, spec, where, f"{kind!r}", sink)
        return INVALID if result is None else result

    # One reader per kind, listed in _READERS below; each returns the requirement or
    # None after reporting.

    def _yes_votes(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> Yes | None:
        if isinstance(spec, Mapping):
            checked = Schema({"at_least": Field(Threshold(), required=True),
                              "cool_off": Field(Schema(_DURATION_FIELDS, what="'cool_off'"))},
                             what="'yes_votes'").check(spec, where, label, sink)
            if checked is INVALID or checked["at_least"] is None:
                return None
            cool = checked["cool_off"]
            if cool is None:
                return Yes(checked["at_least"])
            cool_off = _duration(spec["cool_off"], cool, checked.source_of("cool_off"),
                                 "'cool_off'", sink)
            return None if cool_off is None else Yes(checked["at_least"], cool_off)
        at_least = Threshold().check(spec, where, label, sink)
        return None if at_least is INVALID else Yes(at_least)

    def _more_yes_than_no(self, spec: Any, where: Source, label: str,
                          sink: ErrorSink) -> Majority | None:
        if isinstance(spec, Mapping):
            checked = Schema({"tie_breaker": Field(_ROLE, required=True)},
                             what=label).check(spec, where, label, sink)
            if checked is INVALID or checked["tie_breaker"] is None:
                return None
            role = self._body_role(checked["tie_breaker"], checked.source_of("tie_breaker"),
                                   sink)
            return None if role is None else Majority(role)
        return Majority() if self._true(spec, where, label, sink) else None

    def _no_objection(self, spec: Any, where: Source, label: str,
                      sink: ErrorSink) -> NoObjection | None:
        return NoObjection() if self._true(spec, where, label, sink) else None

    def _open(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> OpenFor | None:
        checked = Schema({**_DURATION_FIELDS, "since": Field(
            Enum(FIRST_REVISION, LATEST_REVISION))},
            what="'open'", expected="a mapping like {days: 7, since: first-revision}",
        ).check(spec, where, label, sink)
        if checked is INVALID:
            return None
        if checked["since"] is None:
            if "since" not in spec:
                # The old script restarted the clock with every patch set by accident:
                # the choice has to be written down.
                sink.error(where, f"{label} must say when the time starts: add 'since: "
                                  f"{FIRST_REVISION}' (new patch sets do not restart it) or "
                                  f"'since: {LATEST_REVISION}' (each new patch set restarts it)")
            return None
        span = _duration(spec, checked, where, label, sink)
        return None if span is None else OpenFor(span, checked["since"])

    def _lazy_consensus(self, spec: Any, where: Source, label: str,
                        sink: ErrorSink) -> Lazy | None:
        checked = Schema(_DURATION_FIELDS, what="'lazy_consensus'",
                         expected="a mapping like {days: 7}").check(spec, where, label, sink)
        if checked is INVALID:
            return None
        span = _duration(spec, checked, where, label, sink)
        return None if span is None else Lazy(span)

    def _quorum(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> Quorum | None:
        at_least = Threshold().check(spec, where, label, sink)
        return None if at_least is INVALID else Quorum(at_least)

    def _veto(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> Veto | None:
        roles = ListOf(_ROLE, single_ok=True, nonempty=True).check(spec, where, label, sink)
        if roles is INVALID:
            return None
        found = [self._body_role(r, roles.source_of(i), sink) for i, r in enumerate(roles)]
        if not found or None in found:
            return None
        return Veto(tuple(r for r in found if r is not None))

    def _role(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> RoleVote | None:
        checked = Schema({
            "role": Field(ListOf(_ROLE, single_ok=True, nonempty=True), required=True),
            "body": Field(BODY),
            "team": Field(Str(expected="a team name")),
            "team_of": Field(Enum("project", "hashtag")),
            "hashtag_prefix": Field(HASHTAG),
            "label": Field(LABEL),
            "at_least": Field(Int(), default=1),
            "or_owner": Field(Bool(), default=False),
        }, what="'role'", expected="a mapping like {role: ptl, team_of: project}",
        ).check(spec, where, label, sink)
        if checked is INVALID or not checked["role"] or _reported(spec, checked):
            return None
        given = [k for k in ("body", "team", "team_of") if checked[k] is not None]
        if len(given) > 1:
            sink.error(where, f"{label} names where the role is held twice ("
                              + " and ".join(repr(k) for k in given) + "); give only one of "
                              "'body', 'team' and 'team_of'")
            return None
        if checked["hashtag_prefix"] is not None and checked["team_of"] != "hashtag":
            sink.error(checked.source_of("hashtag_prefix"),
                       "'hashtag_prefix' only applies with 'team_of: hashtag'")
            return None
        roles = checked["role"]
        common: dict[str, Any] = {"roles": tuple(roles), "at_least": checked["at_least"],
                                  "or_owner": checked["or_owner"]}
        if checked["team"] is not None or checked["team_of"] is not None:
            if not all([self._team_role(r, roles.source_of(i), sink)
                        for i, r in enumerate(roles)]):
                return None
            team = checked["team"]
            if team is not None and team not in self.rule.ctx.teams and not any(
                    team_key(t) == team_key(team) for t in self.rule.ctx.teams):
                sink.error(checked.source_of("team"), f"rule {self.rule.name!r}: unknown team "
                           f"{team!r}{did_you_mean(team, self.rule.ctx.teams)}; teams come "
                           "from the projects file")
                return None
            return RoleVote(label=checked["label"] or "Code-Review", team=team,
                            team_of=checked["team_of"],
                            hashtag_prefix=checked["hashtag_prefix"] or "team:", **common)
        body = self.rule.body
        if checked["body"] is not None:
            body = self._body(checked["body"], checked.source_of("body"), sink)
            if body is None:
                return None
        elif body is None:
            sink.error(where, f"rule {self.rule.name!r}: {label} must say where the role is "
                              "held: set 'body', 'team' or 'team_of' (or the rule's 'body')")
            return None
        if None in [self._body_role(r, roles.source_of(i), sink, body)
                    for i, r in enumerate(roles)]:
            return None
        return RoleVote(label=checked["label"] or body.label, body=body.id,
                        **common)

    def _paths(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> Paths | None:
        entry = Schema({
            "files": Field(ListOf(Glob(), single_ok=True, nonempty=True), required=True),
            "body": Field(BODY, required=True),
            "at_least": Field(Threshold(), default=None),
            "label": Field(LABEL),
        }, what="a path owner", expected="a mapping like {files: ['docs/**'], body: docs-core}")
        entries = ListOf(entry, nonempty=True).check(spec, where, label, sink)
        if entries is INVALID:
            return None
        owners: list[PathOwner] = []
        for index, item in enumerate(entries):
            if item["body"] is None or not item["files"]:
                continue
            body = self._body(item["body"], item.source_of("body"), sink)
            if body is None:
                continue
            owners.append(PathOwner(
                files=GlobSet(tuple(item["files"])), body=body.id,
                label=item["label"] or body.label,
                at_least=item["at_least"] or parse_expr(1), source=entries.source_of(index)))
        return Paths(tuple(owners)) if len(owners) == len(entries) and owners else None

    def _ci(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> CiVerified | None:
        if not isinstance(spec, Mapping):
            return CiVerified() if self._true(spec, where, label, sink) else None
        checked = Schema({
            "label": Field(LABEL),
            "account": Field(_CI_ACCOUNT),
            "at_least": Field(Int(minimum=1), default=1),
        }, what="'ci'", expected="true, or a mapping like {label: Verified, account: zuul}",
        ).check(spec, where, label, counted := _CountingSink(sink))
        if checked is INVALID or counted.errors:
            return None
        account = checked["account"]
        return CiVerified(label=checked["label"], at_least=checked["at_least"],
                          account=str(account) if account is not None else None)

    def _all(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> AllOf | None:
        items = ListOf(self, nonempty=True).check(spec, where, label, sink)
        return None if items is INVALID or not items else AllOf(tuple(items))

    def _any(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> AnyOf | None:
        items = ListOf(self, nonempty=True).check(spec, where, label, sink)
        return None if items is INVALID or not items else AnyOf(tuple(items))

    # --- cross-references ---------------------------------------------------------------

    def _true(self, spec: Any, where: Source, label: str, sink: ErrorSink) -> bool:
        if spec is True:
            return True
        if spec is False:
            sink.error(where, f"{label} must be true; to drop the requirement, "
                              "delete the line")
        else:
            sink.error(where, f"{label} must be true, got {describe(spec)}")
        return False

    def _body(self, body_id: str, where: Source, sink: ErrorSink) -> Body | None:
        bodies = self.rule.ctx.bodies
        if body_id not in bodies:
            sink.error(where, f"rule {self.rule.name!r}: unknown body {body_id!r}"
                              f"{did_you_mean(body_id, bodies)}; bodies are defined in "
                              "bodies.yaml")
            return None
        return bodies[body_id]

    def _body_role(self, role: str, where: Source, sink: ErrorSink,
                   body: Body | None = None) -> str | None:
        body = body or self.rule.body
        assert body is not None  # callers check that the rule has a body
        if role not in body.roles:
            known = ", ".join(sorted(body.roles))
            hint = did_you_mean(role, body.roles) or (
                f"; its roles: {known}" if known else "; add 'roles' to it in bodies.yaml")
            sink.error(where, f"rule {self.rule.name!r}: body {body.id!r} has no role "
                              f"{role!r}{hint}")
            return None
        return role

    def _team_role(self, role: str, where: Source, sink: ErrorSink) -> bool:
        if role in TEAM_ROLES or (role.startswith("liaison:") and len(role) > len("liaison:")):
            return True
        sink.error(where, f"rule {self.rule.name!r}: a team role must be 'ptl', 'leader', "
                          f"'liaison' or 'liaison:ROLE', got {role!r}"
                          f"{did_you_mean(role, TEAM_ROLES)}")
        return False


#: kind -> its reader (tests/governance/test_rule_kinds.py keeps it equal to ALL_KINDS).
#: A new kind is a
#: requirement type in model.py, a reader here, and an evaluator in requirements.py.
_READERS: dict[str, Callable[[RequirementCheck, Any, Source, str, ErrorSink], object]] = {
    "yes_votes": RequirementCheck._yes_votes,
    "more_yes_than_no": RequirementCheck._more_yes_than_no,
    "no_objection": RequirementCheck._no_objection,
    "open": RequirementCheck._open,
    "lazy_consensus": RequirementCheck._lazy_consensus,
    "quorum": RequirementCheck._quorum,
    "veto": RequirementCheck._veto,
    "role": RequirementCheck._role,
    "paths": RequirementCheck._paths,
    "ci": RequirementCheck._ci,
    "all": RequirementCheck._all,
    "any": RequirementCheck._any,
}
