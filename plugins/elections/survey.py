"""The candidacies of a change, and of a whole election: shared by the vote, the
timeline's digest and `govbot elections status`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from govbot.config.model import GovernanceConfig
from govbot.context import ChangeReader

from .checks import Candidacy, ChangeFacts, Owner, check_candidacy, gerrit_time
from .model import PTL, Election
from .paths import MAGIC_FILES, Filed, filing_query, governed, parse_path
from .qualify import QUERY_LIMIT, Contributions

#: What the checks read of each filed change: its files, its owner, when it was created.
FILING_OPTIONS = ("CURRENT_REVISION", "CURRENT_FILES", "DETAILED_ACCOUNTS")


async def filings(reader: ChangeReader, elections: Sequence[Election]
                  ) -> list[Mapping[str, Any]]:
    """Open and merged changes of the elections' repositories (one paged query each)."""
    seen: set[tuple[str, str]] = set()
    infos: list[Mapping[str, Any]] = []
    for election in elections:
        if (election.repository, election.branch) in seen:
            continue
        seen.add((election.repository, election.branch))
        infos += await reader.query(filing_query(election), limit=QUERY_LIMIT,
                                    options=FILING_OPTIONS)
    return infos


async def check_change(info: Mapping[str, Any], elections: Sequence[Election],
                       config: GovernanceConfig, reader: ChangeReader,
                       contributions: Contributions, now: dt.datetime,
                       others: Sequence[Filed]) -> list[Candidacy] | None:
    """The candidacies the change adds or edits, checked; None: not governed (a file
    outside the candidacy layout, or nothing but deletions)."""
    revision_id = str(info.get("current_revision") or "")
    revision = (info.get("revisions") or {}).get(revision_id, {})
    files: Mapping[str, Any] = revision.get("files") or {}
    if not governed(files, elections):
        return None
    paths = sorted(p for p, meta in files.items()
                   if p not in MAGIC_FILES and (meta or {}).get("status") != "D")
    if not paths:
        return None
    facts = ChangeFacts(key=f"{info.get('project')}~{info.get('_number')}",
                        number=int(info.get("_number", 0)), revision=revision_id,
                        created=gerrit_time(info.get("created")),
                        owner=Owner.of(info, config), others=others)
    return [await check_candidacy(path, facts, elections, config, reader, contributions, now,
                                  siblings=[p for p in paths if p != path])
            for path in paths]


def teams_without(election: Election, config: GovernanceConfig, filed: Sequence[Filed],
                  elections: Sequence[Election]) -> list[str]:
    """PTL-led teams with no candidacy filed (open or merged) in a PTL election."""
    if election.kind != PTL:
        return []
    named = set()
    for item in filed:
        parsed = parse_path(item.path, elections, config.teams)
        if parsed.election is not None and parsed.election.id == election.id \
                and parsed.team is not None:
            named.add(parsed.team.name)
    return sorted(t.name for t in config.teams.values()
                  if t.leadership == PTL and t.name not in named)


def candidacy_count(election: Election, config: GovernanceConfig, filed: Sequence[Filed],
                    elections: Sequence[Election]) -> int:
    found = set()
    for item in filed:
        parsed = parse_path(item.path, elections, config.teams)
        if parsed.election is not None and parsed.election.id == election.id:
            found.add(item.path)
    return len(found)
