"""Operator settings (`govbot.yaml`): where Gerrit, IRC and the config repo are.

Secrets never live in the YAML: a secret setting names an environment variable
(`password_env: GOVBOT_GERRIT_PASSWORD`) or a file (`password_file:
/run/secrets/gerrit`). Every setting, with its default, is in docs/settings.md;
`tests/test_settings.py` checks that the two agree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml


class SettingsError(Exception):
    """The settings file cannot be used; the message names the file, line and fix."""


class _S(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class SecretRef(_S, kw_only=True):
    """Where a secret comes from: an environment variable or a file (first line)."""

    env: str | None = None
    file: str | None = None

    def resolve(self, what: str) -> str | None:
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise SettingsError(f"{what}: environment variable {self.env} is not set")
            return value
        if self.file:
            try:
                return Path(self.file).read_text().strip()
            except OSError as exc:
                raise SettingsError(f"{what}: cannot read secret file {self.file}: "
                                    f"{exc.strerror}") from None
        return None


class GerritSsh(_S, kw_only=True):
    host: str
    port: int = 29418
    username: str
    key_file: str
    known_hosts_file: str | None = None  # None: accept and pin the first key seen
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    connect_timeout: float = 15.0
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    max_line_bytes: int = 64 * 1024 * 1024  # longer stream lines are counted and dropped


class GerritHttp(_S, kw_only=True):
    username: str
    password: SecretRef = msgspec.field(default_factory=SecretRef)


class GerritSettings(_S, kw_only=True):
    url: str  # web and REST base URL, e.g. https://review.opendev.org
    ssh: GerritSsh | None = None
    http: GerritHttp | None = None
    events_log: Literal["auto", "yes", "no"] = "auto"
    events_log_limit: int = 5000  # the server's events-log `returnLimit`
    catchup_max_delay: float = 60.0  # longest wait between tries to read a gap
    settle_delay: float = 0.0
    request_timeout: float = 30.0
    retry_delay: float = 0.5
    bot_username: str | None = None  # events by this account are ignored

    @property
    def own_username(self) -> str | None:
        """The bot's Gerrit account: set explicitly, else the SSH or HTTP user."""
        if self.bot_username:
            return self.bot_username
        if self.ssh:
            return self.ssh.username
        return self.http.username if self.http else None


class IrcSasl(_S, kw_only=True):
    mechanism: Literal["PLAIN", "EXTERNAL"] = "PLAIN"
    username: str | None = None
    password: SecretRef = msgspec.field(default_factory=SecretRef)
    cert_file: str | None = None


class IrcRate(_S, kw_only=True):
    burst: int = 5
    per_second: float = 1.0


class IrcSettings(_S, kw_only=True):
    host: str
    port: int = 6697
    tls: bool = True
    tls_verify: bool = True
    nick: str = "govbot"
    alt_nicks: list[str] = msgspec.field(default_factory=list)
    realname: str = "govbot governance bot"
    sasl: IrcSasl | None = None
    nickserv_password: SecretRef = msgspec.field(default_factory=SecretRef)
    channels: list[str] = msgspec.field(default_factory=list)
    command_prefix: str = "!"
    rate: IrcRate = msgspec.field(default_factory=IrcRate)


class GovernanceRepo(_S, kw_only=True):
    repo: str  # a URL, or a local path to a git repository or a plain directory
    branch: str = "master"
    subdir: str = ""
    poll_interval: float = 300.0


class ZuulSettings(_S, kw_only=True):
    url: str  # Zuul's web root, e.g. https://zuul.opendev.org (the API is under /api/)
    tenant: str
    connect_timeout: float = 2.0
    request_timeout: float = 5.0  # a slow Zuul must not hold up a verdict for long
    cache_seconds: float = 10.0
    gerrit_username: str = "zuul"  # the account Zuul votes and comments as in Gerrit
    verified_label: str = "Verified"  # the label Zuul votes on


class StateSettings(_S, kw_only=True):
    path: str = "state/govbot.db"
    workdir: str = "state/work"  # config repo checkout and other scratch space


class WebSettings(_S, kw_only=True):
    listen: str = "127.0.0.1:8080"
    public_url: str | None = None
    webhook_secret: SecretRef = msgspec.field(default_factory=SecretRef)


class DispatcherSettings(_S, kw_only=True):
    workers: int = 16
    max_pending: int = 10_000
    handler_timeout: float = 60.0


class LogSettings(_S, kw_only=True):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class PluginSettings(_S, kw_only=True):
    enabled: list[str] | None = None  # None: every built-in plugin
    settings: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)


class Settings(_S, kw_only=True):
    governance: GovernanceRepo
    gerrit: GerritSettings | None = None
    irc: IrcSettings | None = None
    zuul: ZuulSettings | None = None
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)
    dispatcher: DispatcherSettings = msgspec.field(default_factory=DispatcherSettings)
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    plugins: PluginSettings = msgspec.field(default_factory=PluginSettings)

    def resolve_paths(self, base: Path) -> Settings:
        """Relative paths in the settings are relative to the settings file."""
        def rel(p: str) -> str:
            return p if os.path.isabs(p) or _is_url(p) else str((base / p).resolve())
        state = msgspec.structs.replace(self.state, path=rel(self.state.path),
                                        workdir=rel(self.state.workdir))
        governance = msgspec.structs.replace(self.governance, repo=rel(self.governance.repo))
        return msgspec.structs.replace(self, state=state, governance=governance)


def _is_url(value: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", value)) or value.startswith("git@")


def load_settings(path: Path) -> Settings:
    """Read and validate a settings file; raise SettingsError naming FILE:LINE."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc.strerror}") from None
    return parse_settings(text, str(path), base=path.parent)


def parse_settings(text: str, filename: str, *, base: Path) -> Settings:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SettingsError(f"{filename}:{line}: invalid YAML: "
                            f"{getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{filename}:1: settings must be a mapping with at least "
                            "a 'governance:' section")
    try:
        settings = msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        message, path = _split_msgspec_error(str(exc))
        line = _line_of(node, path)
        where = f" (at {'.'.join(path)})" if path else ""
        raise SettingsError(f"{filename}:{line}: {_friendly(message)}{where}; "
                            "see docs/settings.md") from None
    return settings.resolve_paths(base)


def _split_msgspec_error(text: str) -> tuple[str, list[str]]:
    message, _, where = text.partition(" - at `")
    path = re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", where.rstrip("`"))
    keys = [a or b for a, b in path]
    unknown = re.search(r"unknown field `([^`]+)`", message)
    if unknown:
        keys.append(unknown.group(1))
    return message, keys


def _friendly(message: str) -> str:
    message = re.sub(r"Object contains unknown field `([^`]+)`", r"unknown setting '\1'", message)
    return re.sub(r"Object missing required field `([^`]+)`", r"missing required setting '\1'",
                  message)


def _line_of(node: yaml.Node | None, path: list[str]) -> int:
    """The line of the deepest node along `path` that exists (1-based)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def setting_keys(struct: type[msgspec.Struct] = Settings,
                 prefix: str = "") -> list[tuple[str, str]]:
    """Every leaf setting as (dotted.key, default as written in docs/settings.md)."""
    keys: list[tuple[str, str]] = []
    for f in msgspec.structs.fields(struct):
        name = prefix + f.name
        nested = [a for a in (*getattr(f.type, "__args__", ()), f.type)
                  if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        if nested and nested[0] is not SecretRef:
            keys += setting_keys(nested[0], name + ".")
            continue
        if f.default is not msgspec.NODEFAULT:
            default = ("none" if f.default is None else '""' if f.default == ""
                       else str(f.default).lower() if isinstance(f.default, bool)
                       else str(f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            default = "none" if f.default_factory is SecretRef else "empty"
        else:
            default = "required"
        keys.append((name, default))
    return keys
