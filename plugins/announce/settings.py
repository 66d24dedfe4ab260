"""The announce plugin's operator settings (`plugins.settings.announce`); every key
with its default is in docs/settings.md."""

from __future__ import annotations

from govbot.plugin import PluginSettings


class AnnounceSettings(PluginSettings, frozen=True, kw_only=True):
    # Gerrit's web URL, for change links when an event carries no `url` (a Gerrit
    # without canonicalWebUrl); "": such a line ends with `project~number`.
    gerrit_url: str = ""
