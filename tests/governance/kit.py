"""Shared builders for the governance engine tests: the example repo, people, votes, changes.

Everything is pure: the example config is loaded once from etc/governance, and changes
are built with `ChangeState.create` (no Gerrit, no JSON) unless a test is about JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from govbot.config.loader import LoadResult, load_config
from govbot.config.model import GovernanceConfig
from govbot.plugins.governance.change import Account, ChangeState, Vote
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.parse import RULES_SECTION
from govbot.plugins.governance.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "governance"
GOV = "example/governance"
COMPUTE = "example/compute"
INFRA = "example/infra-config"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # patch set 1 uploaded
DAY = timedelta(days=1)
TC = ("ada", "bruno", "chiara", "dmitri", "eun-ji", "farah", "gustavo", "hana", "ivo")
RC, CR, WF = "Rollcall-Vote", "Code-Review", "Workflow"


def load(root: Path) -> LoadResult:
    return load_config(root, [("governance", RULES_SECTION)])


@functools.cache
def example() -> tuple[GovernanceConfig, RulesConfig]:
    result = load(EXAMPLE)
    assert result.config is not None, result.lines()
    return result.config, result.config.section("governance")


def repo_with_rules(tmp_path: Path, rules_text: str) -> Path:
    """A copy of the example repo whose rules.yaml is `rules_text` (dedented)."""
    for name in ("people.yaml", "bodies.yaml", "projects.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(rules_text), encoding="utf-8")
    return tmp_path


def config_with_rules(tmp_path: Path, rules_text: str) -> tuple[GovernanceConfig, RulesConfig]:
    result = load(repo_with_rules(tmp_path, rules_text))
    assert result.config is not None, result.lines()
    return result.config, result.config.section("governance")


def account(person: str, config: GovernanceConfig | None = None) -> Account:
    """The Gerrit account of a person of the example (all identities filled in)."""
    p = (config or example()[0]).people[person]
    return Account(account_id=p.gerrit_account_id, username=p.gerrit_username,
                   email=p.emails[0] if p.emails else None, name=p.name)


OUTSIDER = Account(account_id=2000001, username="zoe", email="zoe@example.net",
                   name="Zoe Outsider")


def votes(values: Mapping[str, int] | Mapping[Account, int],
          at: datetime = T0 + timedelta(hours=1)) -> list[Vote]:
    """person id -> value, all cast at `at` (an Account value is used as is)."""
    return [Vote(who if isinstance(who, Account) else account(who), value, at)
            for who, value in values.items()]


def change(*, project: str = GOV, hashtags: Iterable[str] = (), files: Iterable[str] = (),
           owner: str | Account = "hana", rollcall: Mapping[str, int] | None = None,
           code_review: Mapping[str, int] | None = None,
           workflow: Mapping[str, int] | None = None, first: datetime = T0,
           latest: datetime | None = None, patchset: int = 1,
           extra: Mapping[str, list[Vote]] | None = None) -> ChangeState:
    by_label: dict[str, list[Vote]] = {}
    for label, values in ((RC, rollcall), (CR, code_review), (WF, workflow)):
        if values:
            by_label[label] = votes(values)
    for label, more in (extra or {}).items():
        by_label.setdefault(label, []).extend(more)
    return ChangeState.create(
        project=project, number=1234, owner=owner if isinstance(owner, Account)
        else account(owner), first_revision_at=first, latest_revision_at=latest,
        patchset=patchset, hashtags=hashtags, files=files, votes=by_label)


def verdict(ch: ChangeState, now: datetime, *, config: GovernanceConfig | None = None,
            rules: RulesConfig | None = None) -> Verdict:
    default_config, default_rules = example()
    return evaluate(ch, config or default_config, rules or default_rules, now)


def shrink_body(config: GovernanceConfig, body: str, members: Iterable[str]
                ) -> GovernanceConfig:
    """The same config with `body` reduced to `members` (its roles kept where possible)."""
    old = config.bodies[body]
    kept = tuple(m for m in old.members if m in set(members))
    roles = {r: tuple(p for p in ids if p in kept) for r, ids in old.roles.items()}
    bodies = dict(config.bodies)
    bodies[body] = dataclasses.replace(old, members=kept, roles=roles)
    return dataclasses.replace(config, bodies=bodies)


def reasons(v: Verdict) -> str:
    return "\n".join(f"{r.status}: {r.text}" for r in v.reasons)
