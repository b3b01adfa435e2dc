"""GraphiQL served by the CMS itself: the pinned files and their verification, the
page and its Content-Security-Policy, the files' route. (In a real browser:
test_graphiql_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import GraphQLClient, TestDatabase, make_settings
from web.app import create_app
from web.graphiql import fetch_assets
from web.graphiql.fetch_assets import AssetError, AssetFile, Package
from web.graphiql.page import GraphiQLPage

assets_missing = pytest.mark.skipif(
    bool(GraphiQLPage().missing()),
    reason="GraphiQL's files are not fetched (make graphiql-assets; make test does)",
)


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


SCRIPT = b"window.Example = 1;\n"
ARCHIVE = tarball({"package/dist/example.js": SCRIPT, "package/README.md": b"not wanted"})
PACKAGE = Package(
    name="@example/widget",
    version="1.2.3",
    tarball="https://registry.npmjs.org/@example/widget/-/widget-1.2.3.tgz",
    integrity=integrity(ARCHIVE),
    files=(AssetFile("package/dist/example.js", "example.js", hashlib.sha256(SCRIPT).hexdigest()),),
)


def test_the_lock_pins_every_file_by_hash() -> None:
    packages = fetch_assets.load_lock()
    assert {package.name for package in packages} == {
        "react",
        "react-dom",
        "graphiql",
        "@graphiql/plugin-explorer",
    }
    for package in packages:
        assert package.tarball.startswith("https://registry.npmjs.org/")
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package.integrity)
        for file in package.files:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256), file


def test_a_verified_tarball_gives_only_the_locked_files(tmp_path: Path) -> None:
    fetch_assets.install(PACKAGE, fetch_assets.extract(PACKAGE, ARCHIVE), tmp_path)
    folder = tmp_path / "example-widget@1.2.3"
    assert [path.name for path in folder.iterdir()] == ["example.js"]
    assert (folder / "example.js").read_bytes() == SCRIPT
    assert fetch_assets.is_present(PACKAGE, tmp_path)


def test_a_tarball_that_differs_from_its_integrity_is_refused() -> None:
    tampered = tarball({"package/dist/example.js": b"window.Evil = 1;\n"})
    with pytest.raises(AssetError, match="integrity mismatch"):
        fetch_assets.extract(PACKAGE, tampered)


def test_a_file_that_differs_from_the_lock_is_refused() -> None:
    changed = Package(
        PACKAGE.name,
        PACKAGE.version,
        PACKAGE.tarball,
        PACKAGE.integrity,
        (AssetFile("package/dist/example.js", "example.js", "0" * 64),),
    )
    with pytest.raises(AssetError, match="differs from the lock"):
        fetch_assets.extract(changed, ARCHIVE)


def test_fetching_again_downloads_nothing_and_a_changed_file_counts_as_missing(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "lock.json"
    entry = {
        "name": PACKAGE.name,
        "version": PACKAGE.version,
        # Never downloaded while the file is there: this test needs no network.
        "tarball": PACKAGE.tarball,
        "integrity": PACKAGE.integrity,
        "files": [{"source": f.source, "name": f.name, "sha256": f.sha256} for f in PACKAGE.files],
    }
    lock.write_text(json.dumps({"packages": [entry]}), encoding="utf-8")
    fetch_assets.install(PACKAGE, fetch_assets.extract(PACKAGE, ARCHIVE), tmp_path)
    assert fetch_assets.fetch_all(tmp_path, lock) == 0

    (tmp_path / "example-widget@1.2.3" / "example.js").write_bytes(b"edited by hand")
    assert not fetch_assets.is_present(PACKAGE, tmp_path)


def test_without_its_files_the_page_says_what_to_run(tmp_path: Path) -> None:
    response = GraphiQLPage(assets_dir=tmp_path).response()
    assert response.status_code == 503
    page = bytes(response.body).decode()
    assert "Файлы GraphiQL не установлены" in page
    assert "make graphiql-assets" in page
    assert "content-security-policy" in response.headers


@assets_missing
async def test_the_page_names_no_other_host_and_has_a_strict_csp(client: GraphQLClient) -> None:
    first = await client.http.get("/graphql", headers={"accept": "text/html"})
    second = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert first.status_code == 200
    policy = first.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no other host
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy
    assert "unsafe" not in policy
    # A fresh style nonce per response, the one the page hands to GraphiQL.
    (nonce,) = re.findall(r"'nonce-([^']+)'", policy)
    assert f'nonce="{nonce}"' in first.text
    assert nonce not in second.headers["content-security-policy"]

    urls = re.findall(r'(?:src|href)="([^"]+)"', first.text)
    assert [url for url in urls if not url.startswith("/graphiql-assets/")] == ["data:,"]
    assert "//" not in first.text.replace("data:,", "")
    assert "query AgreementWithPlanAndVisits" in first.text  # the example document stays


@assets_missing
async def test_the_files_are_served_from_the_origin_for_good(client: GraphQLClient) -> None:
    page = await client.http.get("/graphql", headers={"accept": "text/html"})
    urls = re.findall(r'(?:src|href)="(/graphiql-assets/[^"]+)"', page.text)
    assert len(urls) == 8  # 6 pinned files, our script and stylesheet
    for url in urls:
        response = await client.http.get(url)
        assert response.status_code == 200, url
        kind = "text/javascript" if url.endswith(".js") else "text/css"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.http.get("/graphiql-assets/react@18.3.1/other.js")).status_code == 404


async def test_switched_off_neither_the_page_nor_its_files(seeded_db: TestDatabase) -> None:
    app = create_app(make_settings(seeded_db.url, CMS_GRAPHIQL="off"), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        script = await http.get("/graphiql-assets/react@18.3.1/react.production.min.js")
    assert page.status_code == 404
    assert script.status_code == 404
