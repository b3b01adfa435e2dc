"""Global object IDs as the API shows them: opaque, `base64url("Type:pk")`."""

from __future__ import annotations

import base64
import binascii


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_global_id(value: str) -> tuple[str, int] | None:
    """(type name, primary key), or None unless `value` is exactly what
    `encode_global_id` makes: the base64 decoder skips characters outside its
    alphabet, so without the comparison endless spellings (an id followed by dots)
    would name the same item and be stored as given."""
    if not value.isascii():
        return None
    try:
        decoded = base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4))
        type_name, separator, raw_pk = decoded.decode("utf-8").partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not separator or not type_name.isidentifier() or pk <= 0:
        return None
    if encode_global_id(type_name, pk) != value:
        return None
    return type_name, pk
