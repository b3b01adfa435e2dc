"""Trusted documents: registering the operations front-ends ship, and finding them.

Sources (`python -m cms register-documents PATH`):
- a directory of `.graphql` files (searched recursively): one document per file,
  its id the SHA-256 of the file's text, exactly as stored;
- a JSON manifest: GraphQL Code Generator's persisted documents (`{"<hash>": "<query>"}`)
  or Apollo's persisted query manifest (`{"format": "apollo-persisted-query-manifest",
  "operations": [{"id", "name", "body"}, ...]}`).

Ids that look like a SHA-256 must be the SHA-256 of their text: a mismatch means a
corrupted manifest and is refused, since clients compute the same hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.models import TrustedDocument

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_ID = 128


def document_hash(query: str) -> str:
    """The SHA-256 of a GraphQL document's text: its id as a persisted (APQ) or trusted
    document, and the response cache's key of the document."""
    return hashlib.sha256(query.encode()).hexdigest()


class DocumentSourceError(ValueError):
    """A directory or manifest that cannot be registered, with the reason."""


@dataclass(frozen=True, slots=True)
class Document:
    document_id: str
    body: str
    name: str | None = None

    @property
    def sha256(self) -> str:
        return document_hash(self.body)


def read_documents(path: Path) -> list[Document]:
    if path.is_dir():
        files = sorted(path.rglob("*.graphql"))
        if not files:
            raise DocumentSourceError(f"{path}: no .graphql files")
        documents = []
        for file in files:
            body = file.read_text(encoding="utf-8")
            if body.strip():
                documents.append(Document(document_hash(body), body, str(file.relative_to(path))))
        return documents
    if path.is_file():
        try:
            return _manifest(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError as error:
            raise DocumentSourceError(f"{path}: not JSON ({error})") from None
    raise DocumentSourceError(f"{path}: no such file or directory")


def _manifest(data: Any) -> list[Document]:
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = []
        for operation in data["operations"]:
            if not isinstance(operation, dict):
                raise DocumentSourceError("each entry of `operations` must be an object")
            pairs.append((operation.get("id"), operation.get("body"), operation.get("name")))
    elif isinstance(data, dict):
        pairs = [(key, value, None) for key, value in data.items()]
    else:
        raise DocumentSourceError("a manifest is an object: {hash: query} or Apollo's format")
    documents = []
    for document_id, body, name in pairs:
        if not isinstance(document_id, str) or not 0 < len(document_id) <= _MAX_ID:
            raise DocumentSourceError(f"bad document id {document_id!r}")
        if not isinstance(body, str) or not body.strip():
            raise DocumentSourceError(f"document {document_id}: no text")
        document = Document(document_id, body, name if isinstance(name, str) else None)
        if _SHA256.match(document_id) and document.sha256 != document_id:
            raise DocumentSourceError(
                f"document {document_id}: its text does not have this SHA-256"
            )
        documents.append(document)
    return documents


async def register(documents: list[Document]) -> tuple[int, int]:
    """Stores the documents not yet registered; (added, already there)."""
    ids = [document.document_id for document in documents]
    async with in_transaction():
        known = set(await flat_values(TrustedDocument.filter(document_id__in=ids), "document_id"))
        fresh = {d.document_id: d for d in documents if d.document_id not in known}
        await TrustedDocument.bulk_create(
            [
                TrustedDocument(
                    document_id=d.document_id, sha256=d.sha256, body=d.body, name=d.name
                )
                for d in fresh.values()
            ]
        )
    return len(fresh), len(set(ids) & known)


async def all_documents() -> dict[str, tuple[str, str]]:
    """document id -> (sha256, body), for the in-process set."""
    rows = await TrustedDocument.all().values_list("document_id", "sha256", "body")
    return {document_id: (sha256, body) for document_id, sha256, body in rows}


async def find(document_id: str) -> tuple[str, str] | None:
    row = await TrustedDocument.filter(document_id=document_id).values_list("sha256", "body")
    return (row[0][0], row[0][1]) if row else None


async def find_by_sha256(sha256: str) -> tuple[str, str] | None:
    row = await TrustedDocument.filter(sha256=sha256).limit(1).values_list("document_id", "body")
    return (row[0][0], row[0][1]) if row else None
