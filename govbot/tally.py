"""`govbot status` and `govbot tally`: the governance verdicts, on demand.

The successor of the governance repo's hand-run review-status script: it reads
the open changes from Gerrit (paged queries, never one call per change), judges
each by the merged rules exactly as the daemon does, and prints a table or JSON.
It needs only the operator settings (Gerrit URL and HTTP credentials, the config
repo); `--governance DIR` judges by a local directory instead.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
from govbot.config.repo import ConfigRepo
from govbot.gerrit.rest import GerritHttpError, GerritRest, GerritUnavailable
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.settings import Settings, SettingsError, load_settings


def cmd_status(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args, status=True))


def cmd_tally(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args, status=False))


async def _run(args: argparse.Namespace, *, status: bool) -> int:
    try:
        settings = load_settings(args.config)
        if settings.gerrit is None:
            raise SettingsError(f"{args.config}: no 'gerrit:' section; status and tally read "
                                "the changes from Gerrit")
        password = settings.gerrit.http.password.resolve("gerrit.http.password") \
            if settings.gerrit.http else None
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = await _config(settings, args.governance)
    if config is None:
        return 1
    from govbot.plugins.governance.ballot import PeopleIndex
    from govbot.plugins.governance.change import ChangeState
    from govbot.plugins.governance.evaluate import evaluate
    from govbot.plugins.governance.message import render
    from govbot.plugins.governance.model import RulesConfig

    rules = config.section("governance")
    if not isinstance(rules, RulesConfig):
        print("error: the governance config has no rules.yaml", file=sys.stderr)
        return 1
    rest = GerritRest(settings.gerrit.url, timeout=settings.gerrit.request_timeout,
                      username=settings.gerrit.http.username if settings.gerrit.http else None,
                      password=password, retries=2)
    now = dt.datetime.now(dt.UTC)
    people = PeopleIndex.of(config.people)
    try:
        if status:
            query = "status:open" + (f" project:{args.project}" if args.project else "")
            infos: Sequence[Mapping[str, Any]] = await rest.query(query, limit=10_000)
        else:
            info = await rest.get_change(args.change)  # a number or project~number
            if info is None:
                print(f"error: change {args.change} not found", file=sys.stderr)
                return 1
            infos = [info]
    except (GerritHttpError, GerritUnavailable) as exc:
        print(f"error: Gerrit at {settings.gerrit.url}: {exc}", file=sys.stderr)
        return 1
    finally:
        await rest.close()
    from govbot.plugins.governance.ci import DEFAULT_CI, CiDefaults

    ci = (CiDefaults(label=settings.zuul.verified_label, account=settings.zuul.gerrit_username)
          if settings.zuul is not None else DEFAULT_CI)
    verdicts = [evaluate(ChangeState.from_change_info(i), config, rules, now, people=people,
                         ci=ci)
                for i in infos]
    subjects = {(i.get("project"), i.get("_number")): i.get("subject", "") for i in infos}
    if not status:
        verdict = verdicts[0]
        print(json.dumps(_as_json(verdict), indent=2) if args.json else render(verdict))
        return 0
    governed = [v for v in verdicts if v.state != "ungoverned"]
    if args.json:
        print(json.dumps([_as_json(v) | {"subject": subjects.get((v.project, v.number), "")}
                          for v in governed], indent=2))
        return 0
    if not governed:
        print("no open governed changes")
        return 0
    for v in sorted(governed, key=lambda v: (v.state, v.project, v.number)):
        missing = ", ".join(m.name for m in v.missing) or "-"
        earliest = f"{v.earliest:%Y-%m-%d %H:%M} UTC" if v.earliest else "-"
        print(f"{v.project}~{v.number}  {v.state.upper():8} {v.rule or '-':22} "
              f"earliest {earliest:20} missing: {missing}")
        print(f"    {subjects.get((v.project, v.number), '')}")
    return 0


async def _config(settings: Settings, directory: Path | None) -> GovernanceConfig | None:
    sections = PluginRegistry(load_plugins(settings.plugins.enabled)).config_sections()
    if directory is None:
        repo = ConfigRepo(settings.governance.repo, settings.governance.branch,
                          settings.governance.subdir,
                          Path(settings.state.workdir) / "governance-cli")
        await repo.refresh()
        directory = repo.root
    result = await asyncio.to_thread(load_config, directory, sections)
    if result.config is None:
        for error in result.errors:
            print(error, file=sys.stderr)
        print(f"error: the governance config at {directory} does not load", file=sys.stderr)
    return result.config


def _as_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _as_json(v) for k, v in value.items()}
    return value
