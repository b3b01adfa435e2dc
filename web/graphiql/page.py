"""GraphiQL served by the CMS itself: our own page (not Strawberry's CDN template),
its files served from the CMS's own origin under /graphiql-assets/, and a strict
Content-Security-Policy, so that no request leaves the origin (a ministry intranet
has no internet; a CSP that names no other host cannot be weakened by a CDN).

The vendor files (GraphiQL, React, the explorer plugin) are pinned in
assets.lock.json and fetched by `make graphiql-assets` (fetch_assets.py) into an
ignored folder; our own script and stylesheet sit next to this module. Every URL
carries the version (or, for our files, a content hash), so the files are cached
as immutable.

The page has no inline script: its settings (the default document of example
queries) travel in a JSON data block, which a browser never executes, so
`script-src 'self'` needs no hash or nonce. Styles need one nonce per response:
GraphiQL's dialogs and menus (Radix's scroll lock) add a <style> element, marked
with the nonce that our script hands them (the data block carries it).
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from web.graphiql.fetch_assets import ASSETS_DIR, LOCK_FILE, AssetFile, load_lock

ASSET_PREFIX = "/graphiql-assets"
HERE = Path(__file__).resolve().parent
DEFAULT_DOCUMENT = HERE.parent / "graphiql_default.graphql"
OWN_FILES = (HERE / "graphiql-page.css", HERE / "graphiql-page.js")

PAGE_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class _Served:
    url: str
    path: Path
    sri: str


def _own_file(path: Path) -> _Served:
    digest = hashlib.sha256(path.read_bytes()).digest()
    file = AssetFile(source=path.name, name=path.name, sha256=digest.hex())
    return _Served(f"{ASSET_PREFIX}/cms-{digest.hex()[:16]}/{path.name}", path, file.sri)


def _load_files(assets_dir: Path, lock_file: Path) -> tuple[_Served, ...]:
    """Every file of the page in load order: the lock's (React before ReactDOM before
    GraphiQL before the plugin), then ours."""
    vendor = tuple(
        _Served(
            f"{ASSET_PREFIX}/{package.folder}/{file.name}",
            assets_dir / package.folder / file.name,
            file.sri,
        )
        for package in load_lock(lock_file)
        for file in package.files
    )
    return vendor + tuple(_own_file(path) for path in OWN_FILES)


def content_security_policy(nonce: str) -> str:
    """No other host anywhere. GraphiQL and React also set element styles through the
    DOM, which style-src allows; the fonts and icons of GraphiQL's stylesheet are
    data: URLs. The page is never framed (clickjacking of a logged-in editor)."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def _page_html(files: tuple[_Served, ...], document: str, nonce: str) -> str:
    styles = "".join(
        f'<link rel="stylesheet" href="{f.url}" integrity="{f.sri}">\n'
        for f in files
        if f.path.suffix == ".css"
    )
    scripts = "".join(
        f'<script src="{f.url}" integrity="{f.sri}"></script>\n'
        for f in files
        if f.path.suffix == ".js"
    )
    # "<" escaped: the JSON cannot close its <script> element whatever the document holds.
    config = json.dumps({"defaultQuery": document}, ensure_ascii=False).replace("<", "\\u003c")
    return (
        "<!doctype html>\n"
        '<html lang="ru">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>GraphiQL — CMS</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"{styles}</head>\n<body>\n"
        '<div id="graphiql">Загрузка GraphiQL…</div>\n'
        f'<script type="application/json" id="graphiql-config" nonce="{nonce}">{config}</script>\n'
        f"{scripts}</body>\n</html>\n"
    )


def _missing_html(missing: list[Path]) -> str:
    names = "".join(f"<li><code>{html.escape(str(path))}</code></li>\n" for path in missing)
    return (
        "<!doctype html>\n"
        '<html lang="ru">\n<head>\n<meta charset="utf-8">\n'
        "<title>GraphiQL не установлен</title>\n</head>\n<body>\n"
        "<h1>Файлы GraphiQL не установлены</h1>\n"
        "<p>CMS раздаёт GraphiQL со своего адреса, а его файлы (GraphiQL, React, "
        "плагин Explorer) скачиваются из реестра npm при установке. Выполните в "
        "каталоге проекта</p>\n"
        "<pre>make graphiql-assets</pre>\n"
        "<p>(или <code>python web/graphiql/fetch_assets.py</code>; нужен доступ к "
        "registry.npmjs.org) и обновите страницу. API по адресу /graphql работает "
        "и без них.</p>\n"
        f"<p>Нет файлов:</p>\n<ul>\n{names}</ul>\n</body>\n</html>\n"
    )


class GraphiQLPage:
    """The page and its files. Built once per application; the files are looked for
    on each page request, so that running the make step needs no restart."""

    def __init__(self, assets_dir: Path = ASSETS_DIR, lock_file: Path = LOCK_FILE) -> None:
        self.files = _load_files(assets_dir, lock_file)
        self.document = DEFAULT_DOCUMENT.read_text(encoding="utf-8")

    def missing(self) -> list[Path]:
        return [f.path for f in self.files if not f.path.is_file()]

    def response(self) -> Response:
        nonce = secrets.token_urlsafe(18)
        headers = {**PAGE_HEADERS, "content-security-policy": content_security_policy(nonce)}
        if missing := self.missing():
            # Not a 500: the server works, one set-up step was skipped.
            return HTMLResponse(_missing_html(missing), 503, headers)
        return HTMLResponse(_page_html(self.files, self.document, nonce), headers=headers)

    def routes(self) -> list[Route]:
        """One route per file: any other path under /graphiql-assets/ is unknown to
        the router and answered as every unknown path is."""
        return [
            Route(served.url, _file_endpoint(served), methods=["GET", "HEAD"])
            for served in self.files
        ]


def _file_endpoint(served: _Served) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not served.path.is_file():  # removed after the page was built
            raise HTTPException(404)
        return FileResponse(
            served.path,
            media_type=CONTENT_TYPES[served.path.suffix],
            headers={"cache-control": ASSET_CACHE_CONTROL, "x-content-type-options": "nosniff"},
        )

    return endpoint
