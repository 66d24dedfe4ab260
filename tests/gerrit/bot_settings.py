"""The settings a test daemon needs to reach the Gerrit emulator as the bot account.

One place for what every end-to-end kit writes (the bot's SSH key and HTTP password,
the emulator's addresses, fast reconnects and retries, a state directory under `tmp`);
each kit appends its own sections (irc, zuul, web, plugins).
"""

from __future__ import annotations

from pathlib import Path

from govbot.testing.gerrit import GerritEmulator
from govbot.testing.gerrit.model import Account


def bot_gerrit_settings(emu: GerritEmulator, bot: Account, tmp: Path, config_repo: str) -> str:
    """`governance:`, `gerrit:` and `state:` for a daemon voting as `bot`, its config repo
    the emulator's `config_repo`; writes the bot's key and password files into `tmp`."""
    emu.generate_ssh_key(bot).write_private_key(str(tmp / "key"))
    (tmp / "pw").write_text(bot.http_password)
    repo = emu.base_dir / "git" / f"{config_repo}.git"
    return (f"governance: {{repo: {repo}, poll_interval: 0}}\n"
            f"gerrit:\n  url: {emu.http_url}\n  retry_delay: 0.02\n"
            f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot, "
            f"key_file: {tmp}/key, known_hosts_file: {emu.known_hosts_path}, "
            f"reconnect_min_delay: 0.05}}\n"
            f"  http: {{username: govbot, password: {{file: {tmp}/pw}}}}\n"
            f"state: {{path: {tmp}/state/db, workdir: {tmp}/state/work}}\n")
