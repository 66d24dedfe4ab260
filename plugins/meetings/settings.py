"""The meetings plugin's operator settings (`plugins.settings.meetings`).

Checked at start-up like the rest of govbot.yaml (an unknown key or a wrong type is
an error with FILE:LINE); docs/settings.md lists every key with its default, and
docs/meetings.md says what each one changes.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govbot.plugin import PluginSettings

StartPolicy = Literal["anyone", "scheduled-chairs"]
TopicPolicy = Literal["always", "sanctioned", "never"]


class GitSettings(PluginSettings, frozen=True, kw_only=True):
    """Commit the minutes to the git repository at the minutes directory, and push."""

    remote: str | None = None  # a remote name or URL; none: commit only
    branch: str = "master"
    author_name: str = "govbot"
    author_email: str = "govbot@localhost"


class ChannelSettings(PluginSettings, frozen=True, kw_only=True):
    """A channel's meeting policy (see policy.py); none: the `default` entry's value."""

    startmeeting: StartPolicy | None = None  # finally: anyone
    topic: TopicPolicy | None = None  # finally: sanctioned


class MeetingsSettings(PluginSettings, frozen=True, kw_only=True):
    minutes_url: str = ""  # URL base of the minutes directory, for the posted links
    minutes_dir: str | None = None  # where the minutes are written; none: the daemon's
    git: GitSettings | None = None  # none: the minutes are not committed
    bot_nick: str | None = None  # how the bot's own lines are logged; none: irc.nick
    trust_nicks: bool = False  # true only on a network without services
    orphan_minutes: float = 60.0  # anyone may #endmeeting after this long without a chair
    start_grace_minutes: float = 10.0  # a scheduled chair may start this early
    gerrit_url: str = ""  # only this Gerrit's change URLs are linked
    # Channel name (or `default`) -> its policy; names are matched case-insensitively.
    channels: dict[str, ChannelSettings] = msgspec.field(default_factory=dict)
