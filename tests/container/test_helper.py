"""govbot.testing.container's pure parts: which pip settings go into an image build."""

from __future__ import annotations

import os

import pytest

from govbot.testing.container import PIP_KEYS, pip_settings


def test_pip_settings_carry_what_the_build_can_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no config files: only these
    for key in PIP_KEYS:
        monkeypatch.delenv("PIP_" + key.upper().replace("-", "_"), raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", "https://index.invalid/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/pypi/simple https://more.invalid/s")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")  # a host path: left out
    assert pip_settings() == {
        "PIP_INDEX_URL": "https://index.invalid/simple",
        "PIP_EXTRA_INDEX_URL": "https://more.invalid/s",
        "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    }


def test_only_file_indexes_give_no_build_arg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for key in PIP_KEYS:
        monkeypatch.delenv("PIP_" + key.upper().replace("-", "_"), raising=False)
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/pypi/simple")
    assert pip_settings() == {}
