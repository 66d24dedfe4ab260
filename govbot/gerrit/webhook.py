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
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
MAX_BODY = 1024 * 1024


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
    def __init__(self, secret: str, accept: Accept) -> None:
        if not secret:
            raise ValueError("a webhook receiver needs a secret")
        self._secret = secret.encode()
        self._accept = accept
        self.accepted = 0
        self.refused = 0

    def add_routes(self, app: web.Application, path: str = "/gerrit/webhook") -> None:
        app.router.add_post(path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(_presented(request).encode(), self._secret):
            self.refused += 1
            log.warning("webhook from %s refused: wrong or missing secret", request.remote)
            return web.json_response({"error": "forbidden"}, status=403)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        body = await request.read()
        if len(body) > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        lines = events_of(body)
        kept = await self._accept("webhook", lines)
        self.accepted += len(kept)
        return web.json_response({"accepted": len(kept)}, status=202)
