"""Logging: readable lines by default, JSON lines with `--log-format json`.

Secrets are registered with the formatter when they are resolved, and any log
record containing one is redacted, whichever module wrote it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str | None]) -> None:
        # Very short values would redact ordinary words; nobody uses them as secrets.
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(data, default=str))


def setup_logging(*, fmt: str = "text", level: str = "INFO") -> Redactor:
    """Configure the root logger once for the process; returns the secret redactor."""
    redact = Redactor()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter at INFO would bury ours.
    for noisy in ("asyncssh", "git", "aiohttp.access", "pydle"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return redact
