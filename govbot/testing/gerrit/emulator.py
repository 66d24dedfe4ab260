"""``GerritEmulator``: lifecycle, set-up helpers, the test-facing mutators that need no git
(git-backed ones are in :mod:`repo_ops`), fault switches and observation helpers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import asyncssh

from govbot.testing.gerrit.core import AccountRef, GerritCore, GerritError, Settings
from govbot.testing.gerrit.events import Event
from govbot.testing.gerrit.faults import Faults
from govbot.testing.gerrit.model import (
    Account,
    Change,
    Clock,
    Grant,
    Group,
    Label,
    Project,
    sha1_hex,
)
from govbot.testing.gerrit.repo_ops import DEFAULT_GRANTS, RepoOperations
from govbot.testing.gerrit.rest import GerritRestServer, RestCall
from govbot.testing.gerrit.ssh import GerritSshServer

__all__ = ["DEFAULT_GRANTS", "GerritEmulator"]

T = TypeVar("T")


class GerritEmulator(RepoOperations):
    """A Gerrit server for tests: real git, SSH ``stream-events``, REST. See README.md."""

    def __init__(self, base_dir: str | Path, *, clock: Clock = time.time,
                 legacy_events: bool = False, meta_ref_events: bool = True,
                 strict_labels: bool = True, outdated_votes: str = "record",
                 events_log: bool = True, stream_buffer: int = 1024, host: str = "127.0.0.1",
                 version: str = "3.9.1", canonical_url: str | None = None,
                 events_log_limit: int = 5000) -> None:
        self.base_dir = Path(base_dir)
        self.clock = clock
        self.settings = Settings(legacy_events=legacy_events, meta_ref_events=meta_ref_events,
                                 strict_labels=strict_labels, outdated_votes=outdated_votes)
        self._canonical_url = canonical_url
        self.core = GerritCore(clock, lambda: self.canonical_url, self.settings)
        self.faults = Faults(self.core.bus, clock=clock)
        self.ssh = GerritSshServer(self.core, host=host, version=version,
                                   stream_buffer=stream_buffer, refusing=self.faults.ssh_refusing)
        self.rest = GerritRestServer(self.core, self.faults, host=host, version=version)
        self.rest.events_log_enabled = events_log
        #: The plugin's `returnLimit`: events per events-log answer (settable at runtime).
        self.rest.events_log_limit = events_log_limit
        self._git_lock = asyncio.Lock()
        self._account_ids = itertools.count(1000000)
        self._change_numbers = itertools.count(1)
        self._group_ids = itertools.count(1)

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> GerritEmulator:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def start(self) -> None:
        (self.base_dir / "git").mkdir(parents=True, exist_ok=True)
        await self.rest.start()
        await self.ssh.start()
        self.known_hosts_path.write_text(self.known_hosts + "\n")

    async def stop(self) -> None:
        await self.ssh.stop()
        await self.rest.stop()

    @property
    def ssh_port(self) -> int:
        return self.ssh.port

    @property
    def http_url(self) -> str:
        return self.rest.url

    @property
    def canonical_url(self) -> str:
        return self._canonical_url or self.http_url

    @property
    def host_key(self) -> asyncssh.SSHKey:
        """The server's public host key."""
        return asyncssh.import_public_key(self.ssh.host_key.export_public_key())

    @property
    def known_hosts(self) -> str:
        """A known_hosts line for the SSH server (``[host]:port key``)."""
        return self.ssh.known_hosts_line

    @property
    def known_hosts_path(self) -> Path:
        return self.base_dir / "known_hosts"

    # runtime switches, as properties so tests can flip them mid-test
    @property
    def legacy_events(self) -> bool:
        return self.settings.legacy_events

    @legacy_events.setter
    def legacy_events(self, value: bool) -> None:
        self.settings.legacy_events = value

    @property
    def meta_ref_events(self) -> bool:
        return self.settings.meta_ref_events

    @meta_ref_events.setter
    def meta_ref_events(self, value: bool) -> None:
        self.settings.meta_ref_events = value

    @property
    def events_log_enabled(self) -> bool:
        return self.rest.events_log_enabled

    @events_log_enabled.setter
    def events_log_enabled(self, value: bool) -> None:
        self.rest.events_log_enabled = value

    # ----------------------------------------------------------------- accounts and groups
    def add_account(self, username: str, name: str | None = None, email: str | None = None, *,
                    http_password: str | None = None, groups: Iterable[str] = (),
                    account_id: int | None = None) -> Account:
        """Register an account; ``http_password`` defaults to ``secret-<username>``.
        ``account_id`` pins the id (e.g. to match a governance config's people)."""
        if account_id is None:
            account_id = next(self._account_ids)
            while account_id in self.core.accounts:
                account_id = next(self._account_ids)
        elif account_id in self.core.accounts:
            raise GerritError(409, f"account {account_id} already exists")
        acc = Account(account_id=account_id, username=username,
                      name=name or username.title(), email=email or f"{username}@example.com",
                      http_password=http_password or f"secret-{username}",
                      registered_on=self.clock())
        self.core.accounts[acc.account_id] = acc
        for group in groups:
            self.add_group_member(group, acc)
        return acc

    def add_ssh_key(self, account: AccountRef, key: asyncssh.SSHKey | str) -> None:
        """Authorize a public key (an asyncssh key, private or public, or an OpenSSH line)."""
        line = (key if isinstance(key, str)
                else key.export_public_key("openssh").decode()).strip()
        self.core.account(account).ssh_keys.append(line)

    def generate_ssh_key(self, account: AccountRef) -> asyncssh.SSHKey:
        """Make a new ed25519 key pair, authorize it for ``account``, return the private key."""
        key = asyncssh.generate_private_key("ssh-ed25519")
        self.add_ssh_key(account, key)
        return key

    def add_group(self, name: str, members: Iterable[AccountRef] = (),
                  includes: Iterable[str] = ()) -> Group:
        group = self.core.groups.get(name)
        if group is None:
            group = Group(name=name, uuid=sha1_hex("group", name), group_id=next(self._group_ids))
            self.core.groups[name] = group
        group.members.update(self.core.account(m).account_id for m in members)
        group.includes.extend(i for i in includes if i not in group.includes)
        return group

    def add_group_member(self, group: str, account: AccountRef) -> None:
        self.add_group(group, [account])

    def remove_group_member(self, group: str, account: AccountRef) -> None:
        self.core.groups[group].members.discard(self.core.account(account).account_id)

    def account(self, ref: AccountRef) -> Account:
        return self.core.account(ref)

    def change(self, number: int) -> Change:
        return self.core.changes[number]

    # ----------------------------------------------------------------- projects and labels
    def set_label(self, project: str, label: Label) -> None:
        self.core.projects[project].labels[label.name] = label

    def grant(self, project: str, label: str, group: str, min: int, max: int) -> None:
        """``label-<label> = min..max group <group>`` for ``project``."""
        self.core.projects[project].grants.setdefault(label, []).append(Grant(group, min, max))

    def project(self, name: str) -> Project:
        return self.core.projects[name]

    # ----------------------------------------------------------------- changes (metadata)
    async def review(self, change: Change, account: AccountRef,
                     labels: Mapping[str, int] | None = None, message: str = "", *,
                     tag: str | None = None, patch_set: int | None = None,
                     check_permissions: bool = True) -> dict[str, int]:
        """Vote and/or comment as ``account``, with the REST endpoint's checks (pass
        ``check_permissions=False`` to bypass label permissions)."""
        return self.core.review(change, account, labels=labels, message=message, tag=tag,
                                patch_set=patch_set, check_permissions=check_permissions)

    async def set_hashtags(self, change: Change, account: AccountRef, add: Iterable[str] = (),
                           remove: Iterable[str] = ()) -> list[str]:
        return self.core.set_hashtags(change, account, add, remove)

    async def set_topic(self, change: Change, account: AccountRef, topic: str | None) -> None:
        self.core.set_topic(change, account, topic)

    async def set_wip(self, change: Change, account: AccountRef, wip: bool = True) -> None:
        self.core.set_wip(change, account, wip)

    async def set_private(self, change: Change, account: AccountRef, private: bool = True) -> None:
        self.core.set_private(change, account, private)

    async def add_reviewer(self, change: Change, account: AccountRef, reviewer: AccountRef,
                           *, state: str = "REVIEWER") -> None:
        self.core.add_reviewer(change, account, reviewer, state)

    async def remove_reviewer(self, change: Change, account: AccountRef,
                              reviewer: AccountRef) -> None:
        self.core.remove_reviewer(change, account, reviewer)

    async def delete_vote(self, change: Change, account: AccountRef, reviewer: AccountRef,
                          label: str) -> None:
        self.core.delete_vote(change, account, reviewer, label)

    async def abandon(self, change: Change, account: AccountRef, reason: str = "") -> None:
        self.core.abandon(change, account, reason)

    async def restore(self, change: Change, account: AccountRef, reason: str = "") -> None:
        self.core.restore(change, account, reason)

    async def delete_change(self, change: Change, account: AccountRef) -> None:
        self.core.delete_change(change, account)

    # ----------------------------------------------------------------- observation
    @property
    def events(self) -> list[Event]:
        """Every event emitted so far, in order (modern format)."""
        return self.core.bus.log

    def events_of(self, *types: str, change: Change | None = None) -> list[Event]:
        return [e for e in self.core.bus.log if (not types or e["type"] in types)
                and (change is None or e.get("change", {}).get("number") == change.number)]

    def emit_raw(self, event: Event) -> None:
        """Publish an arbitrary event (e.g. a plugin event type) to streams and the log."""
        event.setdefault("eventCreatedOn", int(self.clock()))
        self.core.emit(event)

    def send_raw_line(self, line: str, *, events_log: bool = True,
                      created_on: int | None = None) -> int:
        """Write `line` as it is (any size, any garbage) to every stream-events session and,
        with `events_log`, into the events-log at second `created_on` (default: now), as a
        server with a broken or huge event would; returns the sessions written to."""
        if events_log:
            at = int(self.clock()) if created_on is None else created_on
            self.rest.events_log_raw.append((at, len(self.core.bus.log), line))
        count = self.ssh.send_raw_line(line)
        self.core.bus.notify()
        return count

    def rest_calls(self, method: str | None = None, path_contains: str | None = None,
                   status: int | None = None) -> list[RestCall]:
        return [c for c in self.rest.calls if (method is None or c.method == method)
                and (path_contains is None or path_contains in c.path)
                and (status is None or c.status == status)]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (checked after every event and REST call)."""
        return await self.core.bus.wait_for(predicate, timeout)

    @property
    def stream_count(self) -> int:
        """Connected ``stream-events`` sessions."""
        return len(self.ssh.sessions)

    def drop_streams(self) -> int:
        """Cut every stream-events connection mid-flight; returns how many were cut."""
        return self.ssh.drop_connections(streams_only=True)
