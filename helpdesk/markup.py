"""Markdown written by admins (charter versions), rendered and then sanitised.

Markdown passes raw HTML through, so its output is never trusted: nh3 keeps only basic
formatting tags, drops every attribute but a link's address and title, and only http(s) and
mailto links survive.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Tags whose content goes too, not just the tag: their text is code or styling, not prose.
DROPPED_WITH_CONTENT = frozenset({"script", "style"})


def render_markdown(text: str) -> SafeString:
    """``text`` (Markdown) as HTML that is safe to put in a page."""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
