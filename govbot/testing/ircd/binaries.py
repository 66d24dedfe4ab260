"""Finding the IRC server binaries, and skipping (or failing, in CI) when they are missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Binary -> Debian package that ships it.
PACKAGES: dict[str, str] = {
    "ngircd": "ngircd",
    "inspircd": "inspircd",
    "atheme-services": "atheme-services",
    "znc": "znc",
}

# ngircd and inspircd live in /usr/sbin, which is not on a regular user's PATH on Debian.
_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


class IrcServerError(RuntimeError):
    """An IRC server could not be started or stopped as expected."""


class MissingBinaryError(IrcServerError):
    """A server binary is not installed."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name!r} is not installed; {install_hint(name)}")


def install_hint(*names: str) -> str:
    packages = " ".join(sorted({PACKAGES.get(n, n) for n in names or PACKAGES}))
    return (
        f"install it with: sudo apt-get update && "
        f"sudo apt-get install -y --no-install-recommends {packages} "
        f"(or run tools/install-system-deps)"
    )


def find_binary(name: str) -> str | None:
    """The absolute path of `name`, looking on PATH and in the sbin directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require_binary(name: str) -> str:
    """The path of `name`, or MissingBinaryError naming the apt-get command."""
    path = find_binary(name)
    if path is None:
        raise MissingBinaryError(name)
    return path


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_binaries(*names: str) -> None:
    """In a pytest test or fixture: skip when a binary is missing, but fail under CI=true.

    CI must never silently skip the tests against real servers, so a missing binary there
    is a failure that names the install command.
    """
    import pytest  # imported here so the kit does not need pytest outside tests

    missing = [n for n in names if find_binary(n) is None]
    if not missing:
        return
    message = f"missing IRC server binaries: {', '.join(missing)}; {install_hint(*missing)}"
    if _in_ci():
        pytest.fail(f"{message} (CI=true: refusing to skip)", pytrace=False)
    pytest.skip(message)
