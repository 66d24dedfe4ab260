"""Meetings through ZNC in front of ngircd (the OFTC/Libera set-up: a bouncer keeps the
channel while the bot restarts): the lines said while the bot was SIGKILLed come back
from ZNC's buffer playback into the minutes, once and in order. And, on plain ngircd
with a +t channel and the bot not op, the refused topic is said once in the channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.testing.ircd import IrcTestClient, NgircdServer, ZncBouncer, require_binaries
from tests.gerrit.harness import governance_repo
from tests.meetings.test_meetings_irc import (
    URL,
    BotProcess,
    Speaker,
    bot_said,
    eventually,
    journal_texts,
)

pytestmark = pytest.mark.irc
CHANNEL = "#example-tc"


def znc_settings(tmp_path: Path, znc: ZncBouncer) -> Path:
    secret = tmp_path / "znc-password"
    secret.write_text(znc.password + "\n")
    governance = governance_repo(tmp_path)
    db = tmp_path / "state" / "govbot.db"
    settings = tmp_path / "govbot.yaml"
    settings.write_text(
        f"governance: {{repo: {governance}, poll_interval: 0}}\n"
        f"state: {{path: {db}, workdir: {tmp_path}/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n"
        f"irc: {{host: 127.0.0.1, port: {znc.port}, tls: false, nick: govbot,"
        f" channels: ['{CHANNEL}'], rate: {{burst: 20, per_second: 100}},"
        f" password: {{file: {secret}}}}}\n"
        "plugins:\n  enabled: [meetings]\n  settings:\n    meetings:\n"
        f"      minutes_url: {URL}\n      trust_nicks: true\n"
        "      channels: {default: {topic: always}}\n")
    return settings


def refusals(client: IrcTestClient) -> int:
    return sum(1 for m in client.received if m.command == "PRIVMSG"
               and m.text.startswith("I cannot set the topic"))


async def connected(bot: BotProcess, times: int) -> None:
    """The bot logged in to ZNC (`times` in all): from now on ZNC forwards, not buffers."""
    await eventually(lambda: bot.log.read_text().count("irc: connected to") >= times, 30,
                     "the bot connected to ZNC")


async def test_znc_playback_loses_no_line_across_a_sigkill(tmp_path: Path) -> None:
    require_binaries("ngircd", "znc")
    async with NgircdServer(tmp_path / "ircd") as ircd, ircd.client("ada") as ada:
        await ada.join(CHANNEL)  # first in: op
        await ada.send(f"MODE {CHANNEL} +t")
        async with ZncBouncer(tmp_path, ircd.host, ircd.port, channels=(CHANNEL,)) as znc:
            # ZNC holds the bot's place in the channel before the bot ever connects.
            await ada.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 20)
            db = tmp_path / "state" / "govbot.db"
            minutes_dir = tmp_path / "minutes"
            bot = BotProcess(znc_settings(tmp_path, znc), minutes_dir)
            say = Speaker(db)
            await bot.start()
            try:
                await connected(bot, 1)  # before that, ZNC would buffer what ada says
                await say(ada, "#startmeeting tc")
                refused = await bot_said(ada, "^I cannot set the topic of #example-tc", 30)
                assert "not a channel operator" in refused
                await say(ada, "#topic Before the crash")
                await ada.send("PING :topic")
                await ada.wait_for(lambda m: m.command == "PONG", 5)
                assert refusals(ada) == 1
                await bot.kill()  # ZNC stays in the channel: nobody sees a QUIT
                await eventually(lambda: znc.attached() == 0, 30, "ZNC to see the bot gone")
                missed = ["first line while the bot is away", "#info second, an item",
                          "third: the last one"]
                for text in missed:
                    await ada.privmsg(CHANNEL, text)
                await ada.send("PING :said")
                await ada.wait_for(lambda m: m.command == "PONG", 5)
                await bot.start()
                resumed = await bot_said(ada, "^Resuming the meeting 'tc'", 30)
                assert "(started by ada; 2 lines kept)" in resumed
                await eventually(lambda: all(t in journal_texts(db) for t in missed), 30,
                                 "the missed lines journaled from ZNC's buffer")
                await say(ada, "#topic After the crash")
                await say(ada, "#endmeeting")
                link = await bot_said(ada, rf"^Minutes:\s+{URL}/meetings/tc/", 30)
                # Once per channel and run of the bot, though refused at every #topic.
                assert refusals(ada) == 2
            finally:
                await bot.stop()
    stem = link.split(f"{URL}/", 1)[1].removesuffix(".html")
    await eventually(lambda: (minutes_dir / f"{stem}.log.txt").exists(), 30, "minutes")
    log = (minutes_dir / f"{stem}.log.txt").read_text()
    said = [line.split("> ", 1)[1] for line in log.splitlines() if " <ada> " in line]
    assert said == ["#startmeeting tc", "#topic Before the crash", *missed,
                    "#topic After the crash", "#endmeeting"]
    assert "not seen by the bot" not in log
    assert "INFO: second, an item" in (minutes_dir / f"{stem}.txt").read_text()
