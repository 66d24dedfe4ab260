"""The governance plugin's operator settings (`plugins.settings.governance`).

Checked at start-up like the rest of govbot.yaml (an unknown key or a wrong type is
an error with FILE:LINE); docs/settings.md lists every key with its default.
"""

from __future__ import annotations

import msgspec

from govbot.plugin import PluginSettings

DEFAULT_LABEL = "Governance-Check"


class VoteValues(PluginSettings, frozen=True, kw_only=True):
    """The vote on the bot's label for each verdict state."""

    ready: int = 1
    pending: int = 0
    blocked: int = -1

    def of(self, state: str) -> int:
        """The value for a verdict state (`ready`, `pending` or `blocked`)."""
        if state == "ready":
            return self.ready
        if state == "blocked":
            return self.blocked
        if state == "pending":
            return self.pending
        raise ValueError(f"no vote value for the verdict state {state!r}")


class GovernanceSettings(PluginSettings, frozen=True, kw_only=True):
    label: str = DEFAULT_LABEL  # the label the bot votes on
    values: VoteValues = msgspec.field(default_factory=VoteValues)
    # The Gerrit project and branch of the governance config repo: its changes are
    # also checked to load ("": no such project, proposals are not loaded).
    config_project: str = ""
    config_branch: str = "master"
    add_reviewers: bool = False  # add the members still to vote as reviewers
