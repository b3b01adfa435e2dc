"""Sending e-mail over SMTP, configured by one URL (CMS_SMTP_URL).

smtp://[user:password@]host[:port]           plain (port 25 by default)
smtp+starttls://[user:password@]host[:port]  STARTTLS required (port 587)
smtps://[user:password@]host[:port]          TLS from the start (port 465)

The standard library's smtplib runs in a worker thread: a few e-mails an hour
need no extra dependency, and the event loop never waits on the network.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:password@host:port")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpServer({self.scheme}://{self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str

    def as_message(self) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(self.body)
        return message


def _send_blocking(server: SmtpServer, mail: Mail) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    with client:
        if server.scheme == "smtp+starttls":
            client.starttls(context=context)
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(mail.as_message(), from_addr=mail.sender, to_addrs=mail.recipients)


async def send_mail(server: SmtpServer, mail: Mail) -> None:
    """Delivers `mail` to the server; raises smtplib.SMTPException or OSError."""
    await asyncio.to_thread(_send_blocking, server, mail)
