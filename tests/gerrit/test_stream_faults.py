"""Which stream failures are permanent faults, each with the fix (no server needed)."""

from __future__ import annotations

import asyncssh

from govbot.gerrit.health import permanent_fault
from govbot.settings import GerritSsh

SSH = GerritSsh(host="review.example.org", username="govbot", key_file="/keys/bot",
                known_hosts_file="/keys/known_hosts")


def test_permanent_faults_name_the_fix_and_transient_ones_are_none() -> None:
    missing = FileNotFoundError(2, "No such file or directory", "/keys/bot")
    assert permanent_fault(missing, SSH) is not None
    kind, message = permanent_fault(missing, SSH) or ("", "")
    assert kind == "key_file" and "/keys/bot" in message
    kind, message = permanent_fault(asyncssh.KeyImportError("Invalid private key"), SSH) \
        or ("", "")
    assert kind == "key_file" and "private key" in message
    kind, message = permanent_fault(asyncssh.PermissionDenied("denied"), SSH) or ("", "")
    assert kind == "auth" and "Stream Events" in message and "govbot" in message
    kind, message = permanent_fault(asyncssh.HostKeyNotVerifiable("mismatch"), SSH) \
        or ("", "")
    assert kind == "host_key" and "/keys/known_hosts" in message
    refused = OSError("stream-events ended (exit 1) fatal: Capability streamEvents is "
                      "required to access this resource")
    assert (permanent_fault(refused, SSH) or ("",))[0] == "capability"
    for transient in (ConnectionRefusedError(111, "Connection refused"), TimeoutError(),
                      OSError("stream-events ended (exit 0)"),
                      FileNotFoundError(2, "No such file", "/elsewhere")):
        assert permanent_fault(transient, SSH) is None
