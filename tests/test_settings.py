"""Operator settings: defaults, secrets, errors with FILE:LINE, docs in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govbot.plugin_loader import BUILTIN_PLUGINS, settings_types
from govbot.settings import SettingsError, load_settings, parse_settings, setting_keys

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(ROOT / "etc" / "govbot.yaml")
    # The git repository tools/example-config makes from etc/governance (docs/operations.md).
    assert settings.governance.repo == str(ROOT / ".example" / "governance")
    assert settings.gerrit is not None and settings.gerrit.own_username == "govbot"
    assert settings.irc is not None and settings.irc.sasl is not None
    monkeypatch.setenv("GOVBOT_IRC_PASSWORD", "s3cret-pass")
    assert settings.irc.sasl.password.resolve("irc.sasl.password") == "s3cret-pass"


def test_minimal_settings_get_documented_defaults(tmp_path: Path) -> None:
    settings = parse_settings("governance: {repo: gov}\n", "govbot.yaml", base=tmp_path)
    assert settings.gerrit is None and settings.irc is None
    assert settings.state.path == str(tmp_path / "state" / "govbot.db")
    assert settings.dispatcher.workers == 16 and settings.log.format == "text"


def test_every_setting_is_documented_with_its_default() -> None:
    """The core's settings and every built-in plugin's: a key missing from the docs,
    a stale one or a wrong default fails."""
    doc = (ROOT / "docs" / "settings.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.*]+)` \| ([^|]*?) \|", doc, re.M))
    expected = dict(setting_keys())
    for name, settings_type in settings_types(list(BUILTIN_PLUGINS)).items():
        expected |= dict(setting_keys(settings_type, f"plugins.settings.{name}."))
    assert rows == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("governance: {repo: x}\ngerrit:\n  url: u\n  colour: red\n",
     "govbot.yaml:4: unknown setting 'colour' (at gerrit.colour)"),
    ("governance:\n  repo: x\nirc:\n  host: h\n  port: many\n",
     "govbot.yaml:5: Expected `int`, got `str` (at irc.port)"),
    ("gerrit: {url: u}\n", "govbot.yaml:1: missing required setting 'governance'"),
    ("governance: {repo: x\n", "govbot.yaml:2: invalid YAML"),
    ("- a\n- b\n", "govbot.yaml:1: settings must be a mapping"),
])
def test_errors_name_the_file_and_line(text: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(text, "govbot.yaml", base=tmp_path)
    assert str(info.value).startswith(expected)


def test_missing_secret_names_the_setting(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    settings = parse_settings(
        "governance: {repo: x}\nweb: {webhook_secret: {env: NOPE_SECRET}}\n", "s.yaml",
        base=tmp_path)
    with pytest.raises(SettingsError, match=r"web\.webhook_secret: environment variable "
                                            r"NOPE_SECRET is not set"):
        settings.web.webhook_secret.resolve("web.webhook_secret")
    (tmp_path / "secret").write_text("from-a-file\n")
    settings = parse_settings(
        f"governance: {{repo: x}}\nweb: {{webhook_secret: {{file: {tmp_path}/secret}}}}\n",
        "s.yaml", base=tmp_path)
    assert settings.web.webhook_secret.resolve("web.webhook_secret") == "from-a-file"
