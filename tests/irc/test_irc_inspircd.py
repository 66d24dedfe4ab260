"""Logins and authority against real InspIRCd 3 + Atheme: SASL, NickServ, account-tag, WHOIS."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from govbot.actions import ReloadConfig
from govbot.config.model import Person
from govbot.irc.service import IrcService
from govbot.settings import IrcSasl, SecretRef
from govbot.testing.ircd import InspircdAtheme, IrcTestClient, require_binaries
from govbot.testing.ircd import IrcMessage as Line
from tests.irc.harness import FAST, eventually, governance, running_bot, running_pipeline, settings

pytestmark = [pytest.mark.irc, pytest.mark.asyncio(loop_scope="module")]

BOT_PASSWORD = "bot-secret-7f3a"
ALICE_PASSWORD = "alice-secret-1"
ALICE = Person(id="alice", name="Alice Liddell", irc_account="alice", irc_nick="alice")
CONFIG = governance(ALICE, admins=["alice"])


@dataclass
class Network:
    server: InspircdAtheme
    secrets: Path

    def secret(self, name: str, value: str) -> SecretRef:
        path = self.secrets / name
        path.write_text(value + "\n")
        return SecretRef(file=str(path))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def network(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    """InspIRCd + Atheme with accounts for the bot (SASL), a NickServ-only bot and alice."""
    require_binaries("inspircd", "atheme-services")
    async with InspircdAtheme(tmp_path_factory.mktemp("inspircd")) as server:
        await asyncio.gather(server.register_account("govbot", BOT_PASSWORD),
                             server.register_account("nsbot", BOT_PASSWORD),
                             server.register_account("alice", ALICE_PASSWORD))
        yield Network(server, tmp_path_factory.mktemp("secrets"))


@dataclass
class People:
    alice: IrcTestClient  # logged in as account alice, under another nick
    impostor: IrcTestClient  # the nick "alice", not logged in
    lookalike: IrcTestClient  # "aIice" with a capital i


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def people(network: Network) -> AsyncIterator[People]:
    server = network.server
    crowd = People(alice=server.client("alice2", sasl=("alice", ALICE_PASSWORD)),
                   impostor=server.client("alice"), lookalike=server.client("aIice"))
    clients = [crowd.alice, crowd.impostor, crowd.lookalike]
    # InspIRCd completes registrations once a second: connect everyone in the same tick.
    await asyncio.gather(*(c.connect() for c in clients))
    assert crowd.alice.account == "alice" and crowd.impostor.account is None
    await asyncio.gather(*(c.join("#gov") for c in clients))
    yield crowd
    await asyncio.gather(*(c.quit() for c in clients))


def reply_to(nick: str, bot: str) -> Callable[[Line], bool]:
    return lambda m: m.command == "PRIVMSG" and m.nick == bot and m.text.startswith(f"{nick}: ")


async def test_sasl_plain_login_keeps_the_password_out_of_the_logs(
        network: Network, caplog: pytest.LogCaptureFixture) -> None:
    sasl = IrcSasl(username="govbot", password=network.secret("bot", BOT_PASSWORD))
    bot_settings = settings(network.server.host, network.server.port, sasl=sasl)
    with caplog.at_level(logging.DEBUG, logger="govbot"):
        async with running_bot(bot_settings) as irc:
            assert irc.account == "govbot"
            assert {"sasl", "account-tag", "extended-join"} <= set(irc.client.capabilities)
    assert "AUTHENTICATE <redacted>" in caplog.text
    assert BOT_PASSWORD not in caplog.text


async def test_a_wrong_password_is_reported_and_not_retried_in_a_loop(
        network: Network, caplog: pytest.LogCaptureFixture) -> None:
    sasl = IrcSasl(username="govbot", password=network.secret("wrong", "not-the-password"))
    bot_settings = settings(network.server.host, network.server.port, sasl=sasl)
    tuning = dataclasses.replace(FAST, auth_retry_min=30.0)
    with caplog.at_level(logging.DEBUG, logger="govbot"):
        async with running_bot(bot_settings, tuning=tuning, connected=False) as irc:
            await eventually(lambda: bool(irc.stats.last_error), 10, "the login to fail")
            assert irc.stats.last_error.startswith("SASL PLAIN login as 'govbot' failed: 904")
            assert not irc.connected and irc.stats.connects == 1
            retry = re.search(r"fix the credentials in the settings \(retrying in (\d+) s\)",
                              caplog.text)
            assert retry and int(retry.group(1)) >= 30
    assert "not-the-password" not in caplog.text


async def test_a_mechanism_the_server_does_not_offer_is_reported(network: Network) -> None:
    # InspIRCd + Atheme here offer only PLAIN (pydle 1.2 crashes on this path).
    bot_settings = settings(network.server.host, network.server.port, nick="certbot",
                            sasl=IrcSasl(mechanism="EXTERNAL"))
    tuning = dataclasses.replace(FAST, auth_retry_min=30.0)
    async with running_bot(bot_settings, tuning=tuning, connected=False) as irc:
        await eventually(lambda: bool(irc.stats.last_error), 10, "the login to fail")
        assert irc.stats.last_error == "the server offers SASL PLAIN but not EXTERNAL"
        assert not irc.connected


async def test_nickserv_identify_when_sasl_is_not_configured(network: Network) -> None:
    bot_settings = settings(network.server.host, network.server.port, nick="nsbot",
                            nickserv_password=network.secret("ns", BOT_PASSWORD))
    async with running_bot(bot_settings) as irc:
        await eventually(lambda: irc.account == "nsbot", 5, "NickServ to confirm the login")


async def reload_attempts(irc: IrcService, people: People) -> None:
    """Each person asks for a reload; only the account holder gets one."""
    bot = irc.nick
    await people.alice.privmsg("#gov", f"{bot}: reload")
    answer = await people.alice.wait_for(reply_to("alice2", bot), 5)
    assert answer.text == "alice2: reloading the governance config"

    await people.impostor.privmsg("#gov", "!reload")
    answer = await people.impostor.wait_for(reply_to("alice", bot), 5)
    assert answer.text == ("alice: reload is for members of Administrators: you must be "
                           "logged in to services as alice to use it")

    await people.lookalike.privmsg(bot, "reload")  # in private this time
    answer = await people.lookalike.wait_for(
        lambda m: m.command == "PRIVMSG" and m.nick == bot and m.target == "aIice", 5)
    assert answer.text == ("reload is for members of Administrators: "
                           "you are not logged in to services")


async def test_authority_comes_from_the_account_tag(network: Network, people: People) -> None:
    bot_settings = settings(network.server.host, network.server.port, nick="gb",
                            channels=["#gov"])
    async with running_pipeline(bot_settings, CONFIG) as pipeline:
        await people.alice.wait_for(lambda m: m.command == "JOIN" and m.nick == "gb", 5)
        assert "account-tag" in pipeline.irc.client.capabilities
        await reload_attempts(pipeline.irc, people)
        reloads = [a for a in pipeline.recorder.actions if isinstance(a, ReloadConfig)]
        assert len(reloads) == 1 and reloads[0].reason.endswith("Alice Liddell (alice)")


async def test_without_account_tags_the_account_comes_from_whois(
        network: Network, people: People, caplog: pytest.LogCaptureFixture) -> None:
    tuning = dataclasses.replace(FAST, disabled_caps=("account-tag", "extended-join",
                                                      "account-notify"))
    bot_settings = settings(network.server.host, network.server.port, nick="gb2",
                            channels=["#gov"])
    async with running_pipeline(bot_settings, CONFIG, tuning=tuning) as pipeline:
        irc = pipeline.irc
        await people.alice.wait_for(lambda m: m.command == "JOIN" and m.nick == "gb2", 5)
        assert not {"account-tag", "extended-join"} & set(irc.client.capabilities)
        with caplog.at_level(logging.DEBUG, logger="govbot.irc.client"):
            await reload_attempts(irc, people)
        assert re.search(r">> WHOIS alice2$", caplog.text, re.MULTILINE)
        assert len(pipeline.recorder.of_type(ReloadConfig)) == 1
        # Cached from the WHOIS the commands needed; a fresh nick is asked for.
        assert await irc.account_of("alice2") == "alice"
        assert await irc.account_of("aIice") is None
        assert await irc.account_of("nobody-here") is None
