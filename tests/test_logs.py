"""Logging: readable or JSON lines, and secrets never written."""

from __future__ import annotations

import json
import logging

import pytest

from govbot.logs import setup_logging


@pytest.fixture(autouse=True)
def restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_redacted_in_every_format(fmt: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    redact = setup_logging(fmt=fmt, level="INFO")
    redact.add(["hunter2-secret", None, "abc"])  # too-short values are not treated as secrets
    logging.getLogger("govbot.test").info("password is %s, short %s", "hunter2-secret", "abc")
    try:
        raise ValueError("hunter2-secret leaked into an exception")
    except ValueError:
        logging.getLogger("govbot.test").exception("boom")
    err = capsys.readouterr().err
    assert "hunter2-secret" not in err and "***" in err
    if fmt == "json":
        records = [json.loads(line) for line in err.splitlines()]
        assert records[0]["message"] == "password is ***, short abc"
        assert records[0]["level"] == "INFO" and records[0]["logger"] == "govbot.test"
        assert "***" in records[1]["exception"]
    else:
        assert "INFO    govbot.test: password is ***, short abc" in err
