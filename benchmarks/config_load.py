#!/usr/bin/env python3
"""Start-up cost of a big governance config repo: load and validate it.

Generates a config repo with 1,000 projects (100 teams of 10 repositories in an
openstack-style projects.yaml, 600 people, 30 bodies, a rule per team) and
times `load_config` with every built-in plugin's sections, best of 3.
Run: `python benchmarks/config_load.py [--projects 1000]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from govbot.config.loader import load_config
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins


def generate(root: Path, projects: int) -> None:
    teams = max(1, projects // 10)
    people = [{"id": f"p{i}", "name": f"Person {i}",
               "gerrit": {"username": f"user{i}", "account_id": 2_000_000 + i,
                          "email": f"user{i}@example.org"},
               "irc": {"account": f"user{i}", "nick": f"user{i}"}} for i in range(600)]
    bodies = {f"body{b}": {"name": f"Body {b}", "label": "Code-Review",
                           "members": [f"p{(b * 20 + k) % 600}" for k in range(20)]}
              for b in range(30)}
    project_file = {f"team{t}": {
        "ptl": {"name": f"Person {t}", "irc": f"user{t}", "email": f"user{t}@example.org"},
        "leadership_type": "ptl",
        "deliverables": {f"d{t}-{d}": {"repos": [f"example/team{t}-repo{d}"]}
                         for d in range(projects // teams)}} for t in range(teams)}
    rules = {"rules": {f"team{t}": {
        "description": f"team {t} changes need two core votes",
        "select": {"projects": [f"^example/team{t}-.*"]},
        "body": f"body{t % 30}",
        "require": [{"yes_votes": 2}, {"no_objection": True}]} for t in range(teams)}}
    for name, data in (("people.yaml", people), ("bodies.yaml", bodies),
                       ("projects.yaml", project_file), ("rules.yaml", rules)):
        (root / name).write_text(yaml.safe_dump(data, sort_keys=False))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=1000)
    args = ap.parse_args()
    sections = PluginRegistry(load_plugins(None)).config_sections()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.projects)
        size = sum(p.stat().st_size for p in root.iterdir())
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = load_config(root, sections)
            times.append(time.perf_counter() - started)
        if result.config is None:
            print("\n".join(map(str, result.errors[:10])))
            return 1
    print(f"config repo with {args.projects} projects ({size / 1e6:.1f} MB of YAML, "
          f"{len(result.config.people)} people, {len(result.config.bodies)} bodies): "
          f"loaded and validated in {min(times):.2f} s (best of 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
