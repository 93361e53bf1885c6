"""The sandbox's own pages for people: what "See it on X" opens in sandbox mode.

``GET /`` lists the posts made through the API (the desk's replies), newest first;
``GET /<username>/status/<id>`` shows one post with the one it answers. Plain HTML, every
text escaped (tweets are hostile text), no script."""

from __future__ import annotations

import re
from html import escape

from .records import Tweet
from .wire import Reply, Request
from .world import World

STATUS_PATH = re.compile(r"^/([A-Za-z0-9_]{1,15})/status/([0-9]{1,19})/?$")
SHOWN = 200
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem}"
    "li,article{border-bottom:1px solid #ddd;padding:.5rem 0;overflow-wrap:anywhere}"
    ".meta{color:#555;font-size:.9rem}"
)


def is_page(request: Request) -> bool:
    return request.method == "GET" and (
        request.path == "/" or STATUS_PATH.match(request.path) is not None
    )


def _page(title: str, body: str, status: int = 200) -> Reply:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · X sandbox</title><style>{STYLE}</style></head>"
        f'<body><p><a href="/">X sandbox</a></p>{body}</body></html>'
    )
    return Reply(status, None, dict(HEADERS), html=html)


def _post(tweet: Tweet) -> str:
    link = f"/{escape(tweet.author_username)}/status/{escape(tweet.id)}"
    return (
        f'<p class="meta"><a href="{link}">@{escape(tweet.author_username)}</a> · '
        f'<time datetime="{tweet.created_at.isoformat()}">'
        f"{tweet.created_at:%Y-%m-%d %H:%M:%S} UTC</time></p>"
        f'<p dir="auto">{escape(tweet.text)}</p>'
    )


def page(world: World, request: Request) -> Reply:
    """The page ``request`` asks for (``is_page`` said it is one)."""
    found = STATUS_PATH.match(request.path)
    if found is None:
        posted = [t for t in world.find() if t.via_api][-SHOWN:]
        items = "".join(f"<li>{_post(t)}</li>" for t in reversed(posted))
        body = "<h1>Posted through the API</h1>" + (
            f"<ol>{items}</ol>" if items else "<p>Nothing posted yet.</p>"
        )
        return _page("Posted through the API", body)
    username, tweet_id = found.groups()
    tweet = world.tweet(tweet_id)
    if tweet is None or tweet.author_username.lower() != username.lower():
        return _page("Not found", "<h1>This post does not exist (or was deleted).</h1>", 404)
    body = f"<article>{_post(tweet)}</article>"
    parent_id = tweet.referenced_id("replied_to")
    parent = world.tweet(parent_id) if parent_id else None
    if parent is not None:
        body += f"<h2>In reply to</h2><article>{_post(parent)}</article>"
    return _page(f"@{tweet.author_username}", body)
