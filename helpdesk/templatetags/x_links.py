"""Links to posts on X: x.com in production; in sandbox mode (``X_API_BASE_URL`` set, as in
the demo) the sandbox's own page of the post, since the post exists only there."""

from __future__ import annotations

from urllib.parse import quote

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def x_post_url(username: str, tweet_id: str) -> str:
    """Where a person sees ``@username``'s post ``tweet_id``."""
    base = (settings.X_API_BASE_URL or "https://x.com").rstrip("/")
    return f"{base}/{quote(str(username), safe='')}/status/{quote(str(tweet_id), safe='')}"
