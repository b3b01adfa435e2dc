"""GraphiQL in a real browser (Chromium from Debian's packages, driven by Playwright)
against a real server: with every other host blocked it loads, runs an example
query and shows the result, no request leaves the CMS's origin, the CSP is never
violated, and the editor's headers stay out of localStorage unless asked for."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TestDatabase
from tests.feedback.test_two_processes import server_process, wait_ready
from web.graphiql.page import GraphiQLPage

try:
    from playwright.async_api import Browser, Page, Route, async_playwright, expect

    HAVE_PLAYWRIGHT = True
except ImportError:  # a dev dependency; absent where only the runtime is installed
    HAVE_PLAYWRIGHT = False

CHROMIUM = Path("/usr/bin/chromium")
HEADER_VALUE = "graphiql-browser-test-header"

pytestmark = [
    pytest.mark.skipif(
        not HAVE_PLAYWRIGHT,
        reason="playwright is not installed (pip install -e '.[dev]')",
    ),
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.skipif(
        bool(GraphiQLPage().missing()),
        reason="GraphiQL's files are not fetched (make graphiql-assets; make test does)",
    ),
]


@pytest.fixture
async def server(seeded_db: TestDatabase, tmp_path: Path) -> AsyncIterator[str]:
    environ = {
        "CMS_DATABASE_URL": seeded_db.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_GRAPHIQL": "on",
    }
    with server_process(environ, tmp_path / "server.log") as (base, process):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, base, process)
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        await browser.close()


class Watched:
    """A page whose every request is recorded, and refused unless it is for the
    server's own origin, with the CSP violations and script errors it met."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort("blockedbyclient")

    async def csp_violations(self) -> list[str]:
        violations: list[str] = await self.page.evaluate("window.cspViolations")
        return violations


async def open_graphiql(browser: Browser, base: str, query: str = "") -> Watched:
    context = await browser.new_context()
    page = await context.new_page()
    watched = Watched(page, base)
    await context.route("**/*", watched.route)
    await page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = await page.goto(f"{base}/graphql{query}")
    assert response is not None
    assert response.status == 200
    assert "content-security-policy" in response.headers
    await expect(page.locator(".graphiql-execute-button")).to_be_visible(timeout=30_000)
    return watched


async def run_operation(page: Page, name: str) -> str:
    """Runs one operation of the default document (the run button asks which) and
    returns the result pane's text."""
    # GraphiQL parses the document's operations after the editor shows it; until then
    # the button runs the document at once instead of opening the menu of operations
    # (seen on a loaded CI machine), so wait for it to become the menu's trigger.
    button = page.locator('.graphiql-execute-button[aria-haspopup="menu"]')
    await expect(button).to_be_visible(timeout=30_000)
    await button.click()
    await page.get_by_role("menuitem", name=name).click()
    result = page.locator(".result-window")
    await expect(result).to_contain_text('"totalCount"', timeout=30_000)
    return await result.inner_text()


async def set_headers(page: Page, headers: dict[str, str]) -> None:
    await page.get_by_role("button", name="Headers").click()
    editor = page.locator(".graphiql-editor-tool .CodeMirror").last
    await editor.evaluate("(node, text) => node.CodeMirror.setValue(text)", json.dumps(headers))


async def stored(page: Page) -> str:
    """Everything the page keeps in localStorage, as one text."""
    text: str = await page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    return text


async def test_graphiql_runs_an_example_query_with_every_other_host_blocked(
    server: str, browser: Browser
) -> None:
    watched = await open_graphiql(browser, server)
    page = watched.page
    # The default document of example queries, with its operations to choose from.
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("query LatestNews")

    result = await run_operation(page, "LatestNews")
    # The explorer plugin, from the same origin, lists the schema's root fields.
    await page.get_by_role("button", name="Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-explorer-root")).to_contain_text("agreements")

    assert '"news"' in result
    assert '"errors"' not in result
    assert watched.blocked == []
    assert watched.requests, "the route saw no request"
    assert all(url.startswith(server + "/") for url in watched.requests)
    assert any("/graphiql-assets/graphiql@" in url for url in watched.requests)
    assert await watched.csp_violations() == []
    assert watched.errors == []


async def test_headers_stay_out_of_local_storage_unless_asked(
    server: str, browser: Browser
) -> None:
    watched = await open_graphiql(browser, server)
    await set_headers(watched.page, {"x-editor-note": HEADER_VALUE})
    await run_operation(watched.page, "LatestNews")
    assert HEADER_VALUE not in await stored(watched.page)
    # The editor can turn it on: GraphiQL's settings show the switch.
    await watched.page.get_by_role("button", name="Open settings dialog").click()
    await expect(watched.page.get_by_text("Persist headers")).to_be_visible()

    # Asked for through the page's parameter, they are kept (so the check above can fail).
    persisting = await open_graphiql(browser, server, "?persistHeaders=true")
    await set_headers(persisting.page, {"x-editor-note": HEADER_VALUE})
    await run_operation(persisting.page, "LatestNews")
    await persisting.page.wait_for_function(
        "value => JSON.stringify(Object.assign({}, localStorage)).includes(value)", arg=HEADER_VALUE
    )
    assert persisting.blocked == []
    assert await persisting.csp_violations() == []

    # Turned off again, what was kept (the history's copies included) is forgotten.
    await persisting.page.goto(f"{server}/graphql?persistHeaders=false")
    await expect(persisting.page.locator(".graphiql-execute-button")).to_be_visible()
    assert HEADER_VALUE not in await stored(persisting.page)
