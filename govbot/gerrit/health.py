"""Which Gerrit stream failures are permanent, and what the operator does about each.

A permanent fault is one a retry will not cure: the key file is missing or not a
key, Gerrit refuses the account, the server's host key does not match. The stream
still retries (slowly: the operator may fix the file without a restart), but the
fault is logged once as an error with the fix, shown in `/readyz` and counted in
`/metrics` (govbot.health). Everything else (refused or dropped connections,
timeouts) is transient and retried quietly.
"""

from __future__ import annotations

import re

import asyncssh

from govbot.settings import GerritSsh

#: What Gerrit says when the account lacks the Stream Events capability.
_NO_CAPABILITY = re.compile(r"(?i)capabilit|streamEvents|not permitted|administrators only")

#: Exceptions the stream's reconnect loop handles (the permanent ones included).
STREAM_ERRORS = (OSError, asyncssh.Error, TimeoutError, asyncssh.KeyImportError)


def permanent_fault(exc: BaseException, ssh: GerritSsh) -> tuple[str, str] | None:
    """(kind, message with the fix) when `exc` is a permanent fault, else None."""
    where = f"{ssh.username}@{ssh.host}:{ssh.port}"
    if isinstance(exc, OSError) and getattr(exc, "filename", None) == ssh.key_file:
        return ("key_file", f"cannot read the SSH key gerrit.ssh.key_file {ssh.key_file}: "
                f"{exc.strerror}; put the bot's private key there (readable by the bot)")
    if isinstance(exc, asyncssh.KeyImportError):
        return ("key_file", f"gerrit.ssh.key_file {ssh.key_file} is not a usable private "
                f"key ({exc}); use an unencrypted OpenSSH private key")
    if isinstance(exc, asyncssh.PermissionDenied):
        why = exc.reason or "permission denied"
        return ("auth", f"Gerrit refused the SSH login {where} ({why}); add the public "
                "key of gerrit.ssh.key_file to the account "
                f"{ssh.username!r} in Gerrit, and grant it the Stream Events capability")
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        known = ssh.known_hosts_file or "the pinned key in state.workdir/gerrit_known_hosts"
        return ("host_key", f"the host key of {ssh.host}:{ssh.port} does not match "
                f"{known} ({exc.reason}); check the server's key and update that file")
    if isinstance(exc, OSError) and str(exc).startswith("stream-events ended") \
            and _NO_CAPABILITY.search(str(exc)):
        return ("capability", f"Gerrit refuses stream-events to {ssh.username!r} ({exc}); "
                "grant the bot's group the Stream Events global capability "
                "(All-Projects, Global Capabilities)")
    return None
