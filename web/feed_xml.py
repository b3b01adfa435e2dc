"""RSS 2.0 and Atom 1.0 feeds, written by feedgen (lxml underneath: escaping and
namespaces are the library's, never string concatenation). Imported by web/feeds.py
with the first such feed, so that processes that never serve one do not load them."""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedEntry as FeedgenEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from cms.services import urls
from cms.services.syndication import FeedEntry, FeedScope
from cms.settings import Settings
from web.feeds import entry_cover, entry_guid, entry_summary, feed_path, feed_title

YANDEX_NS = "http://news.yandex.ru"


class _Namespaces(BaseExtension):  # type: ignore[misc]
    def extend_ns(self) -> dict[str, str]:
        return {"yandex": YANDEX_NS}


class _Extras(BaseEntryExtension):  # type: ignore[misc]
    """What feedgen does not write itself: `yandex:full-text` in RSS, the whole text of
    an item as plain text, which Russian aggregators (Yandex, Rambler, Mail.ru) read
    to republish the full story; and the cover as an Atom link rel="enclosure", since
    feedgen 1.0.0 drops every attribute but href of an entry's links (its loop variable
    is shadowed in `atom_entry`), which would turn the enclosure into a second
    alternate link."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.enclosure: dict[str, str] | None = None

    def extend_rss(self, entry: etree._Element) -> etree._Element:
        if self.text:
            element = etree.SubElement(entry, f"{{{YANDEX_NS}}}full-text")
            element.text = self.text
        return entry

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.enclosure:
            etree.SubElement(entry, "link", rel="enclosure", **self.enclosure)
        return entry


def render_xml_feed(
    settings: Settings, scope: FeedScope, entries: list[FeedEntry], fmt: str
) -> bytes:
    generator = FeedGenerator()
    generator.register_extension("extras", _Namespaces, _Extras)
    path = feed_path(scope)
    self_url = urls.feed_urls(settings, path)[fmt]
    generator.id(self_url)
    generator.title(feed_title(scope))
    generator.subtitle(feed_title(scope))  # RSS needs a description
    generator.link(href=settings.site_url, rel="alternate")
    generator.link(href=self_url, rel="self")
    generator.language("ru")
    generator.generator("CMS")
    updated = max((e.updated_at for e in entries), default=None)
    if updated is not None:
        generator.updated(updated)
        generator.lastBuildDate(updated)
    for entry in entries:
        item: FeedgenEntry = generator.add_entry(order="append")
        item.guid(entry_guid(settings, entry), permalink=False)
        item.title(entry.title)
        item.link(href=urls.news_url(settings, entry.slug), rel="alternate")
        item.summary(entry_summary(entry))
        item.content(entry.body_html, type="html")
        item.published(entry.published_at)
        item.updated(entry.updated_at)
        for name, slug in entry.tags:
            item.category(term=slug, label=name)
        cover = entry_cover(settings, entry)
        if cover is not None and fmt == "rss":
            item.enclosure(cover["url"], str(cover["length"]), cover["type"])
        elif cover is not None:
            item.extras.enclosure = {
                "href": cover["url"],
                "type": cover["type"],
                **({"title": cover["alt"]} if cover["alt"] else {}),
            }
        item.extras.text = entry.body_text
    if fmt == "rss":
        return bytes(generator.rss_str(pretty=False))
    return bytes(generator.atom_str(pretty=False))
