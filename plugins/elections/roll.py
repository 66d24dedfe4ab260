"""The roll of electors: every account with a merged change in the qualifying period in
the governed repositories, once each, with the teams' extra ATCs, as CSV."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import sys
from pathlib import Path

from govbot.config.model import GovernanceConfig
from govbot.context import ChangeReader
from govbot.extensions import CliError

from .model import TC, Election, find_team
from .qualify import Contributions, electorate_groups

COLUMNS = ("account_id", "name", "email")


async def electorate(reader: ChangeReader, config: GovernanceConfig, election: Election, *,
                     team: str | None, now: dt.datetime) -> list[tuple[str, str, str]]:
    """(account id, name, preferred email) by name; extra ATCs have no account id."""
    chosen = None
    if team is not None:
        chosen = find_team(config.teams, team)
        if chosen is None:
            raise CliError(f"no team {team!r} in the teams file")
        if election.kind == TC:
            raise CliError("a TC election has one electorate: leave out --team")
    groups = electorate_groups(election, config.teams, chosen)
    contributors = await Contributions().of_groups(reader, election, groups, now)
    rows = [(str(c.account_id), c.name or c.username, c.email)
            for c in contributors.values()]
    emails = {c.email.casefold() for c in contributors.values() if c.email}
    teams = [chosen] if chosen is not None else list(config.teams.values())
    for each in teams:
        for atc in each.extra_atcs:
            if atc.valid_at(now) and atc.email.casefold() not in emails:
                emails.add(atc.email.casefold())
                rows.append(("", atc.name, atc.email))
    return sorted(rows, key=lambda r: (r[1].casefold(), r[2].casefold(), r[0]))


async def roll(reader: ChangeReader, config: GovernanceConfig, election: Election, *,
               team: str | None, output: Path | None) -> int:
    rows = await electorate(reader, config, election, team=team,
                            now=dt.datetime.now(dt.UTC))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    if output is None:
        sys.stdout.write(buffer.getvalue())
    else:
        await asyncio.to_thread(output.write_text, buffer.getvalue(), encoding="utf-8")
        print(f"{output}: {len(rows)} elector(s) of {election.id}", file=sys.stderr)
    return 0
