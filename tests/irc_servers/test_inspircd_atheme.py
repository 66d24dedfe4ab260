"""SASL, NickServ accounts and account-tag through real InspIRCd 3 + Atheme 7.2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from govbot.testing.ircd import (
    InspircdAtheme,
    IrcMessage,
    IrcServerError,
    SaslError,
    require_binaries,
)

pytestmark = [pytest.mark.irc, pytest.mark.asyncio(loop_scope="module")]

ALICE = ("alice", "alice-secret-1")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def network(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InspircdAtheme]:
    """InspIRCd + Atheme with the account `alice` registered."""
    require_binaries("inspircd", "atheme-services")
    async with InspircdAtheme(tmp_path_factory.mktemp("inspircd")) as net:
        await net.register_account(*ALICE)
        yield net


WATCHER_CAPS = ["account-tag", "server-time", "message-tags", "extended-join"]


def privmsg_in(channel: str) -> Callable[[IrcMessage], bool]:
    return lambda m: m.command == "PRIVMSG" and m.target == channel


async def test_sasl_login_is_seen_as_account_tag(network: InspircdAtheme) -> None:
    alice = network.client("alice", sasl=ALICE)
    watcher = network.client("watcher", caps=WATCHER_CAPS)
    # Registrations complete on InspIRCd's 1 s tick: connect both in the same tick.
    await asyncio.gather(alice.connect(), watcher.connect())
    try:
        assert alice.account == "alice"
        assert {"account-tag", "extended-join"} <= watcher.caps_enabled
        await watcher.join("#gov")
        await alice.join("#gov")

        joined = await watcher.wait_for(lambda m: m.command == "JOIN" and m.nick == "alice")
        assert joined.params[1] == "alice"  # extended-join carries the account too

        await alice.privmsg("#gov", "#startmeeting tc")
        said = await watcher.wait_for(lambda m: m.command == "PRIVMSG" and m.nick == "alice")
        assert said.tags.get("account") == "alice"
        assert said.account == "alice"
        assert "time" in said.tags  # server-time
    finally:
        await asyncio.gather(alice.quit(), watcher.quit())


async def test_lookalike_nick_without_sasl_has_no_account(network: InspircdAtheme) -> None:
    # The very nick "alice", and a look-alike, both without SASL: nick is not identity.
    impostor = network.client("alice")
    lookalike = network.client("aIice")
    watcher = network.client("watcher2", caps=WATCHER_CAPS)
    await asyncio.gather(impostor.connect(), lookalike.connect(), watcher.connect())
    try:
        await watcher.join("#gov2")
        await asyncio.gather(impostor.join("#gov2"), lookalike.join("#gov2"))
        for client in (impostor, lookalike):
            await client.privmsg("#gov2", "#endmeeting")
        said = [await watcher.wait_for(privmsg_in("#gov2")) for _ in range(2)]
        assert sorted(m.nick or "" for m in said) == ["aIice", "alice"]
        for message in said:
            assert "account" not in message.tags
            assert message.account is None
        assert impostor.account is None
    finally:
        await asyncio.gather(impostor.quit(), lookalike.quit(), watcher.quit())


async def test_wrong_sasl_password_gets_904(network: InspircdAtheme) -> None:
    with pytest.raises(SaslError) as failure:
        await network.client("alice", sasl=("alice", "not-the-password")).connect()
    assert failure.value.numeric == "904"


async def test_registering_a_taken_account_is_refused(network: InspircdAtheme) -> None:
    with pytest.raises(IrcServerError, match=r"NickServ refused.*already registered"):
        await network.register_account("alice", "another-password")


async def test_accounts_survive_a_restart_on_the_same_port(network: InspircdAtheme) -> None:
    port = network.port
    await network.restart()
    assert network.port == port
    async with network.client("alice", sasl=ALICE) as alice:
        assert alice.account == "alice"
