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
