"""Real IRC servers on loopback, for tests, the demo and plugin authors.

    from govbot.testing.ircd import NgircdServer, InspircdAtheme, require_binaries

    async def test_something(tmp_path):
        require_binaries("ngircd")
        async with NgircdServer(tmp_path) as srv, srv.client("alice") as alice:
            await alice.join("#test")

    async with InspircdAtheme(tmp_path) as net:
        await net.register_account("alice", "s3cret-pass")
        async with net.client("alice", caps=["account-tag"], sasl=("alice", "s3cret-pass")) as c:
            ...

The servers are Debian's ngircd, inspircd and atheme-services, and the bouncer znc
(`ZncBouncer`, in front of either) (`tools/install-system-deps`).
Everything listens on 127.0.0.1 on free ports; logs and configs go to the given directory.
"""

from govbot.testing.ircd.binaries import (
    IrcServerError,
    MissingBinaryError,
    find_binary,
    require_binaries,
    require_binary,
)
from govbot.testing.ircd.client import (
    IrcClientError,
    IrcMessage,
    IrcTestClient,
    Matcher,
    SaslError,
)
from govbot.testing.ircd.inspircd import InspircdAtheme
from govbot.testing.ircd.ngircd import NgircdServer
from govbot.testing.ircd.znc import ZncBouncer

__all__ = [
    "InspircdAtheme",
    "IrcClientError",
    "IrcMessage",
    "IrcServerError",
    "IrcTestClient",
    "Matcher",
    "MissingBinaryError",
    "NgircdServer",
    "SaslError",
    "ZncBouncer",
    "find_binary",
    "require_binaries",
    "require_binary",
]
