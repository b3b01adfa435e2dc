"""Standard Webhooks 1.0 signatures: `v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the endpoint's secret, through the `standardwebhooks`
library (small, no dependencies), the one receivers use to verify."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """24 random bytes, base64, with the prefix the Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def headers(
    signing_secrets: Sequence[str], message_id: str, moment: datetime, body: bytes
) -> dict[str, str]:
    """The three headers; during a rotation's grace period each secret signs, and the
    signatures are listed space-separated (the receiver accepts any that matches)."""
    signature = " ".join(
        Webhook(secret).sign(message_id, moment, body) for secret in signing_secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
