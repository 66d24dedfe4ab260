"""The image, built once per test session on the locally made Debian 12 base.

A missing Docker engine skips these tests on a developer's machine that cannot get one,
but under CI=true it is a failure: CI must never silently skip the container test.
"""

from __future__ import annotations

import subprocess

import pytest

from govbot.testing import container


def _unavailable(message: str) -> None:
    if container.in_ci():
        pytest.fail(f"{message} (CI=true: refusing to skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def image() -> str:
    try:
        container.ensure_engine()
    except container.EngineError as err:
        _unavailable(f"no Docker engine: {err}")
    try:
        return container.build_image()
    except (container.EngineError, subprocess.CalledProcessError) as err:
        pytest.fail(f"building the image failed: {err}", pytrace=False)
