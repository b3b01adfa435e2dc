"""The schemathesis check of `make fuzz` (loaded through SCHEMATHESIS_HOOKS).

Registers a strategy for the one custom input scalar schemathesis does not know
(Upload). A failure is only what the CMS promises never to answer: a 5xx, or a GraphQL error
with the code INTERNAL_SERVER_ERROR. Refusals (FORBIDDEN, BAD_USER_INPUT,
LIMIT_EXCEEDED, validation errors ...) are the expected answers to generated input,
so schemathesis's own GraphQL checks, which count every error with data as a server
error, are not used.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Over JSON an Upload can only be a string (or null): whatever it is, the answer must
# be a refusal, not a crash.
schemathesis.graphql.scalar("Upload", st.text(max_size=40).map(nodes.String))


# bench/fuzz.py reads what each answer was (its status and error codes) from here, to
# show how far the generated operations got (validation, permissions, resolvers).
_TALLY = os.environ.get("FUZZ_TALLY")
_lock = threading.Lock()


def _tally(status: int, codes: list[str]) -> None:
    if _TALLY:
        with _lock, open(_TALLY, "a", encoding="utf-8") as tally:
            tally.write(f"{status} {','.join(codes) or '-'}\n")


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> bool | None:
    try:
        payload = json.loads(response.text)
    except ValueError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    codes = [
        str(error.get("extensions", {}).get("code", "GRAPHQL_VALIDATION"))
        for error in errors or ()
        if isinstance(error, dict)
    ]
    _tally(response.status_code, codes)
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    for error in errors or ():
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"INTERNAL_SERVER_ERROR at {error.get('path')}: {error}")
    return None
