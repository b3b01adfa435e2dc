"""Global object IDs as the API shows them: opaque, `base64url("Type:pk")`."""

from __future__ import annotations

import base64


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()
