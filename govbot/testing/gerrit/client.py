"""Small clients for talking to a running emulator from tests: an SSH stream-events reader
and a REST caller that checks and strips Gerrit's ``)]}'`` prefix. They are deliberately
thin; the bot's own Gerrit clients are what integration tests should exercise."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import asyncssh

from govbot.testing.gerrit.emulator import GerritEmulator
from govbot.testing.gerrit.model import Account
from govbot.testing.gerrit.rest import XSSI_PREFIX


class StreamClient:
    """One ``gerrit stream-events`` session, read line by line as JSON."""

    def __init__(self, process: asyncssh.SSHClientProcess[str]) -> None:
        self.process = process

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next event; ``EOFError`` when the server closed the stream."""
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise EOFError("stream closed")
        event: dict[str, Any] = json.loads(line)
        return event

    async def next_of(self, type_: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next event of ``type_``, skipping others (e.g. ref-updated noise)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next(timeout)
                if event["type"] == type_:
                    return event


@asynccontextmanager
async def ssh_connect(emu: GerritEmulator, account: Account,
                      key: asyncssh.SSHKey | None = None
                      ) -> AsyncIterator[asyncssh.SSHClientConnection]:
    """An SSH connection as ``account`` (a fresh key is generated and authorized if none is
    given), verifying the emulator's host key."""
    key = key or emu.generate_ssh_key(account)
    async with asyncssh.connect("127.0.0.1", emu.ssh_port, username=account.username,
                                client_keys=[key], known_hosts=str(emu.known_hosts_path),
                                connect_timeout=5) as conn:
        yield conn


@asynccontextmanager
async def stream_events(emu: GerritEmulator, account: Account, *types: str,
                        **process_kwargs: Any) -> AsyncIterator[StreamClient]:
    """Run ``gerrit stream-events [-s TYPE ...]`` and return once the emulator serves it, so
    no event emitted afterwards can be missed. ``process_kwargs`` go to asyncssh's
    ``create_process`` (e.g. ``window=4096`` to play a slow reader)."""
    before = emu.stream_count
    async with ssh_connect(emu, account) as conn:
        args = [arg for t in types for arg in ("-s", t)]
        process = await conn.create_process(" ".join(["gerrit", "stream-events", *args]),
                                            **process_kwargs)
        await emu.wait_for(lambda: emu.stream_count > before)
        yield StreamClient(process)


def basic_auth_header(account: Account) -> dict[str, str]:
    token = base64.b64encode(f"{account.username}:{account.http_password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class RestClient:
    """Calls the emulator's REST API; JSON answers must carry the XSSI prefix, which is
    stripped. Returns ``(status, parsed JSON or text)``."""

    def __init__(self, emu: GerritEmulator, session: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.session = session

    async def call(self, method: str, path: str, account: Account | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = {**(basic_auth_header(account) if account else {}),
                   **kwargs.pop("headers", {})}
        async with self.session.request(method, self.emu.http_url + path, headers=headers,
                                        **kwargs) as resp:
            text = await resp.text()
            if resp.content_type == "application/json":
                if not text.startswith(XSSI_PREFIX):
                    raise AssertionError(f"JSON answer without )]}}' prefix: {text[:40]!r}")
                return resp.status, json.loads(text[len(XSSI_PREFIX):])
            return resp.status, text

    async def get(self, path: str, account: Account | None = None,
                  **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", path, account, **kwargs)

    async def post(self, path: str, account: Account | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", path, account, **kwargs)
