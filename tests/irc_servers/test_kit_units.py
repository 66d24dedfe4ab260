"""The parts of the IRC test kit that need no server."""

from __future__ import annotations

import pytest

from govbot.testing.ircd import IrcMessage, require_binaries


def test_parse_tags_prefix_and_trailing() -> None:
    line = (
        r"@account=alice;time=2024-01-01T00:00:00.000Z;note=a\sb\:c\\d;flag "
        r":alice!a@h PRIVMSG #c :hi :) there"
    )
    msg = IrcMessage.parse(line)
    assert msg.tags == {
        "account": "alice",
        "time": "2024-01-01T00:00:00.000Z",
        "note": "a b;c\\d",
        "flag": "",
    }
    assert msg.prefix == "alice!a@h"
    assert msg.nick == "alice"
    assert msg.command == "PRIVMSG"
    assert msg.params == ("#c", "hi :) there")
    assert msg.account == "alice"


def test_parse_without_prefix_or_trailing() -> None:
    assert IrcMessage.parse("PING :abc").params == ("abc",)
    msg = IrcMessage.parse(":irc.test.local 005 bob CHANTYPES=# NICKLEN=30")
    assert msg.nick == "irc.test.local"
    assert msg.command == "005"
    assert msg.params == ("bob", "CHANTYPES=#", "NICKLEN=30")
    assert msg.text == "NICKLEN=30"


def test_missing_binary_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        require_binaries("govbot-no-such-ircd")


def test_missing_binary_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_binaries("govbot-no-such-ircd")
