"""`govbot status`, `govbot tally` and `govbot simulate`: the governance verdicts, on demand.

`govbot simulate CHANGE.yaml` judges a described change offline (no Gerrit), under the
config of `--config-dir DIR` or the settings' config repo: the simulator of the web
pages (simulation.py; its input format is in docs/web.md).

The successor of the governance repo's hand-run review-status script: it reads
the open changes from Gerrit (paged queries, never one call per change), judges
each by the merged rules exactly as the daemon does, and prints a table or JSON.
It needs only the operator settings (Gerrit URL and HTTP credentials, the config
repo); `--governance DIR` judges by a local directory instead.

Every `govbot` start reads `COMMANDS`, so this module imports only argparse at the
top; the rules engine is imported when a command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from govbot.extensions import CliCommand, CliContext, CliError, GerritReadError


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", type=Path, required=True, help="settings file")
    parser.add_argument("--project", help="only this project")
    parser.add_argument("--governance", type=Path, help="judge by this local config directory")
    parser.add_argument("--json", action="store_true", help="one JSON document")


def _tally_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("change", help="a change number or project~number")
    parser.add_argument("--config", "-c", type=Path, required=True, help="settings file")
    parser.add_argument("--governance", type=Path, help="judge by this local config directory")
    parser.add_argument("--json", action="store_true", help="the verdict as JSON")


async def cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _run(args, ctx, status=True)


async def cmd_tally(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _run(args, ctx, status=False)


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("change", type=Path, help="the change, as YAML or JSON (docs/web.md)")
    parser.add_argument("--config-dir", type=Path, help="judge by this governance config "
                        "directory (a proposed config, say)")
    parser.add_argument("--config", "-c", type=Path, help="settings file (its config repo)")
    parser.add_argument("--json", action="store_true", help="the whole verdict as JSON")


async def cmd_simulate(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.config_dir is None and args.config is None:
        raise CliError("say which config judges: --config-dir DIR or --config SETTINGS")
    try:
        text = args.change.read_text()
    except OSError as exc:
        raise CliError(f"{args.change}: {exc.strerror}") from None
    settings = ctx.settings(args.config) if args.config_dir is None else None
    loaded = await ctx.governance(settings=settings, directory=args.config_dir)
    if loaded.config is None:
        for error in loaded.errors:
            print(error, file=sys.stderr)
        print(f"error: the governance config at {loaded.directory} does not load",
              file=sys.stderr)
        return 1
    from .model import RulesConfig
    from .simulation import SimulationError, parse_spec, simulate

    rules = loaded.config.section("governance")
    if not isinstance(rules, RulesConfig):
        raise CliError(f"{loaded.directory}: no rules.yaml", status=1)
    try:
        result = simulate(parse_spec(text), loaded.config, rules, now=dt.datetime.now(dt.UTC))
    except SimulationError as exc:
        raise CliError(f"{args.change}: {exc}") from None
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(result["message"])
    return 0


COMMANDS = (
    CliCommand("status", "list open governed changes with their verdicts",
               _status_arguments, cmd_status),
    CliCommand("tally", "explain the verdict on one change", _tally_arguments, cmd_tally),
    CliCommand("simulate", "judge a described change (YAML) under a config, offline",
               _simulate_arguments, cmd_simulate),
)


async def _run(args: argparse.Namespace, ctx: CliContext, *, status: bool) -> int:
    settings = ctx.settings(args.config)
    if settings.gerrit is None:
        raise CliError(f"{args.config}: no 'gerrit:' section; status and tally read "
                       "the changes from Gerrit")
    gerrit = ctx.gerrit(settings)  # checks the credentials before anything is fetched
    loaded = await ctx.governance(settings=settings, directory=args.governance)
    config = loaded.config
    if config is None:
        for error in loaded.errors:
            print(error, file=sys.stderr)
        print(f"error: the governance config at {loaded.directory} does not load",
              file=sys.stderr)
        return 1
    from .ballot import PeopleIndex
    from .change import ChangeState
    from .ci import DEFAULT_CI, CiDefaults
    from .evaluate import evaluate
    from .message import render
    from .model import RulesConfig

    rules = config.section("governance")
    if not isinstance(rules, RulesConfig):
        print("error: the governance config has no rules.yaml", file=sys.stderr)
        return 1
    now = dt.datetime.now(dt.UTC)
    people = PeopleIndex.of(config.people)
    try:
        async with gerrit as reader:
            if status:
                query = "status:open" + (f" project:{args.project}" if args.project else "")
                infos: Sequence[Mapping[str, Any]] = await reader.query(query, limit=10_000)
            else:
                info = await reader.get_change(args.change)  # a number or project~number
                if info is None:
                    print(f"error: change {args.change} not found", file=sys.stderr)
                    return 1
                infos = [info]
    except GerritReadError as exc:
        print(f"error: Gerrit at {settings.gerrit.url}: {exc}", file=sys.stderr)
        return 1
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


def _as_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    fields = getattr(type(value), "__struct_fields__", None)
    if fields is not None:  # a msgspec struct (the verdict's rows): msgspec is not imported
        # here, since every `govbot` start (--help) reads this module's COMMANDS
        return {name: _as_json(getattr(value, name)) for name in fields}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _as_json(v) for k, v in value.items()}
    return value
