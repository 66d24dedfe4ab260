"""Raw clients through a real ngircd; restart on the same port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from govbot.testing.ircd import IrcServerError, NgircdServer, require_binaries

pytestmark = [pytest.mark.irc, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ngircd(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path_factory.mktemp("ngircd")) as server:
        yield server


async def test_two_clients_talk_in_a_channel_and_in_private(ngircd: NgircdServer) -> None:
    async with ngircd.client("alice") as alice, ngircd.client("bob") as bob:
        await alice.join("#govbot")
        await bob.join("#govbot")
        await alice.wait_for(lambda m: m.command == "JOIN" and m.nick == "bob")

        await alice.privmsg("#govbot", "hello bob, tags: none; ünïcode")
        said = await bob.wait_for(lambda m: m.command == "PRIVMSG" and m.nick == "alice")
        assert said.params == ("#govbot", "hello bob, tags: none; ünïcode")
        assert said.account is None  # ngircd has no services

        await bob.privmsg("alice", "hi in private")
        private = await alice.wait_for(r"PRIVMSG alice :hi in private")
        assert private.nick == "bob"


async def test_wait_for_times_out_with_the_recent_lines(ngircd: NgircdServer) -> None:
    async with ngircd.client("carol") as carol:
        with pytest.raises(TimeoutError, match="nothing matching"):
            await carol.wait_for("this never arrives", timeout=0.2)


async def test_invalid_utf8_from_a_client_is_delivered_leniently(ngircd: NgircdServer) -> None:
    async with ngircd.client("dave") as dave, ngircd.client("erin") as erin:
        await dave.send_raw(b"PRIVMSG erin :caf\xe9\r\n")
        line = await erin.wait_for(lambda m: m.command == "PRIVMSG")
        assert line.text == "caf\ufffd"


async def test_a_taken_port_is_reported_with_the_server_log(tmp_path: Path) -> None:
    require_binaries("ngircd")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(IrcServerError, match=r"(?i)address already in use"):
            async with NgircdServer(tmp_path, port=port):
                pass


async def test_restart_keeps_the_port_and_clients_can_reconnect(ngircd: NgircdServer) -> None:
    port = ngircd.port
    old_pid = ngircd.pid
    async with ngircd.client("frank") as frank:
        await frank.join("#govbot")
        await ngircd.restart()
        assert ngircd.port == port
        assert ngircd.pid != old_pid
        # A killed server says no goodbye: the client only sees the connection drop.
        with pytest.raises(ConnectionError):
            await frank.wait_for(lambda m: False, timeout=5)
        assert not frank.connected

    async with ngircd.client("frank") as again, ngircd.client("grace") as grace:
        await asyncio.gather(again.join("#govbot"), grace.join("#govbot"))
        await again.privmsg("#govbot", "back")
        assert (await grace.wait_for(r"PRIVMSG #govbot :back")).nick == "frank"
