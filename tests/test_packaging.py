"""`pip install .` ships every package (plugins/ as govbot.plugins) and the command."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_packages() -> set[str]:
    # govbot/plugins is a link to plugins/: walk through it, as setuptools and Python do.
    found = set()
    for folder, _, files in os.walk(ROOT / "govbot", followlinks=True):
        if "__init__.py" in files:
            found.add(".".join(Path(folder).relative_to(ROOT).parts))
    return found


def test_the_package_list_covers_every_package() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    assert listed == source_packages()


def test_the_wheel_has_the_plugins_the_data_and_the_command(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, timeout=120,
                   capture_output=True)
    wheel = next(tmp_path.glob("govbot-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names
                            if n.endswith("entry_points.txt"))
    assert "govbot/plugins/announce/plugin.py" in names
    assert "govbot/py.typed" in names
    assert "govbot = govbot.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "plugins/")) for n in names)
