"""The caller's address: the connection's, unless it comes through a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from cms.settings import Network


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Walks X-Forwarded-For from the right while hops are trusted proxies; the first
    untrusted hop is the client. A header sent by anyone else changes nothing."""
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address
        address = hop
        if not _is_trusted(hop, trusted):
            return hop
    return address
