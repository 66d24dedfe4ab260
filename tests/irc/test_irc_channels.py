"""The client's channel bookkeeping, fed server lines: topics, its own op status, the
topic refusal, and lines played back from history (batches, msgid, server-time)."""

from __future__ import annotations

import datetime as dt

from govbot.irc.client import IrcClient, parse_line
from govbot.irc.events import IrcEvent, IrcMessage
from govbot.irc.service import IrcService
from govbot.settings import IrcSettings


class Heard:
    """A ClientListener that records what the client tells it."""

    def __init__(self) -> None:
        self.events: list[IrcEvent] = []
        self.synced: list[tuple[str, bool]] = []
        self.refused: list[str] = []

    def irc_event(self, event: IrcEvent, resolve_account: bool) -> None:
        self.events.append(event)

    def irc_ready(self) -> None:
        pass

    def irc_nick_free(self) -> None:
        pass

    def irc_channel_synced(self, channel: str, op: bool) -> None:
        self.synced.append((channel, op))

    def irc_refused(self, code: str, target: str, reason: str) -> None:
        pass  # readiness's concern (tests/irc/test_irc_readiness.py)

    def irc_topic_refused(self, channel: str, reason: str) -> None:
        self.refused.append(channel)


async def client_with(*lines: str) -> tuple[IrcClient, Heard]:
    heard = Heard()
    client = IrcClient(nick="govbot", listener=heard)
    client.nickname = "govbot"
    await feed(client, *lines)
    return client, heard


async def feed(client: IrcClient, *lines: str) -> None:
    for line in lines:
        message = parse_line(line.encode())
        assert message is not None
        await client.on_raw(message)


async def test_topic_and_op_from_join_names_and_mode() -> None:
    client, heard = await client_with(
        ":govbot!g@h JOIN #tc", ":srv 332 govbot #tc :Welcome to the TC",
        ":srv 353 govbot = #tc :govbot @ada", ":srv 366 govbot #tc :End of /NAMES list.")
    assert client.topic_of("#TC") == "Welcome to the TC"
    assert heard.synced == [("#tc", False)] and not client.is_op("#tc")
    await feed(client, ":ChanServ!s@services MODE #tc +ov govbot ada")
    assert client.is_op("#tc")
    await feed(client, ":ada!a@h TOPIC #tc :Roll call", ":ada!a@h MODE #tc +l-o 10 govbot")
    assert client.topic_of("#tc") == "Roll call" and not client.is_op("#tc")
    await feed(client, ":govbot!g@h PART #tc")
    assert client.topic_of("#tc") is None


async def test_op_in_names_and_no_topic() -> None:
    client, heard = await client_with(
        ":govbot!g@h JOIN #tc", ":srv 331 govbot #tc :No topic is set",
        ":srv 353 govbot = #tc :@govbot ada", ":srv 366 govbot #tc :End of /NAMES list.")
    assert client.topic_of("#tc") == "" and heard.synced == [("#tc", True)]


async def test_a_refused_topic_is_reported() -> None:
    _client, heard = await client_with(
        ":srv 482 govbot #tc :You must be a channel op or higher to change the topic.")
    assert heard.refused == ["#tc"]


async def test_history_batches_mark_lines_played_back() -> None:
    _client, heard = await client_with(
        ":govbot!g@h JOIN #tc",
        ":srv BATCH +1 chathistory :#tc",
        "@time=2026-12-01T21:30:29.000Z;msgid=42X~1;batch=1 :ada!a@h PRIVMSG #tc :said away",
        ":srv BATCH :-1",
        "@time=2026-12-01T21:31:00.000Z;msgid=42X~2 :ada!a@h PRIVMSG #tc :said live",
        ":znc BATCH +z znc.in/playback #tc",
        "@time=2026-12-01T21:30:30.000Z;batch=z :bob!b@h PRIVMSG #tc :from the bouncer",
        ":znc BATCH -z")
    lines = [e for e in heard.events if isinstance(e, IrcMessage)]
    assert [(m.text, m.history, m.bouncer, m.msgid) for m in lines] == [
        ("said away", True, False, "42X~1"), ("said live", False, False, "42X~2"),
        ("from the bouncer", True, True, None)]
    assert lines[0].time == dt.datetime(2026, 12, 1, 21, 30, 29, tzinfo=dt.UTC)


async def _nothing(envelope: object) -> None:
    return None


def test_after_a_join_the_service_asks_chathistory_and_chanserv() -> None:
    service = IrcService(IrcSettings(host="127.0.0.1"), submit=_nothing)
    service.queue.open_control()
    service.client._capabilities = {"draft/chathistory": True}
    service.client.account = "govbot"
    service.irc_channel_synced("#tc", False)
    sent = [service.queue.next_line(service._render) for _ in range(2)]
    assert [line for line, _ in filter(None, sent)] == [
        "CHATHISTORY LATEST #tc * 100", "PRIVMSG ChanServ :OP #tc"]
    service.client._capabilities = {}
    service.irc_channel_synced("#ops", True)  # op already, no chathistory: nothing asked
    assert service.queue.next_line(service._render) is None
