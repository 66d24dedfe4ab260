"""The reminders plugin's operator settings (`plugins.settings.reminders`); every key
with its default is in docs/settings.md."""

from __future__ import annotations

from govbot.plugin import PluginSettings


class RemindersSettings(PluginSettings, frozen=True, kw_only=True):
    review_url: str = ""  # Gerrit's web URL: each change in a digest gets a link
    # Seconds a digest's Gerrit query and evaluation may take; below the dispatcher's
    # handler timeout, or a cancelled handler loses the digest's next wake-up.
    digest_timeout: float = 45.0
