"""Operator settings (`govbot.yaml`): where Gerrit, IRC and the config repo are.

Secrets never live in the YAML: a secret setting names an environment variable
(`password_env: GOVBOT_GERRIT_PASSWORD`) or a file (`password_file:
/run/secrets/gerrit`). Every setting, with its default, is in docs/settings.md;
`tests/test_settings.py` checks that the two agree.

`plugins.settings.<name>` belongs to a plugin: each enabled plugin declares its
type (`Plugin.settings_type`), and loading the file checks every plugin's settings
against it. Every problem found is reported at once, each as `FILE:LINE: message`
with the fix (an unknown key names the nearest known one).
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from govbot.config.layout import GovernanceLayout
from govbot.settings_check import Where


class SettingsError(Exception):
    """The settings file cannot be used; each message names the file, line and fix."""

    def __init__(self, *errors: str) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


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
    # The server password (PASS): a bouncer's login, e.g. ZNC's "user/network:password".
    password: SecretRef = msgspec.field(default_factory=SecretRef)
    channels: list[str] = msgspec.field(default_factory=list)
    command_prefix: str = "!"
    rate: IrcRate = msgspec.field(default_factory=IrcRate)


class GovernanceLayoutSettings(_S, kw_only=True):
    """Where the repo keeps its community files ("": the usual places; docs/config.md)."""

    projects: str = ""
    tc_repos: str = ""
    sigs_repos: str = ""
    members: str = ""
    legacy: str = ""

    def as_layout(self) -> GovernanceLayout:
        return GovernanceLayout(projects=self.projects, tc_repos=self.tc_repos,
                                sigs_repos=self.sigs_repos, members=self.members,
                                legacy=self.legacy)


class GovernanceRepo(_S, kw_only=True):
    repo: str  # a URL, or a local path to a git repository or a plain directory
    branch: str = "master"
    subdir: str = ""
    poll_interval: float = 300.0
    layout: GovernanceLayoutSettings = msgspec.field(default_factory=GovernanceLayoutSettings)


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
    # The header a reverse proxy sets to the authenticated user (e.g. X-Forwarded-User);
    # set, the plugins' pages answer 401 to a request without it. None: public.
    auth_header: str | None = None
    webhook_secret: SecretRef = msgspec.field(default_factory=SecretRef)


class DispatcherSettings(_S, kw_only=True):
    workers: int = 16
    max_pending: int = 10_000
    handler_timeout: float = 60.0
    # A plugin call failing transiently (Gerrit 5xx/timeouts, the database busy) is
    # tried this often, with backoff between these delays, before its event is parked.
    retry_attempts: int = 8
    retry_min_delay: float = 1.0
    retry_max_delay: float = 60.0


class LogSettings(_S, kw_only=True):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class PluginsSection(_S, kw_only=True):
    enabled: list[str] | None = None  # None: every built-in plugin
    # name -> that plugin's settings as written; checked against its settings_type
    # when the file is loaded (`check_plugin_settings` turns them into its type).
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
    plugins: PluginsSection = msgspec.field(default_factory=PluginsSection)

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


#: The settings type of each enabled plugin, given `plugins.enabled` (None: the
#: built-ins); raises PluginError for a name that is no plugin.
PluginTypes = Callable[[Sequence[str] | None], Mapping[str, type[msgspec.Struct]]]

def load_settings(path: Path, *, plugin_types: PluginTypes | None = None) -> Settings:
    """Read and validate a settings file; raise SettingsError naming FILE:LINE."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc.strerror}") from None
    return parse_settings(text, str(path), base=path.parent, plugin_types=plugin_types)


def parse_settings(text: str, filename: str, *, base: Path,
                   plugin_types: PluginTypes | None = None) -> Settings:
    """Parse and check settings, the enabled plugins' own included; SettingsError lists
    every problem. `plugin_types` defaults to the plugin loader's."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = str(getattr(exc, "problem", exc))
        lines = text.splitlines()
        bad_line = lines[line - 1] if mark and line <= len(lines) else ""
        if "\t" in bad_line[: mark.column + 1 if mark else None]:
            problem += "; indent with spaces, YAML does not allow tabs"
        raise SettingsError(f"{filename}:{line}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{filename}:1: settings must be a mapping with at least "
                            "a 'governance:' section")
    where = Where(filename, node)
    errors = where.check(data, Settings, [])
    # The plugins' settings are checked even when other sections have errors (if the
    # `plugins:` section itself reads), so that one run lists every problem.
    plugins = where.convert(data.get("plugins") or {}, PluginsSection, ["plugins"], [])
    if plugins is not None:
        # Imported here: the loader imports the plugin API, which must not need settings.
        from govbot.plugin import PluginError
        from govbot.plugin_loader import available_plugins, settings_types

        try:
            enabled = (plugin_types or settings_types)(plugins.enabled)
        except PluginError as exc:
            errors.append(where.error(["plugins", "enabled"], str(exc)))
        else:
            known = available_plugins() if plugin_types is None else enabled
            errors += where.plugin_errors(plugins.settings, enabled, known)
    settings = None if errors else where.convert(data, Settings, [], errors)
    if settings is None:
        raise SettingsError(*sorted(errors, key=where.line_of_error))
    return settings.resolve_paths(base)


def check_plugin_settings(raw: Mapping[str, Mapping[str, Any]],
                          types: Mapping[str, type[msgspec.Struct]], *,
                          filename: str = "settings") -> dict[str, msgspec.Struct]:
    """Each plugin's settings (`types`: name -> its settings type) as that type, its
    defaults where `raw` has none; SettingsError for any problem. The daemon uses it on
    settings `parse_settings` already checked, so there it only converts."""
    where = Where(filename, None)
    errors = where.plugin_errors(raw, types, types)
    if errors:
        raise SettingsError(*errors)
    found: dict[str, msgspec.Struct] = {}
    for name, settings_type in types.items():
        converted = where.convert(dict(raw.get(name) or {}), settings_type,
                                  ["plugins", "settings", name], errors)
        if converted is None:
            raise SettingsError(*errors)
        found[name] = converted
    return found


def setting_keys(struct: type[msgspec.Struct] = Settings,
                 prefix: str = "") -> list[tuple[str, str]]:
    """Every leaf setting as (dotted.key, default as written in docs/settings.md)."""
    keys: list[tuple[str, str]] = []
    for f in msgspec.structs.fields(struct):
        name = prefix + f.name
        if typing.get_origin(f.type) is dict:
            # A mapping of structs (a setting per channel, say): its keys as `name.*.key`.
            values = typing.get_args(f.type)[1]
            if isinstance(values, type) and issubclass(values, msgspec.Struct):
                keys += setting_keys(values, name + ".*.")
                continue
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
