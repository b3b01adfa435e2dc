"""Front-end URLs of content, from the configurable templates in settings."""

from __future__ import annotations

from urllib.parse import quote

from cms.settings import Settings


def news_url(settings: Settings, slug: str) -> str:
    return settings.url_templates.news.format(site=settings.site_url, slug=quote(slug))


def agreement_url(settings: Settings, slug: str) -> str:
    return settings.url_templates.agreement.format(site=settings.site_url, slug=quote(slug))


def action_plan_url(settings: Settings, slug: str) -> str:
    return settings.url_templates.action_plan.format(site=settings.site_url, slug=quote(slug))


def enterprise_url(settings: Settings, slug: str) -> str:
    return settings.url_templates.enterprise.format(site=settings.site_url, slug=quote(slug))


# Feeds and sitemaps are served by this API (CMS_PUBLIC_URL), not by the front-end.
FEED_FORMATS = ("rss", "atom", "json")


def feed_urls(settings: Settings, path: str) -> dict[str, str]:
    """The three formats of one feed; `path` is e.g. "news" or "tags/sotrudnichestvo"."""
    return {fmt: f"{settings.public_url}/feeds/{path}.{fmt}" for fmt in FEED_FORMATS}


def sitemap_url(settings: Settings) -> str:
    return f"{settings.public_url}/sitemap.xml"
