"""docs/deploy.md agrees with itself and with govbot: its settings example parses, and
its `docker run` line and compose example mount every path that example names."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from govbot.settings import parse_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def block(after: str, lang: str) -> str:
    """The first ```lang block after the text `after`."""
    text = DOC.read_text()
    assert after in text, after
    return text.split(after, 1)[1].split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def settings_paths() -> set[str]:
    text = block("Paths are the ones the container sees:", "yaml")
    settings = parse_settings(text, str(DOC), base=Path("/nonexistent"))
    assert settings.gerrit is not None and settings.irc is not None
    ssh = settings.gerrit.ssh
    assert ssh is not None
    assert settings.web.listen.startswith("0.0.0.0:")  # reachable through -p
    secrets = re.findall(r"\{file: ([^}\s]+)\}", text)
    return {"/etc/govbot/govbot.yaml", str(ssh.key_file), str(ssh.known_hosts_file),
            str(Path(settings.state.path).parent), *secrets}


def test_docker_run_mounts_what_the_settings_name() -> None:
    words = shlex.split(block("### With `docker run`", "sh").split("\ndocker logs")[0]
                        .split("docker run", 1)[1].replace("\\\n", " "))
    targets = {words[i + 1].split(":")[1] for i, w in enumerate(words) if w == "-v"}
    assert targets == settings_paths()


def test_compose_mounts_what_the_settings_name() -> None:
    compose = yaml.safe_load(block("`compose.yaml`, the bot alone", "yaml"))
    service = compose["services"]["govbot"]
    targets = {v.split(":")[1] for v in service["volumes"]}
    targets |= {f"/run/secrets/{name}" for name in service["secrets"]}
    assert targets == settings_paths()
    assert set(service["secrets"]) == set(compose["secrets"])
