"""Receiver for Gerrit's webhooks plugin: the same events, by HTTP POST.

Webhooks carry no signature, so the receiver demands a shared secret: in the
`X-Govbot-Secret` header, as the password of HTTP basic auth, or as `?secret=`
in the URL configured in Gerrit (the only option the plugin itself offers).
Events go through the same intake as the stream, so an event that arrives both
ways is handled once.

The plugin serialises events with a plain Gson, not the stream's adapters: the
decoder reads its `changeKey: {"key": ...}` and `project: {"name": ...}`, and this
receiver unwraps the lazily computed fields (`submitter`, `refUpdate`, `uploader`...)
when a body carries Guava's memoizing supplier itself, `{"value": {...}}` next to
`delegate`/`initialized`, instead of the value.

The receiver faces the network, so its edges are bounded: a body longer than
`MAX_BODY` is refused with 413 and one nested deeper than `MAX_DEPTH` with 400
(before any JSON decoder recurses into it), never 500; refusals are logged at most
once per `REFUSAL_LOG_INTERVAL`, with the count refused since the last line.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
MAX_BODY = 1024 * 1024
#: Gerrit's events nest about six deep; 64 leaves room and keeps every recursion
#: (the JSON decoder's, `_unwrap`'s, the event decoder's) far from Python's limit.
MAX_DEPTH = 64
REFUSAL_LOG_INTERVAL = 60.0

# Brackets outside strings: a string token is skipped whole, escapes included.
_TOKENS = re.compile(rb'"(?:[^"\\]+|\\.)*"?|[\[\]{}]', re.DOTALL)


def nesting_depth(body: bytes) -> int:
    """The deepest bracket nesting of `body` (JSON or JSON lines), without parsing it."""
    depth = deepest = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth = max(depth - 1, 0)
    return deepest


class RefusalLog:
    """One WARNING per `interval` for refused requests, with the count since the last.

    600 refused calls in a minute are one line, not 600: a misconfigured or hostile
    sender cannot flood the log. A refusal after a quiet interval is logged at once.
    """

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last = float("-inf")
        self._pending = 0

    def refused(self, remote: str | None, why: str) -> None:
        now = self._clock()
        self._pending += 1
        if now - self._last < self.interval:
            return
        more = (f" ({self._pending - 1} more refused in the last {self.interval:.0f} s)"
                if self._pending > 1 else "")
        log.warning("webhook from %s refused: %s%s", remote, why, more)
        self._last, self._pending = now, 0


_SUPPLIER_KEYS = frozenset({"delegate", "initialized", "value"})


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value and value.keys() <= _SUPPLIER_KEYS and ("value" in value or "delegate" in value):
            return _unwrap(value.get("value"))  # a supplier never computed: no value
        return {k: _unwrap(v) for k, v in value.items() if not _is_empty_supplier(v)}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _is_empty_supplier(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value) and value.keys() <= _SUPPLIER_KEYS
            and value.get("value") is None)


def events_of(body: bytes) -> list[bytes]:
    """The events of one POST body, one JSON line each, suppliers unwrapped.

    The plugin posts one event per request (perhaps pretty-printed); a body of JSON
    lines (several events) is accepted too.
    """
    if not body.strip():
        return []
    try:
        data = json.loads(body)
    except ValueError:  # JSON lines, or garbage the decoder will count as malformed
        return [_compact(line) for line in body.splitlines() if line.strip()]
    items = data if isinstance(data, list) else [data]
    return [json.dumps(_unwrap(item), separators=(",", ":")).encode() for item in items]


def _compact(line: bytes) -> bytes:
    if b'"initialized"' not in line and b'"delegate"' not in line:
        return line
    try:
        return json.dumps(_unwrap(json.loads(line)), separators=(",", ":")).encode()
    except ValueError:
        return line


def _presented(request: web.Request) -> str:
    header = request.headers.get("X-Govbot-Secret")
    if header:
        return header
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            return base64.b64decode(auth[6:]).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    return request.query.get("secret", "")


class WebhookReceiver:
    def __init__(self, secret: str, accept: Accept, *, max_body: int = MAX_BODY,
                 max_depth: int = MAX_DEPTH, refusals: RefusalLog | None = None) -> None:
        if not secret:
            raise ValueError("a webhook receiver needs a secret")
        self._secret = secret.encode()
        self._accept = accept
        self.max_body = max_body
        self.max_depth = max_depth
        self.refusals = refusals or RefusalLog()
        self.accepted = 0
        self.refused = 0

    def add_routes(self, app: web.Application, path: str = "/gerrit/webhook") -> None:
        app.router.add_post(path, self.handle)

    def _refuse(self, request: web.Request, status: int, error: str,
                why: str) -> web.Response:
        self.refused += 1
        self.refusals.refused(request.remote, why)
        return web.json_response({"error": error}, status=status)

    async def handle(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(_presented(request).encode(), self._secret):
            return self._refuse(request, 403, "forbidden", "wrong or missing secret")
        too_large = f"body over {self.max_body} bytes"
        if request.content_length is not None and request.content_length > self.max_body:
            return self._refuse(request, 413, "too large", too_large)
        body = bytearray()
        # Read in chunks up to the limit: a body without Content-Length (chunked) is
        # cut off at the limit instead of being buffered whole.
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > self.max_body:
                return self._refuse(request, 413, "too large", too_large)
        if nesting_depth(bytes(body)) > self.max_depth:
            return self._refuse(request, 400, "nested too deep",
                                f"nested deeper than {self.max_depth}")
        try:
            lines = events_of(bytes(body))
        except (ValueError, RecursionError, MemoryError) as exc:  # never a 500
            return self._refuse(request, 400, "unreadable body", type(exc).__name__)
        kept = await self._accept("webhook", lines)
        self.accepted += len(kept)
        return web.json_response({"accepted": len(kept)}, status=202)
