"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware, InstanceSessionWrapper  # noqa: E402

from helpdesk.ws_urls import websocket_urlpatterns  # noqa: E402


class SocketSessionMiddleware:
    """channels' ``SessionMiddleware`` for websockets (the session in the scope, read from
    its cookie), whose inner application gets the server's own ``send``.

    channels' wrapped ``send`` saves a changed session, and sets its cookie, on
    ``http.response.start``, which a websocket never sends; yet it reads the session's
    ``modified`` and ``is_empty()`` for every message. The hub writes each window's frame to
    every socket of the process, so that was about 7 % of a web process's CPU with 2,500
    volunteers connected (py-spy, docs/benchmarks.md, Load). Our sockets read the session
    and never change it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # channels' AuthMiddlewareStack (cookies, session, person), with our session layer
        "websocket": AllowedHostsOriginValidator(
            CookieMiddleware(
                SocketSessionMiddleware(AuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
