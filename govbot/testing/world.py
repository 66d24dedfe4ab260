"""A governance world in the Gerrit emulator: the people and bodies of a config repo.

`populate(emu, config)` registers every person who has a Gerrit identity, with the
account id, username and email the config gives (so votes map back to the right
person), and puts the members of each body in a Gerrit group named after the body.
`governed_project(...)` creates a project with the labels a body votes with and the
bot's own label, granted as a real Gerrit would be configured.
Used by govbot's own tests and by the demo.
"""

from __future__ import annotations

from collections.abc import Iterable

from govbot.config.model import GovernanceConfig
from govbot.testing.gerrit import Account, GerritEmulator, Grant, Label
from govbot.testing.gerrit.model import code_review_label, verified_label

BOT_GROUP = "bots"


def populate(emu: GerritEmulator, config: GovernanceConfig) -> dict[str, Account]:
    """Person id -> emulator account, for every person with a Gerrit username."""
    accounts: dict[str, Account] = {}
    for person in config.people.values():
        if not person.gerrit_username:
            continue
        accounts[person.id] = emu.add_account(
            person.gerrit_username, person.name,
            person.emails[0] if person.emails else None,
            account_id=person.gerrit_account_id)
    for body in config.bodies.values():
        emu.add_group(body.id, [accounts[m] for m in body.members if m in accounts])
    return accounts


def ranged(name: str, low: int, high: int) -> Label:
    names = {-2: "Strong objection", -1: "No", 0: "No score", 1: "Yes", 2: "Approved"}
    return Label(name, {v: names.get(v, str(v)) for v in range(low, high + 1)})


async def governed_project(emu: GerritEmulator, project: str, *,
                           body_labels: Iterable[tuple[str, str, int, int]] = (),
                           bot_label: str = "Governance-Check") -> None:
    """A project where each (label, group, min, max) is granted, plus Code-Review for
    registered users -1..+1, Workflow for the groups, and the bot's label -1..+1."""
    labels = {"Code-Review": code_review_label(), "Verified": verified_label(),
              "Workflow": ranged("Workflow", -1, 1), bot_label: ranged(bot_label, -1, 1)}
    grants: dict[str, list[Grant]] = {
        "Code-Review": [Grant("Registered Users", -1, 1)],
        "Verified": [Grant(BOT_GROUP, -1, 1)],
        "Workflow": [],
        bot_label: [Grant(BOT_GROUP, -1, 1)],
    }
    for label, group, low, high in body_labels:
        labels.setdefault(label, ranged(label, low, high))
        grants.setdefault(label, []).append(Grant(group, low, high))
        grants["Workflow"].append(Grant(group, -1, 1))
        if label == "Code-Review":
            grants["Code-Review"].append(Grant(group, low, high))
    await emu.create_project(project, labels=list(labels.values()), grants=grants)
