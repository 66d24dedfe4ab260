"""`rules.yaml`: read and check the rule language, every error at its FILE:LINE.

The file has two top-level keys (docs/rules.md is the reference)::

    categories:                       # the category guard (optional)
      - projects: [example/governance]
        hashtags: [formal-vote, charter-change, typo-fix]
        files:
          - {files: [charter.rst], hashtag: charter-change}
    rules:                            # tried in file order; the first that selects wins
      formal-vote:
        select: {projects: [example/governance], hashtags: [formal-vote]}
        body: tc
        require:
          - open: {days: 7, since: first-revision}
          - more_yes_than_no: true
          - yes_votes: ceil(n/3)

Bodies, roles, teams and people named anywhere must exist in the core config
(`ctx.bodies`, `ctx.teams`, `ctx.people`), so a typo fails `govbot check-config`
instead of silently never matching.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govbot.config.model import Body, Source
from govbot.config.schema import (
    INVALID,
    SLUG,
    AnyValue,
    Bool,
    ErrorSink,
    Field,
    Glob,
    Int,
    ListOf,
    Pattern,
    Schema,
    Str,
    describe,
    did_you_mean,
)
from govbot.config.sections import ConfigFile, ConfigSection, SectionContext
from govbot.config.yamlpos import source_of

from .model import (
    AllOf,
    CategoryGuard,
    FileRule,
    GlobSet,
    NameSet,
    Rule,
    RulesConfig,
    Selector,
)
from .parse_requirements import (
    BODY,
    HASHTAG,
    LABEL,
    RequirementCheck,
    RuleContext,
)

__all__ = ["RULES_FILE", "RULES_SECTION", "parse_rules", "read_rules"]

RULES_FILE = "rules.yaml"

# --- rules, guards, files ----------------------------------------------------------------

def _patterns(**extra: Any) -> ListOf:
    return ListOf(Pattern(), single_ok=True, nonempty=True, **extra)


def _rule_schema(name: str) -> Schema:
    # One schema per rule so that messages name it: "unknown key 'bdy' in rule 'x'".
    select = Schema({
        "projects": Field(_patterns(), required=True),
        "branches": Field(_patterns(), default=()),
        "files": Field(ListOf(Glob(), single_ok=True, nonempty=True), default=()),
        "hashtags": Field(ListOf(HASHTAG, single_ok=True, nonempty=True), default=()),
        "topics": Field(_patterns(), default=()),
        "owners": Field(ListOf(Str(pattern=SLUG, expected="a person id"), single_ok=True,
                               nonempty=True), default=()),
    }, what=f"the 'select' of rule {name!r}")
    return Schema({
        "description": Field(Str(), default=""),
        "select": Field(select, required=True),
        "body": Field(BODY),
        "label": Field(LABEL),
        "yes_value": Field(Int(minimum=1), default=1),
        "no_value": Field(Int(), default=-1),
        "exclude_owner": Field(Bool(), default=False),
        "require": Field(AnyValue(), required=True),
    }, what=f"rule {name!r}")


def _read_rule(name: str, raw: Any, where: Source, ctx: SectionContext) -> Rule | None:
    spec = _rule_schema(name).check(raw, where, f"rule {name!r}", ctx)
    if spec is INVALID or spec["select"] is None or not spec["select"]["projects"]:
        return None
    ok = True
    body: Body | None = None
    if spec["body"] is not None:
        body = ctx.bodies.get(spec["body"])
        if body is None:
            ctx.error(spec.source_of("body"), f"rule {name!r}: unknown body {spec['body']!r}"
                      f"{did_you_mean(spec['body'], ctx.bodies)}; bodies are defined in "
                      "bodies.yaml")
            ok = False
    if spec["no_value"] > -1:
        ctx.error(spec.source_of("no_value"),
                  f"'no_value' must be -1 or lower, got {spec['no_value']}")
        ok = False
    select = spec["select"]
    for index, owner in enumerate(select["owners"]):
        if owner not in ctx.people:
            ctx.error(select["owners"].source_of(index), f"rule {name!r}: unknown person "
                      f"{owner!r}{did_you_mean(owner, ctx.people)}; add them to people.yaml")
            ok = False
    if spec["require"] is None:  # reported by the schema
        return None
    label = spec["label"] or (body.label if body else "Code-Review")
    # An unknown body was reported; its requirements must not also say "no body".
    reader = RequirementCheck(RuleContext(name, body, label, ctx,
                                           body_given=raw.get("body") is not None))
    items = ListOf(reader, nonempty=True, expected="a list of requirements").check(
        spec["require"], spec.source_of("require"), "'require'", ctx)
    if not ok or items is INVALID or not items or len(items) != len(spec["require"]):
        return None
    return Rule(
        name=name, description=spec["description"], body=body.id if body else None,
        label=label, yes_value=spec["yes_value"], no_value=spec["no_value"],
        exclude_owner=spec["exclude_owner"], require=AllOf(tuple(items)), source=where,
        select=Selector(
            projects=NameSet.of(select["projects"]), branches=NameSet.of(
                b.removeprefix("refs/heads/") for b in select["branches"]),
            files=GlobSet(tuple(select["files"])), hashtags=frozenset(select["hashtags"]),
            topics=NameSet.of(select["topics"]), owners=frozenset(select["owners"])))


_FILE_RULE = Schema({
    "files": Field(ListOf(Glob(), single_ok=True, nonempty=True), required=True),
    "hashtag": Field(ListOf(HASHTAG, single_ok=True, nonempty=True), required=True),
}, what="a category file rule", expected="a mapping like {files: [charter.rst], "
                                         "hashtag: charter-change}")
_GUARD = Schema({
    "projects": Field(_patterns(), required=True),
    "branches": Field(_patterns(), default=()),
    "hashtags": Field(ListOf(HASHTAG, nonempty=True), required=True),
    "files": Field(ListOf(_FILE_RULE), default=()),
    "allow": Field(_patterns(), default=()),
}, what="a category guard")
_TOP = Schema({
    "categories": Field(ListOf(_GUARD, single_ok=True), default=()),
    "rules": Field(AnyValue(), default=None),
}, what="rules.yaml", expected="a mapping with the keys 'rules' and 'categories'")


def _read_guard(raw: Any, selected: set[str], sink: ErrorSink) -> CategoryGuard | None:
    if raw["projects"] is None or raw["hashtags"] is None or not raw["projects"]:
        return None
    ok = True
    hashtags = raw["hashtags"]
    seen: dict[str, Source] = {}
    for index, tag in enumerate(hashtags):
        where = hashtags.source_of(index)
        if tag in seen:
            sink.error(where, f"category {tag!r} is listed twice (also at {seen[tag]})")
            ok = False
        seen.setdefault(tag, where)
        if tag not in selected:
            sink.error(where, f"category {tag!r} is selected by no rule; add a rule with "
                              f"'select: {{hashtags: [{tag}]}}' or remove it")
            ok = False
    file_rules: list[FileRule] = []
    for index, entry in enumerate(raw["files"]):
        where = raw["files"].source_of(index)
        tags = entry["hashtag"]
        if not tags or not entry["files"]:  # reported by the schema
            continue
        for tag_index, tag in enumerate(tags):
            if tag not in seen:
                sink.error(tags.source_of(tag_index),
                           f"hashtag {tag!r} is not one of this guard's categories"
                           f"{did_you_mean(tag, seen)}; add it to 'hashtags'")
                ok = False
        file_rules.append(FileRule(GlobSet(tuple(entry["files"])), tuple(tags), where))
    if not ok:
        return None
    return CategoryGuard(
        projects=NameSet.of(raw["projects"]), branches=NameSet.of(raw["branches"]),
        hashtags=tuple(hashtags), files=tuple(file_rules), allow=NameSet.of(raw["allow"]),
        source=raw.source)


class _Counted:
    """The section context, counting the errors reported through it."""

    def __init__(self, ctx: SectionContext) -> None:
        self.ctx = ctx
        self.errors = 0
        self.root, self.people, self.bodies, self.teams = (
            ctx.root, ctx.people, ctx.bodies, ctx.teams)

    def error(self, where: Source, message: str) -> None:
        self.errors += 1
        self.ctx.error(where, message)


def _raw_hashtags(raw: Any) -> list[str]:
    select = raw.get("select") if isinstance(raw, Mapping) else None
    tags = select.get("hashtags") if isinstance(select, Mapping) else None
    if isinstance(tags, str):
        return [tags]
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def read_rules(file: ConfigFile, ctx: SectionContext,
               seen: dict[str, Source] | None = None) -> RulesConfig:
    """Check one rules file; every problem goes to `ctx.error`."""
    if file.data is None:  # an empty file: nothing governed yet
        return RulesConfig()
    top = _TOP.read_file(file, ctx)
    if top is INVALID:
        return RulesConfig()
    raw_rules = top["rules"]
    rules: list[Rule] = []
    seen = {} if seen is None else seen
    if raw_rules is not None:
        where = top.source_of("rules")
        if not isinstance(raw_rules, Mapping):
            ctx.error(where, f"'rules' must be a mapping of rule names to rules, "
                             f"got {describe(raw_rules)}")
        else:
            name_check = Str(pattern=SLUG, expected="a rule name like 'formal-vote'")
            for name, raw in raw_rules.items():
                key_where = source_of(raw_rules, name) or where
                if name_check.check(name, key_where, f"rule {name!r}", ctx) is INVALID:
                    continue
                if name in seen:
                    ctx.error(key_where, f"rule {name!r} is already defined (also at "
                                         f"{seen[name]}); rename one of them")
                    continue
                seen[name] = key_where
                counted = _Counted(ctx)
                rule = _read_rule(name, raw, key_where, counted)
                if rule is not None:
                    rules.append(rule)
                elif not counted.errors:
                    # A rule must never vanish quietly: that would ungovern its changes.
                    ctx.error(key_where, f"rule {name!r} could not be read, and no reason "
                                         "was given (a bug in the governance plugin: report "
                                         "it with this line)")
    # Hashtags the rules select, read from the raw text so that a rule with an error
    # elsewhere does not also make its category look unselected.
    selected = {tag for raw in (raw_rules.values() if isinstance(raw_rules, Mapping) else ())
                for tag in _raw_hashtags(raw)}
    guards = [g for g in (_read_guard(raw, selected, ctx) for raw in top["categories"])
              if g is not None]
    return RulesConfig(tuple(rules), tuple(guards))


def parse_rules(files: Sequence[ConfigFile], ctx: SectionContext) -> RulesConfig:
    """The ConfigSection parser: no file means no rules (nothing is governed)."""
    rules: list[Rule] = []
    guards: list[CategoryGuard] = []
    seen: dict[str, Source] = {}
    for file in files:
        parsed = read_rules(file, ctx, seen)
        rules.extend(parsed.rules)
        guards.extend(parsed.guards)
    return RulesConfig(tuple(rules), tuple(guards))


RULES_SECTION = ConfigSection(RULES_FILE, parse_rules, description="governance rules")
