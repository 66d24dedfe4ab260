"""`govbot elections status`: each candidacy of an election with its checks, and the
teams without a candidate, judged exactly as the vote on the change is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from govbot.config.model import GovernanceConfig
from govbot.context import ChangeReader

from .checks import Candidacy
from .model import Election, ElectionsConfig
from .paths import candidacy_files
from .qualify import Contributions
from .survey import check_change, filings, teams_without


async def survey(reader: ChangeReader, config: GovernanceConfig, election: Election,
                 now: dt.datetime) -> tuple[list[tuple[int, str, Candidacy]], list[str]]:
    """(change number, change status, candidacy) of the election, and the PTL-led teams
    with no candidacy filed."""
    section = config.section("elections")
    known = section.in_repository(election.repository, election.branch) \
        if isinstance(section, ElectionsConfig) else (election,)
    infos = await filings(reader, [election])
    others = candidacy_files(infos)
    contributions = Contributions()
    found: list[tuple[int, str, Candidacy]] = []
    for info in infos:
        checked = await check_change(info, known, config, reader, contributions, now, others)
        for candidacy in checked or ():
            if candidacy.election is not None and candidacy.election.id == election.id:
                found.append((int(info.get("_number", 0)), str(info.get("status")),
                              candidacy))
    found.sort(key=lambda item: (item[2].team.casefold(), item[2].email.casefold(), item[0]))
    return found, teams_without(election, config, others, known)


async def status(reader: ChangeReader, config: GovernanceConfig, election: Election, *,
                 as_json: bool) -> int:
    found, missing = await survey(reader, config, election, dt.datetime.now(dt.UTC))
    if as_json:
        document: dict[str, Any] = {
            "election": election.id, "title": election.title, "kind": election.kind,
            "candidacies": [{
                "change": number, "status": state, "path": c.path, "team": c.team,
                "email": c.email, "ok": c.ok,
                "checks": [{"name": k.name, "ok": k.ok, "detail": k.detail}
                           for k in c.checks]} for number, state, c in found],
            "teams_without_candidates": missing}
        print(json.dumps(document, indent=2))
        return 0
    print(f"{election.title} ({election.id}): {len(found)} candidacy file(s)")
    for number, state, candidacy in found:
        verdict = "PASSED" if candidacy.ok else "FAILED"
        print(f"\n{candidacy.path}  change {number} ({state.lower()})  {verdict}")
        for check in candidacy.checks:
            print(f"  {check.line()}")
    if election.kind == "ptl":
        print("\nteams without a candidate: " + (", ".join(missing) or "none"))
    return 0
