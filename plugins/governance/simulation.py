"""The rule simulator, pure: a described change in, its verdict and explanation out.

Used by `/simulate`, `POST /api/simulate` and `govbot simulate CHANGE.yaml`. The input
(YAML or JSON; docs/web.md has examples) describes a change the way the rules see it:

    project: example/governance
    branch: master
    owner: ada                      # a person id or Gerrit username
    subject: Adopt the 2027 goals
    files: [resolutions/2027-goals.rst]
    hashtags: [formal-vote]
    topic: null
    patchsets:                      # oldest first; the last is the current one
      - created: 2026-11-02T09:00:00Z
    votes:                          # on the current patch set
      - {who: bruno, label: Rollcall-Vote, value: 1, at: 2026-11-03T10:00:00Z}
    now: 2026-11-10T09:00:00Z       # when to judge (default: now)

The answer is the same summary the verdict page shows (summary.summarize), with the
Gerrit message that would be posted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import yaml

from govbot.config.model import GovernanceConfig

from .ballot import PeopleIndex
from .change import Account, ChangeState, Vote
from .evaluate import evaluate
from .message import fingerprint, render
from .model import RulesConfig
from .summary import summarize

__all__ = ["SimulationError", "parse_spec", "simulate"]

_KEYS = {"project", "branch", "owner", "subject", "files", "hashtags", "topic", "patchsets",
         "votes", "now", "number", "wip"}
_VOTE_KEYS = {"who", "label", "value", "at"}


class SimulationError(ValueError):
    """The described change cannot be read; the message says what to fix."""


def parse_spec(text: str) -> dict[str, Any]:
    """YAML (so JSON too) into a mapping, or SimulationError."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SimulationError(f"not YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SimulationError("the change must be a mapping with at least 'project:'")
    return data


def _time(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise SimulationError(f"{what}: {value!r} is not a time like "
                                  "2026-11-02T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _account(config: GovernanceConfig, who: Any, what: str) -> Account:
    name = str(who or "").strip()
    if not name:
        raise SimulationError(f"{what}: say who (a person id or Gerrit username)")
    person = config.people.get(name) or next(
        (p for p in config.people.values() if p.gerrit_username == name), None)
    if person is None:  # someone the config does not know: a plain Gerrit account
        return Account(username=name, name=name)
    return Account(account_id=person.gerrit_account_id,
                   username=person.gerrit_username or person.id,
                   email=person.emails[0] if person.emails else None, name=person.name)


def _strings(spec: Mapping[str, Any], key: str) -> list[str]:
    value = spec.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SimulationError(f"{key}: a list of strings")
    return [str(v) for v in value]


def change_of(spec: Mapping[str, Any], config: GovernanceConfig, now: dt.datetime
              ) -> ChangeState:
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise SimulationError(f"unknown key(s) {', '.join(unknown)}; the keys are "
                              f"{', '.join(sorted(_KEYS))}")
    if not spec.get("project"):
        raise SimulationError("project: required (e.g. example/governance)")
    patchsets = spec.get("patchsets") or [{"created": now.isoformat()}]
    if not isinstance(patchsets, list) or not all(isinstance(p, dict) for p in patchsets):
        raise SimulationError("patchsets: a list of {created: TIME}")
    times = [_time(p.get("created"), f"patchsets[{i}].created")
             for i, p in enumerate(patchsets)]
    votes: dict[str, list[Vote]] = {}
    for i, vote in enumerate(spec.get("votes") or []):
        if not isinstance(vote, dict) or set(vote) - _VOTE_KEYS:
            raise SimulationError(f"votes[{i}]: {{who, label, value, at}}")
        try:
            value = int(vote.get("value", 0))
        except (TypeError, ValueError):
            raise SimulationError(f"votes[{i}].value: a number like 1 or -1") from None
        at = _time(vote["at"], f"votes[{i}].at") if vote.get("at") else times[-1]
        votes.setdefault(str(vote.get("label") or "Code-Review"), []).append(
            Vote(_account(config, vote.get("who"), f"votes[{i}].who"), value, at))
    return ChangeState.create(
        project=str(spec["project"]), number=int(spec.get("number") or 0),
        owner=_account(config, spec.get("owner"), "owner"),
        branch=str(spec.get("branch") or "master"), patchset=len(times),
        first_revision_at=min(times), latest_revision_at=times[-1],
        hashtags=_strings(spec, "hashtags"), topic=spec.get("topic"),
        wip=bool(spec.get("wip")), files=_strings(spec, "files"), votes=votes)


def simulate(spec: Mapping[str, Any], config: GovernanceConfig, rules: RulesConfig, *,
             now: dt.datetime, people: PeopleIndex | None = None) -> dict[str, Any]:
    """The verdict on the change `spec` describes, as the verdict page's summary."""
    if spec.get("now"):
        now = _time(spec["now"], "now")
    change = change_of(spec, config, now)
    index = people or PeopleIndex.of(config.people)
    verdict = evaluate(change, config, rules, now, people=index)
    message = render(verdict)
    summary = summarize(verdict, change, {"subject": spec.get("subject") or ""}, rules, index,
                        now=now, fingerprint=fingerprint(verdict, message), message=message)
    summary["history"] = []
    return summary
