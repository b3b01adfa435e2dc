"""Editors' bodies (HTML or Markdown) made safe on write, with their plain text beside.

An allowlist, never a blocklist: tags and attributes not named here are dropped
(scripts, styles, SVG/MathML, frames and forms with their content), event-handler
and style attributes never pass, URLs keep only the http(s), mailto and tel
schemes (no javascript:, data:, vbscript:), and every link gets
rel="noopener noreferrer" so that a target="_blank" page cannot reach back.
"""

from __future__ import annotations

from enum import StrEnum

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


def sanitize_html(html: str) -> str:
    return _cleaner.clean(html).strip()


def markdown_to_html(markdown: str) -> str:
    return _markdown.render(markdown)


def render_body(source: str, body_format: BodyFormat) -> tuple[str, str]:
    """(sanitised HTML, plain text) of an editor's body."""
    html = markdown_to_html(source) if body_format is BodyFormat.MARKDOWN else source
    safe = sanitize_html(html)
    return safe, html_to_text(safe)
