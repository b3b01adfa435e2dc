"""Where a webhook may go: http(s) URLs whose host resolves only to public
addresses (no loopback, private, link-local, cloud-metadata, shared or reserved
ones) unless CMS_WEBHOOK_ALLOW_PRIVATE is set. The request then connects to the
address that was checked, so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot point it elsewhere."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddressError(Exception):
    """The URL is not one a webhook may be sent to; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as in the URL (the Host header and TLS name)
    port: int
    address: IP  # the checked address to connect to


def is_public(address: IP) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint's (in Russian), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "Адрес не разобран: проверьте URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Нужен адрес http:// или https:// с именем хоста."
    if parts.username or parts.password:
        return "Адрес не должен содержать логин и пароль."
    return None


async def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL's host resolved and checked; RefusedAddressError when it must not be
    called."""
    problem = url_problem(url)
    if problem is not None:
        raise RefusedAddressError(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise RefusedAddressError(f"имя {host} не найдено ({error.strerror})") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses:
        raise RefusedAddressError(f"имя {host} не найдено")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise RefusedAddressError(
                    f"адрес {address} ({host}) не публичный: доставка запрещена "
                    "(CMS_WEBHOOK_ALLOW_PRIVATE)"
                )
    return Target(parts.scheme, host, port, addresses[0])


def connect_url(url: str, target: Target) -> str:
    """`url` with its host replaced by the checked address."""
    parts = urlsplit(url)
    address = (
        f"[{target.address}]"
        if isinstance(target.address, ipaddress.IPv6Address)
        else str(target.address)
    )
    netloc = f"{address}:{target.port}"
    return parts._replace(netloc=netloc).geturl()
