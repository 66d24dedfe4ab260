"""The Docker engine, a locally made Debian 12 base image, and govbot's image, for tests.

No public image registry is reachable where govbot is tested, so the Dockerfile's
default base (an official Python image) cannot be pulled. Instead:

- `ensure_engine()` installs Debian's `docker.io` when the engine is missing and starts
  `dockerd` when none answers;
- `base_image()` makes a Debian 12 tree with debootstrap from the Debian archive this
  machine's apt uses (python3, python3-venv, git, openssh-client), and `docker import`s
  it; the tree is kept as a tarball in the cache directory and the image stays tagged,
  so only the first run pays for debootstrap;
- `build_image()` builds the Dockerfile on that base (`--build-arg BASE=...`), on the
  host's network, with the host's pip settings passed as build args, so pip in the
  build reaches the package index the way pip on the host does.

    python -m govbot.testing.container build      # prints the image's tag

Used by tests/container/ and by anyone who wants the image on such a machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Bump when the base's recipe changes, so a stale cached base is not reused.
BASE_VERSION = "1"
BASE_TAG = f"govbot-test-base:bookworm-{BASE_VERSION}"
IMAGE_TAG = "govbot:test"
BASE_PACKAGES = ("python3", "python3-venv", "git", "openssh-client", "ca-certificates")
# pip settings that mean the same inside the build as on the host; find-links and
# file:// indexes name host paths, which the build cannot see.
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "cert", "default-timeout")


class EngineError(RuntimeError):
    """The Docker engine is missing and could not be installed or started."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "govbot" / "container"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run(args: Sequence[str], *, check: bool = True, quiet: bool = False,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if not quiet:
        print("+ " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(list(args), check=check, text=True, timeout=timeout,
                          capture_output=quiet, stdin=subprocess.DEVNULL,
                          env=dict(env) if env is not None else None)


def docker(*args: str, check: bool = True, quiet: bool = True,
           timeout: float | None = 120) -> subprocess.CompletedProcess[str]:
    # The classic builder: Debian's docker.io has no buildx, and a newer docker CLI on
    # PATH would otherwise insist on BuildKit.
    cli = shutil.which("docker") or "/usr/bin/docker"
    return run([cli, *args], check=check, quiet=quiet, timeout=timeout,
               env={**os.environ, "DOCKER_BUILDKIT": "0"})


def engine_answers() -> bool:
    if shutil.which("docker") is None and not Path("/usr/bin/docker").exists():
        return False
    try:
        return docker("info", check=False, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise EngineError(f"not root: install {' '.join(packages)} with apt-get as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update"],
                 ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
        print("+ " + " ".join(args), file=sys.stderr, flush=True)
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise EngineError(f"{' '.join(args)} failed with exit code {done.returncode}")


def ensure_engine(timeout: float = 60) -> None:
    """A Docker engine that answers: Debian's docker.io installed and dockerd started
    when needed. Raises EngineError saying what failed."""
    if engine_answers():
        return
    if shutil.which("dockerd") is None and not Path("/usr/sbin/dockerd").exists():
        apt_install("docker.io")
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if os.geteuid() != 0:
        raise EngineError("no Docker engine answers and dockerd needs root to start")
    log = cache_dir() / "dockerd.log"
    print(f"+ {dockerd} (log: {log})", file=sys.stderr, flush=True)
    # Its own session, so it outlives the test run that started it (the next run reuses
    # it) and no terminal signal reaches it.
    with log.open("ab") as out:
        proc = subprocess.Popen([dockerd], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while not engine_answers():
        if proc.poll() is not None:
            raise EngineError(f"dockerd exited with {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise EngineError(f"dockerd did not answer within {timeout:.0f} s; see {log}")
        time.sleep(0.2)


def debian_mirror() -> str:
    """The Debian archive this machine's apt uses (so debootstrap goes where apt goes)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        for line in listing.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return next(p for p in parts[1:] if not p.startswith("["))
    raise EngineError("no Debian mirror found in apt's sources for debootstrap")


def pip_settings() -> dict[str, str]:
    """The host's pip settings that carry over into an image build, as PIP_* names."""
    found: dict[str, str] = {}
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                             capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        name, _, value = line.partition("=")
        key = name.rsplit(".", 1)[-1]
        if key in PIP_KEYS:
            found[key] = value.strip().strip("'\"")
    for key in PIP_KEYS:
        env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env:
            found[key] = env
    args: dict[str, str] = {}
    for key, value in found.items():
        if key.endswith("index-url"):
            value = " ".join(u for u in value.split() if not u.startswith("file:"))
        if value:
            args["PIP_" + key.upper().replace("-", "_")] = value
    return args


def make_base_tree(tarball: Path, extra_files: Sequence[Path]) -> None:
    """debootstrap Debian 12 and pack it; `extra_files` (the host's CA bundle pip is
    told to use) are copied in at the same paths."""
    if shutil.which("debootstrap") is None and not Path("/usr/sbin/debootstrap").exists():
        apt_install("debootstrap")
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="tree.") as tmp:
        tree = Path(tmp) / "root"
        run([shutil.which("debootstrap") or "/usr/sbin/debootstrap", "--variant=minbase",
             "--include=" + ",".join(BASE_PACKAGES), "bookworm", str(tree), debian_mirror()],
            timeout=1800)
        for extra in extra_files:
            if extra.is_file():
                target = tree / extra.relative_to("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(extra, target)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (tree / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", str(tree), "--numeric-owner", "-cf", str(partial), "."])
        partial.rename(tarball)  # only a whole tarball is ever reused


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def image_id(tag: str) -> str | None:
    done = docker("image", "inspect", "-f", "{{.Id}}", tag, check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def base_image(pip_args: Mapping[str, str] | None = None) -> str:
    """The tag of the local Debian 12 base, made (or imported from the cached tarball)
    when missing."""
    if image_exists(BASE_TAG):
        return BASE_TAG
    tarball = cache_dir() / f"bookworm-base-{BASE_VERSION}.tar"
    if not tarball.exists():
        cert = (pip_args or pip_settings()).get("PIP_CERT")
        make_base_tree(tarball, [Path(cert)] if cert else [])
    docker("import", str(tarball), BASE_TAG, quiet=False, timeout=600)
    return BASE_TAG


def build_args(tag: str) -> list[str]:
    """`docker build` arguments (without the context) for the Dockerfile on the local
    base, made when missing."""
    pip_args = pip_settings()
    base = base_image(pip_args)
    # Build args stay in the image's history: fine for this local test image, but an
    # index URL with credentials in it would be kept there too.
    args = ["build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag]
    for name, value in sorted(pip_args.items()):
        args += ["--build-arg", f"{name}={value}"]
    return args


def build_image(tag: str = IMAGE_TAG, context: Path = ROOT) -> str:
    """Build the Dockerfile in `context` on the local base; returns `tag`."""
    ensure_engine()
    args = build_args(tag)
    before = image_id(tag)
    docker(*args, str(context), quiet=False, timeout=1800)
    if before and before != image_id(tag):
        # The previous build, untagged now: removed so that builds on one machine do not
        # pile up (its layers shared with the new image stay).
        docker("rmi", before, check=False)
    return tag


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govbot.testing.container",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("engine", help="install and start the Docker engine when needed")
    sub.add_parser("base", help="make the local Debian 12 base image; print its tag")
    build = sub.add_parser("build", help="build govbot's image on that base; print its tag")
    build.add_argument("--tag", default=IMAGE_TAG)
    opts = parser.parse_args(argv)
    try:
        ensure_engine()
        if opts.command == "base":
            print(base_image())
        elif opts.command == "build":
            print(build_image(opts.tag))
    except (EngineError, subprocess.CalledProcessError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
