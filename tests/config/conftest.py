"""Fixtures for config tests: a config repo written into tmp_path, loaded in one call."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from govbot.config.loader import LoadResult, load_config
from govbot.config.sections import ConfigSection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

# A small valid core config that most tests extend.
PEOPLE = """\
- id: alice
  name: Alice Anders
  gerrit: {username: alice, account_id: 1001, email: alice@example.org}
  irc: {account: alice, nick: alice}
- id: bob
  name: Bob Brown
  gerrit: {username: bob, account_id: 1002, emails: [bob@example.org]}
  irc: {account: bob, nick: bobby}
- id: carol
  name: Carol Chen
  gerrit: {username: carol, email: carol@example.org}
"""

Writer = Callable[..., Path]
Loader = Callable[..., LoadResult]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """write(name=text, ...) into the repo root (text is dedented); returns the root."""

    def _write(**files: str) -> Path:
        for name, text in files.items():
            path = tmp_path / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return _write


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    """Load tmp_path as a config repo with the given plugin sections."""

    def _load(sections: Sequence[tuple[str, ConfigSection]] = (), **kw: str) -> LoadResult:
        return load_config(tmp_path, sections, **kw)

    return _load


def errors_of(result: LoadResult) -> list[str]:
    return [str(e) for e in result.errors]


def shared_data() -> Path:
    """The real openstack/governance files; skip without them unless CI=true.

    Looked for in $GOVBOT_SHARED_DATA, then next to the checkout (`../shared/data`,
    where CI puts it), then in /work/shared/data (a worktree's checkout has no
    `shared/` beside it).
    """
    candidates = [Path(os.environ["GOVBOT_SHARED_DATA"])] if os.environ.get(
        "GOVBOT_SHARED_DATA") else []
    candidates += [SHARED_DATA, Path("/work/shared/data")]
    for base in candidates:
        folder = base / "openstack-governance"
        if folder.is_dir():
            return folder
    shown = ", ".join(str(c / "openstack-governance") for c in candidates)
    if os.environ.get("CI") == "true":
        pytest.fail(f"the shared data is missing (looked in {shown}); CI must provide it")
    pytest.skip(f"the shared data is absent (looked in {shown})")
