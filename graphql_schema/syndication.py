"""Where integrators find the feeds: their URLs on the site, on tags, regions and
agreements (served by web/feeds.py)."""

from __future__ import annotations

import strawberry

from cms.services import urls
from cms.settings import Settings
from graphql_schema.context import Info


@strawberry.type(description="One feed in its three formats.")
class FeedLinks:
    rss: str = strawberry.field(description="RSS 2.0, with yandex:full-text.")
    atom: str = strawberry.field(description="Atom 1.0.")
    json: str = strawberry.field(description="JSON Feed 1.1.")

    @classmethod
    def of(cls, settings: Settings, path: str) -> FeedLinks:
        links = urls.feed_urls(settings, path)
        return cls(rss=links["rss"], atom=links["atom"], json=links["json"])


@strawberry.type(description="Feeds and sitemaps of the site.")
class SiteFeeds:
    news: FeedLinks = strawberry.field(description="All published news, newest first.")
    sitemap: str = strawberry.field(
        description="The sitemap index, pointing at sitemaps of news, agreements, action "
        "plans and enterprises."
    )


@strawberry.type
class SyndicationQueries:
    @strawberry.field(description="The site's feeds and sitemap.")
    def feeds(self, info: Info) -> SiteFeeds:
        settings = info.context.settings
        return SiteFeeds(news=FeedLinks.of(settings, "news"), sitemap=urls.sitemap_url(settings))
