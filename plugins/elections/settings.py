"""The elections plugin's operator settings (`plugins.settings.elections`).

Checked at start-up like the rest of govbot.yaml (an unknown key or a wrong type is
an error with FILE:LINE); docs/settings.md lists every key with its default.
"""

from __future__ import annotations

import msgspec

from govbot.plugin import PluginSettings

DEFAULT_LABEL = "Governance-Check"


class CheckValues(PluginSettings, frozen=True, kw_only=True):
    """The vote on the bot's label when every candidacy check passes, and when one fails."""

    passed: int = 1
    failed: int = -1


class ElectionsSettings(PluginSettings, frozen=True, kw_only=True):
    label: str = DEFAULT_LABEL  # the label the candidacy check votes on
    values: CheckValues = msgspec.field(default_factory=CheckValues)
