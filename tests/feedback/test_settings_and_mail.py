"""Feedback settings are checked at start-up; SMTP logins work with the URL's credentials."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cms.services.mail import Mail, SmtpServer, send_mail
from cms.settings import SettingsError, load_settings
from tests.feedback.conftest import SmtpRecorder, free_port


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CMS_FEEDBACK_LIMIT_ADDRESS", "ten"),
        ("CMS_FEEDBACK_LIMIT_CONTACT", "5/0"),
        ("CMS_FEEDBACK_DEDUPE_SECONDS", "-1"),
        ("CMS_FEEDBACK_RETENTION_DAYS", "0"),
        ("CMS_FEEDBACK_RETENTION_MODE", "shred"),
        ("CMS_SMTP_URL", "http://mail.example.ru"),
        ("CMS_SMTP_URL", "smtp://user:secret@mail.example.ru:port"),
        ("CMS_FEEDBACK_NOTIFY_TO", "staff@example.ru, nobody"),
    ],
)
def test_bad_feedback_settings_are_refused_with_the_variable_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"CMS_SECRET_KEY": "k", name: value})
    assert name in str(caught.value)
    assert "secret" not in str(caught.value)  # a password in the URL is never repeated


def test_feedback_defaults() -> None:
    settings = load_settings({"CMS_SECRET_KEY": "k", "CMS_PUBLIC_URL": "https://api.example/"})
    assert (settings.feedback_limit_address.count, settings.feedback_limit_address.seconds) == (
        10,
        3600,
    )
    assert settings.feedback_dedupe_seconds == 600
    assert settings.feedback_retention_mode == "anonymize"
    assert settings.smtp_url is None
    assert settings.feedback_queue_url == "https://api.example/graphql"


def test_smtp_urls() -> None:
    server = SmtpServer.from_url("smtps://robot%40portal:p%3Ass@mail.example.ru")
    assert (server.scheme, server.host, server.port) == ("smtps", "mail.example.ru", 465)
    assert (server.username, server.password) == ("robot@portal", "p:ss")
    assert "p:ss" not in repr(server)
    assert SmtpServer.from_url("smtp+starttls://mail.example.ru").port == 587


class Accounts:
    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.password == b"p:ss")


async def test_mail_is_sent_with_the_urls_login() -> None:
    recorder = SmtpRecorder()
    accounts = Accounts()
    port = free_port()
    # A local test server: plain-text AUTH allowed without TLS.
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, authenticator=accounts, auth_require_tls=False
    )
    controller.start()
    try:
        mail = Mail("portal@example.ru", ("staff@example.ru",), "Тема", "Текст письма")
        await send_mail(SmtpServer.from_url(f"smtp://robot%40portal:p%3Ass@127.0.0.1:{port}"), mail)
    finally:
        controller.stop()
    assert accounts.logins == ["robot@portal"]
    (message,) = recorder.messages()
    assert message["Subject"] == "Тема"
    assert message.get_content().strip() == "Текст письма"
