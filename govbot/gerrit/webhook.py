"""Receiver for Gerrit's webhooks plugin: the same events, by HTTP POST.

Webhooks carry no signature, so the receiver demands a shared secret: in the
`X-Govbot-Secret` header, as the password of HTTP basic auth, or as `?secret=`
in the URL configured in Gerrit (the only option the plugin itself offers).
Events go through the same intake as the stream, so an event that arrives both
ways is handled once.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
MAX_BODY = 1024 * 1024


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
        lines = [line for line in body.splitlines() if line.strip()]
        kept = await self._accept("webhook", lines)
        self.accepted += len(kept)
        return web.json_response({"accepted": len(kept)}, status=202)
