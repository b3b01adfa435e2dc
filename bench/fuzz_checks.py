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
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Over JSON an Upload can only be a string (or null): whatever it is, the answer must
# be a refusal, not a crash.
schemathesis.graphql.scalar("Upload", st.text(max_size=40).map(nodes.String))


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        payload = json.loads(response.text)
    except ValueError:
        return None  # not a GraphQL answer (e.g. a 4xx in plain text): not ours to judge
    errors = payload.get("errors") if isinstance(payload, dict) else None
    for error in errors or ():
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"INTERNAL_SERVER_ERROR at {error.get('path')}: {error}")
    return None
