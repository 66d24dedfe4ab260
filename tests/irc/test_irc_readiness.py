"""IRC readiness against a real ngircd: registered with every channel joined; a
channel that refuses the bot is a permanent fault, cured when it lets the bot in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from govbot.testing.ircd import NgircdServer, require_binaries
from tests.irc.harness import running_bot, settings

pytestmark = pytest.mark.irc


@pytest_asyncio.fixture
async def ngircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ngircd") as server:
        yield server


async def test_ready_only_with_every_channel_joined_and_a_refusal_is_a_fault(
        ngircd: NgircdServer) -> None:
    async with ngircd.client("owner") as owner:
        await owner.join("#closed")  # the first to join is the channel's operator
        await owner.send("MODE #closed +i")
        await owner.wait_for(lambda m: m.command == "MODE" and "+i" in " ".join(m.params))
        bot_settings = settings(ngircd.host, ngircd.port, nick="readybot",
                                channels=["#open", "#closed"])
        async with running_bot(bot_settings) as irc:
            status = await irc.health.wait_until(lambda s: bool(s.fault))
            assert not status.ready and "#closed refuses the bot" in status.fault
            assert "invite it" in status.fault
            assert irc.readiness().reason == "not in #closed"
            assert irc.faults == {"channel": 1}
            await owner.send("INVITE readybot #closed")
            # The maintenance tick retries the join; the invitation lets the bot in.
            status = await irc.health.wait_until(lambda s: s.ready, timeout=15)
            assert not status.fault and irc.readiness().ready
