"""govbot's IRC presence: a robust connection, paced sending, commands with real authority.

See docs/irc.md. The parts:
- `events`: what IRC gives plugins (`IrcMessage`, `IrcJoin`, `IrcPart`, `IrcNickChange`);
- `service`: `IrcService`, the connection, reconnect loop and send queue;
- `reporter`: `IrcReporter` for `Say`, `Notice`, `SetTopic`.

Chat commands (the framework shared by all plugins) are in `govbot.commands`.
"""

from govbot.irc.events import IrcJoin, IrcMessage, IrcNickChange, IrcPart

__all__ = ["IrcJoin", "IrcMessage", "IrcNickChange", "IrcPart"]
