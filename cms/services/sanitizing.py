"""Editors' bodies (HTML or Markdown) made safe on write, with their plain text beside.

An allowlist, never a blocklist: tags and attributes not named here are dropped
(scripts, styles, SVG/MathML, frames and forms with their content), event-handler
and style attributes never pass, URLs keep only the http(s), mailto and tel
schemes (no javascript:, data:, vbscript:), and every link gets
rel="noopener noreferrer" so that a target="_blank" page cannot reach back.
Images are kept only from allowed hosts (CMS_RICHTEXT_IMAGE_HOSTS and the CMS's own
media) or as paths on the page's own site: an image from anywhere else tells its
host who reads the page (a tracking pixel), so it is dropped whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum
from html import unescape
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from cms.services.richtext import html_to_text


class BodyFormat(StrEnum):
    HTML = "html"
    MARKDOWN = "markdown"


_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
    }
)
# Dropped together with everything inside them, not just unwrapped.
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "svg",
        "math",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "template",
        "noscript",
        "noembed",
        "xmp",
        "textarea",
        "select",
        "button",
        "form",
        "title",
        "head",
        "meta",
        "link",
        "base",
    }
)
_ATTRIBUTES = {
    "a": {"href", "title", "target"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_LINK_REL = "noopener noreferrer"


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # A link may open a new window, nothing else (no named frames to script).
    if attribute == "target":
        return "_blank" if value == "_blank" else None
    if attribute in ("width", "height", "colspan", "rowspan", "start"):
        return value if value.isdigit() and len(value) <= 5 else None
    return value


_cleaner = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
    attribute_filter=_attribute_filter,
    url_schemes=set(_URL_SCHEMES),
    link_rel=_LINK_REL,
    strip_comments=True,
)
# Raw HTML inside Markdown is allowed and then sanitised like any other HTML.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


# In nh3's output `<`, `>` and `"` inside attribute values are escaped, so an image is
# exactly `<img` up to the next `>`, and its source the text between the quotes.
_IMAGE = re.compile(r"<img\b[^>]*>")
_SOURCE = re.compile(r'\ssrc="([^"]*)"')
# What browsers ignore in a URL before resolving it (WHATWG URL: tabs and newlines
# anywhere, C0 controls and spaces around it).
_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def image_allowed(src: str, hosts: Collection[str]) -> bool:
    """A path on the site that shows the body, or an absolute URL on one of `hosts`."""
    # Browsers read a backslash as a slash: `\\tracker.example/p.gif` is `//tracker...`.
    url = _URL_NOISE.sub("", src).strip(_C0_AND_SPACE).replace("\\", "/")
    if not url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return False
    if not parts.scheme and not url.startswith("//"):
        return True
    return host is not None and host in hosts


def _drop_foreign_images(html: str, hosts: Collection[str]) -> str:
    def keep(image: re.Match[str]) -> str:
        found = _SOURCE.search(image.group())
        allowed = found is not None and image_allowed(unescape(found.group(1)), hosts)
        return image.group() if allowed else ""

    return _IMAGE.sub(keep, html)


def sanitize_html(html: str, image_hosts: Collection[str]) -> str:
    """Safe HTML; images only from `image_hosts` (lower-case host names) or the site."""
    return _drop_foreign_images(_cleaner.clean(html), image_hosts).strip()


def markdown_to_html(markdown: str) -> str:
    return _markdown.render(markdown)


def render_body(
    source: str, body_format: BodyFormat, image_hosts: Collection[str]
) -> tuple[str, str]:
    """(sanitised HTML, plain text) of an editor's body."""
    html = markdown_to_html(source) if body_format is BodyFormat.MARKDOWN else source
    safe = sanitize_html(html, image_hosts)
    return safe, html_to_text(safe)
