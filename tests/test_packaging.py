"""The tree imports as it lies, and `pip install .` (or the Dockerfile) ships all of it.

plugins/ is installed as govbot.plugins; in a checkout govbot/plugins is a symbolic
link to ../plugins, so Python, mypy and the tests import the source tree exactly as
the installed package, and setuptools follows the link to put regular files in the
wheel.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def source_packages() -> set[str]:
    # govbot/plugins is a link to plugins/: walk through it, as setuptools and Python do.
    found = set()
    for folder, _, files in os.walk(ROOT / "govbot", followlinks=True):
        if "__init__.py" in files:
            found.add(".".join(Path(folder).relative_to(ROOT).parts))
    return found


def plugin_files() -> set[str]:
    """Every file of plugins/ (code and templates), as the wheel names it."""
    return {"govbot/plugins/" + str(p.relative_to(ROOT / "plugins"))
            for p in (ROOT / "plugins").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> str:
    """Run a command; its stdout, or a failure that shows what it said."""
    done = subprocess.run(args, cwd=cwd, env=env, timeout=timeout, capture_output=True,
                          text=True)
    assert done.returncode == 0, f"{shlex.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def build_wheel(source: Path, out: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)])
    return next(out.glob("govbot-*.whl"))


def test_the_package_list_covers_every_package() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    assert listed == source_packages()


def test_govbot_plugins_is_a_link_to_the_plugins_folder() -> None:
    link = ROOT / "govbot" / "plugins"
    assert link.is_symlink() and os.readlink(link) == "../plugins"
    if (ROOT / ".git").exists():  # a checkout: git must store the link, not a copy
        staged = run(["git", "-C", str(ROOT), "ls-files", "-s", "govbot/plugins"])
        assert staged.startswith("120000 "), staged


def test_the_source_tree_imports_the_plugins_from_plugins() -> None:
    # What a fresh checkout gives before any install: the current directory first.
    code = ("import govbot.plugins.governance.plugin as m, os; "
            "print(os.path.realpath(m.__file__))")
    out = run([sys.executable, "-c", code], cwd=ROOT).strip()
    assert out == str(ROOT / "plugins" / "governance" / "plugin.py")


def test_the_wheel_has_the_plugins_the_data_and_the_command(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT, tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        links = [i.filename for i in zf.infolist() if stat.S_ISLNK(i.external_attr >> 16)]
        entry_points = next(zf.read(n).decode() for n in names
                            if n.endswith("entry_points.txt"))
    assert plugin_files() - names == set()
    assert "govbot/plugins/meetings/templates/web_meeting.html.j2" in names
    assert "govbot/py.typed" in names
    assert links == []  # regular files, whatever the checkout's link
    assert "govbot = govbot.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "plugins/", "docs/")) for n in names)


def _dockerfile_build_copies() -> list[tuple[list[str], str]]:
    """The build stage's (`FROM ... AS build`) `COPY SRC... DEST` lines (DEST relative
    to its WORKDIR)."""
    copies = []
    in_build = False
    for line in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        instruction = line.split(maxsplit=1)[0].upper() if line.strip() else "#"
        if instruction == "FROM":
            in_build = line.split()[-2:] in (["AS", "build"], ["as", "build"])
        elif in_build and instruction == "COPY":
            words = shlex.split(line, comments=True)
            assert not any(w.startswith("--") for w in words), line
            copies.append((words[1:-1], words[-1]))
    return copies


def test_the_dockerfiles_copies_build_a_wheel_that_imports(tmp_path: Path) -> None:
    """What the build stage copies is enough: the wheel built from it installs and
    loads every built-in plugin. (Copied the way COPY does: a link stays a link.)"""
    context = tmp_path / "src"
    context.mkdir()
    copies = _dockerfile_build_copies()
    assert copies, "no COPY in the Dockerfile's build stage"
    for sources, dest in copies:
        target = context / dest
        for name in sources:
            src = ROOT / name
            if src.is_dir():  # COPY copies a folder's contents, not the folder
                shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__"))
            elif dest.endswith("/") or len(sources) > 1:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / src.name)
            else:
                shutil.copy2(src, target)
    wheel = build_wheel(context, tmp_path / "wheels")
    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)])
    code = ("import govbot, os; from govbot.plugin_loader import load_plugins; "
            "print(os.path.dirname(govbot.__file__)); "
            "print(' '.join(p.name for p in load_plugins()))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = run([sys.executable, "-c", code], cwd=tmp_path, env=env).splitlines()
    assert out[0] == str(site / "govbot")  # the installed copy, not the checkout
    assert out[1] == "governance announce meetings reminders elections"
    assert (site / "govbot" / "plugins" / "meetings" / "templates" / "web_base.html.j2").is_file()


def test_mypy_ignores_missing_imports_only_for_named_untyped_libraries() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy.get("strict") is True
    assert "ignore_missing_imports" not in mypy
    for override in mypy.get("overrides", []):
        if override.get("ignore_missing_imports"):
            modules = override["module"]
            for module in [modules] if isinstance(modules, str) else modules:
                assert module.split(".")[0] not in ("govbot", "plugins", "tests", "*"), module


def test_ruff_reads_each_plugin_file_once() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this Python")
    listed = run([str(ruff), "check", "--show-files", "."], cwd=ROOT).splitlines()
    through_link = [f for f in listed if "/govbot/plugins/" in f]
    assert through_link == []
    assert any("/plugins/governance/plugin.py" in f for f in listed)
