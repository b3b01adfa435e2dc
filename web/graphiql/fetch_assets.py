"""Fetches GraphiQL's browser files (GraphiQL, React, ReactDOM, the explorer plugin)
from the npm registry into web/graphiql/assets/, so that the CMS serves them from its
own origin (the page then works without internet access and under a strict CSP).

What is fetched is pinned in assets.lock.json: each package's version, tarball URL
and the registry's `dist.integrity` (sha512 of the tarball, `npm view NAME@VERSION
dist`), and for each file taken from the tarball its sha256. A tarball whose hash
differs is refused and nothing of it is written. Files already present with the
locked sha256 are left alone, so running it again does nothing.

Standard library only, no Node.js: `make graphiql-assets` (a step of `make run` and
`make test`) runs `python web/graphiql/fetch_assets.py`.

To move to another version: put its version, tarball and integrity (from `npm view`)
into the lock, then run with `--relock`, which fills in the files' sha256 from the
verified tarball.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK_FILE = HERE / "assets.lock.json"
ASSETS_DIR = HERE / "assets"
REGISTRY = "https://registry.npmjs.org/"
# The largest tarball accepted (graphiql's is about 4 MB): a bound, not a guess.
MAX_TARBALL_BYTES = 64 * 1024 * 1024
TIMEOUT_SECONDS = 60


class AssetError(Exception):
    """A download, hash or lock problem, with a message for the person running make."""


@dataclass(frozen=True, slots=True)
class AssetFile:
    source: str  # the member's path inside the tarball, e.g. package/umd/react.production.min.js
    name: str  # the file name it is served under
    sha256: str  # hex

    @property
    def sri(self) -> str:
        """The Subresource Integrity value of the file (sha256, base64)."""
        return "sha256-" + base64.b64encode(bytes.fromhex(self.sha256)).decode()


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    tarball: str
    integrity: str  # npm's dist.integrity: "sha512-<base64>"
    files: tuple[AssetFile, ...]

    @property
    def folder(self) -> str:
        """The folder of its files, also their URL segment: name@version, without the
        scope's "@" and "/" (@graphiql/plugin-explorer -> graphiql-plugin-explorer)."""
        return f"{self.name.lstrip('@').replace('/', '-')}@{self.version}"


def load_lock(path: Path = LOCK_FILE) -> tuple[Package, ...]:
    data = json.loads(path.read_text(encoding="utf-8"))
    packages = []
    for entry in data["packages"]:
        package = Package(
            name=entry["name"],
            version=entry["version"],
            tarball=entry["tarball"],
            integrity=entry["integrity"],
            files=tuple(
                AssetFile(source=f["source"], name=f["name"], sha256=f.get("sha256", ""))
                for f in entry["files"]
            ),
        )
        if not package.tarball.startswith(REGISTRY):
            raise AssetError(f"{package.name}: the tarball must come from {REGISTRY}")
        if not package.integrity.startswith("sha512-"):
            raise AssetError(f"{package.name}: integrity must be npm's sha512 (dist.integrity)")
        for file in package.files:
            if Path(file.name).name != file.name or file.name.startswith("."):
                raise AssetError(f"{package.name}: {file.name!r} must be a plain file name")
        packages.append(package)
    return tuple(packages)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_present(package: Package, assets_dir: Path = ASSETS_DIR) -> bool:
    """Every file of the package is there with its locked hash."""
    folder = assets_dir / package.folder
    return all(
        (folder / f.name).is_file() and file_sha256(folder / f.name) == f.sha256
        for f in package.files
    )


def verify_integrity(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(f"integrity mismatch: expected {integrity}, got {algorithm}-{actual}")


def download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"user-agent": "cms-graphiql-assets"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{url}: larger than {MAX_TARBALL_BYTES} bytes")
    return data


def extract(package: Package, tarball: bytes, *, relock: bool = False) -> dict[str, bytes]:
    """The package's files from its verified tarball, each checked against its sha256
    (or, with relock, whatever they are)."""
    verify_integrity(tarball, package.integrity)
    contents: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for asset in package.files:
            try:
                member = archive.getmember(asset.source)
            except KeyError:
                raise AssetError(f"{package.name}: no {asset.source} in the tarball") from None
            reader = archive.extractfile(member) if member.isfile() else None
            if reader is None:
                raise AssetError(f"{package.name}: {asset.source} is not a regular file")
            data = reader.read()
            if not relock and hashlib.sha256(data).hexdigest() != asset.sha256:
                raise AssetError(f"{package.name}: {asset.source} differs from the lock")
            contents[asset.name] = data
    return contents


def install(package: Package, contents: dict[str, bytes], assets_dir: Path = ASSETS_DIR) -> None:
    """Writes the files; each through a temporary name, so a file is whole or absent."""
    folder = assets_dir / package.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        partial = folder / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(folder / name)


def relock(path: Path = LOCK_FILE) -> None:
    """Fills in the sha256 of every file from the verified tarballs."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry, package in zip(data["packages"], load_lock(path), strict=True):
        contents = extract(package, download(package.tarball), relock=True)
        for file_entry in entry["files"]:
            file_entry["sha256"] = hashlib.sha256(contents[file_entry["name"]]).hexdigest()
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def fetch_all(assets_dir: Path = ASSETS_DIR, lock_file: Path = LOCK_FILE) -> int:
    """Fetches what is missing; returns how many packages were fetched."""
    fetched = 0
    for package in load_lock(lock_file):
        if is_present(package, assets_dir):
            continue
        print(f"GraphiQL assets: fetching {package.name}@{package.version}", flush=True)
        install(package, extract(package, download(package.tarball)), assets_dir)
        fetched += 1
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--relock", action="store_true", help="fill in the files' sha256 from the tarballs"
    )
    arguments = parser.parse_args(argv)
    try:
        if arguments.relock:
            relock()
            return 0
        fetched = fetch_all()
    except (AssetError, OSError) as problem:  # urllib's errors are OSErrors
        print(f"GraphiQL assets: {problem}", file=sys.stderr)
        return 1
    if fetched == 0:
        print("GraphiQL assets: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
