"""Plugins contribute `govbot` subcommands; the core lists them and refuses clashes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from govbot.actions import WriteMinutes
from govbot.extensions import CliCommand, CliContext, CliError
from govbot.plugin import Plugin
from govbot.plugin_loader import (
    BUILTIN_CLI_COMMANDS,
    BUILTIN_PLUGINS,
    available_cli_commands,
    available_plugins,
    load_plugins,
    may_declare_plugins,
)
from tests.clikit import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "etc" / "governance"


def _people_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path)
    parser.add_argument("--write", type=Path, default=None)


async def _people(args: argparse.Namespace, ctx: CliContext) -> int:
    """Count the people of a governance config; with --write, write a file through the
    core's minutes reporter."""
    loaded = await ctx.governance(directory=args.directory, own_sections=True)
    if loaded.config is None:
        raise CliError(f"{args.directory} does not load", status=1)
    print(f"{ctx.plugin}: {len(loaded.config.people)} people")
    if args.write:
        action = WriteMinutes(meeting="people", files={"people.txt": "many\n"},
                              directory=str(args.write))
        for written in await ctx.carry_out(action):
            print(written)
    return 0


class People(Plugin):
    """A third plugin, with a subcommand of its own."""

    name = "people"

    def __init__(self, commands: Sequence[CliCommand] | None = None) -> None:
        self._commands = commands

    def cli_commands(self) -> Sequence[CliCommand]:
        if self._commands is not None:
            return self._commands
        return [CliCommand("people", "count the people of a governance config",
                           _people_arguments, _people)]


def test_a_third_plugin_offers_a_subcommand(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("people", EXAMPLE, "--write", tmp_path / "out", plugins=[People()]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("people: ") and out[0].endswith(" people")
    assert int(out[0].split()[1]) > 0
    assert out[1] == str(tmp_path / "out" / "people.txt")
    assert (tmp_path / "out" / "people.txt").read_text() == "many\n"


def test_a_subcommands_cli_error_is_its_exit_status(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "people.yaml").write_text("- id: x\n  nmae: X\n")
    assert run_cli("people", tmp_path, plugins=[People()]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path} does not load\n"


def test_a_subcommand_may_only_read_a_state_database_that_exists(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "state.db"
    assert run_cli("minutes", "list", "--state", missing) == 2
    assert "no state database there" in capsys.readouterr().err
    assert not missing.exists()


def test_only_the_subcommands_of_the_given_plugins_are_offered(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli("status", "--config", "x.yaml", plugins=[People()])
    assert "invalid choice: 'status'" in capsys.readouterr().err


@pytest.mark.parametrize(("plugins", "message"), [
    ([People([CliCommand("run", "mine", _people_arguments, _people)])],
     "error: plugin 'people' offers the subcommand 'run', which is the core's\n"),
    ([People(), *load_plugins(["governance"]),
      type("Other", (People,), {"name": "other"})()],
     "error: the subcommand 'people' is offered by both 'people' and 'other'\n"),
])
def test_a_clash_is_refused_with_a_clear_message(plugins: list[Plugin], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("version", plugins=plugins) == 2
    assert capsys.readouterr().err == message


def test_help_lists_the_plugins_subcommands() -> None:
    result = subprocess.run([sys.executable, "-m", "govbot", "--help"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()
              if line.startswith("    ") and line.split()}
    assert {"status", "tally", "minutes", "ical"} <= listed
    assert {"run", "check-config", "replay", "demo", "version"} <= listed


def test_help_does_not_import_the_plugins() -> None:
    # Listing subcommands reads the light COMMANDS modules only (the budget of
    # `govbot --help` is 0.3 s; importing every plugin costs about that alone).
    code = ("import sys; from govbot import cli; cli.plugin_commands(); "
            "print(sorted(m for m in sys.modules if m.endswith('.plugin') "
            "and m.startswith('govbot.plugins.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


#: What `govbot minutes LOG` (budget 0.4 s, whole process) must not import: the
#: plugin API's runtime, the settings, the state store, the templates' engine,
#: importlib.metadata while no distribution declares a plugin (none in the test venv),
#: and asyncio (it runs without a loop: CliCommand.loopless).
NOT_FOR_MINUTES = ("govbot.plugin", "govbot.context", "govbot.settings", "govbot.state.store",
                   "msgspec", "yaml", "sqlite3", "jinja2", "git", "importlib.metadata",
                   "asyncio")


def test_minutes_of_a_log_import_only_what_they_need(tmp_path: Path) -> None:
    log = ROOT / "tests" / "meetings" / "data" / "rich-2026-11-19.log.txt"
    code = ("import sys; from govbot import cli; "
            f"rc = cli.main(['minutes', {str(log)!r}, '--out', {str(tmp_path)!r}]); "
            f"print(rc, [m for m in {NOT_FOR_MINUTES!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"
    assert len(list(tmp_path.glob("meetings/*/2026/*.log.html"))) == 1


def test_help_imports_no_state_store_and_no_settings() -> None:
    code = ("import sys; from govbot import cli; cli.build_parser(cli.plugin_commands()); "
            f"print([m for m in {NOT_FOR_MINUTES!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_plugin_declared_by_a_distribution_on_sys_path_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not may_declare_plugins()  # the test venv has no third-party plugin
    info = tmp_path / "govbot_example-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: govbot-example\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[govbot.plugins]\nexample = example:Plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert may_declare_plugins()
    assert available_plugins()["example"] == "example:Plugin"


def test_the_loaders_table_is_what_each_built_in_plugin_offers() -> None:
    for plugin in load_plugins(list(BUILTIN_PLUGINS)):
        from_table = [c for name, c in available_cli_commands() if name == plugin.name]
        assert list(plugin.cli_commands()) == from_table, plugin.name
        assert bool(from_table) == (plugin.name in BUILTIN_CLI_COMMANDS)


def test_the_core_commands_are_the_ones_plugins_may_not_take() -> None:
    from govbot.cli import CORE_COMMANDS, build_parser

    parser = build_parser(())
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(CORE_COMMANDS)


def test_a_loopless_subcommand_runs_without_an_event_loop_and_may_carry_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def write(args: argparse.Namespace, ctx: CliContext) -> int:
        action = WriteMinutes(meeting="m", files={"m.txt": "minutes\n"},
                              directory=str(args.directory))
        for written in await ctx.carry_out(action):
            print(written)
        return 3

    command = CliCommand("write", "write a file", _people_arguments, write,
                         loopless=lambda args: True)
    assert run_cli("write", tmp_path, plugins=[People([command])]) == 3
    assert capsys.readouterr().out == f"{tmp_path / 'm.txt'}\n"
    assert (tmp_path / "m.txt").read_text() == "minutes\n"


def test_a_loopless_subcommand_that_waits_fails_naming_itself(tmp_path: Path) -> None:
    async def waits(args: argparse.Namespace, ctx: CliContext) -> int:
        import asyncio

        await asyncio.sleep(0)
        return 0

    command = CliCommand("waits", "waits on a loop", _people_arguments, waits,
                         loopless=lambda args: True)
    with pytest.raises(RuntimeError, match="govbot waits: declared loopless"):
        run_cli("waits", tmp_path, plugins=[People([command])])
