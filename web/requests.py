"""What every upload request (multipart to /graphql or /media) must satisfy before its
body is read: a header that a cross-site form cannot send, and a size within the
upload limit (enforced by the server's body limit). Framework-free: headers come in
as a lower-case mapping."""

from __future__ import annotations

from collections.abc import Mapping

from cms.settings import Settings

# A browser sends a cross-site <form> POST without a preflight, but never with a custom
# header; any of these forces the preflight that CORS then refuses (Apollo's rule).
PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight", "x-requested-with")
# Room for the other multipart fields (operations, map, alt, caption, credit) and the
# part headers around the file itself.
MULTIPART_OVERHEAD = 256 * 1024


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "multipart/form-data"


def csrf_problem(headers: Mapping[str, str]) -> str | None:
    """Why a multipart request is refused as possibly cross-site, or None."""
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return None
    return (
        "Загрузка файлов требует заголовок GraphQL-Require-Preflight, "
        "Apollo-Require-Preflight или X-Requested-With (защита от подделки запросов)."
    )


def upload_body_limit(settings: Settings) -> int:
    """The largest multipart body accepted: the largest file plus the other fields."""
    return settings.media_max_bytes + MULTIPART_OVERHEAD
