"""The appeal settings: defaults, and clear refusals of values the CMS cannot use."""

from __future__ import annotations

import pytest

from cms.settings import SettingsError
from tests.conftest import make_settings


def test_defaults() -> None:
    settings = make_settings("sqlite://:memory:")
    assert settings.appeal_registration == "auto"
    assert settings.appeal_number_pattern == "ОГ-{year}-{seq:05d}"
    assert settings.appeal_timezone == "Asia/Vladivostok"
    assert settings.appeal_calendar == "ru"
    assert (
        settings.appeal_registration_days,
        settings.appeal_answer_days,
        settings.appeal_max_extension_days,
    ) == (3, 30, 30)
    assert (settings.appeal_status_limit.count, settings.appeal_status_limit.seconds) == (20, 3600)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CMS_APPEAL_REGISTRATION", "sometimes"),
        ("CMS_APPEAL_TIMEZONE", "Mars/Olympus"),
        ("CMS_APPEAL_CALENDAR", "lunar"),
        ("CMS_APPEAL_ANSWER_DAYS", "0"),
        ("CMS_APPEAL_MAX_EXTENSION_DAYS", "many"),
        ("CMS_APPEAL_STATUS_LIMIT", "20"),
        ("CMS_APPEAL_NUMBER_PATTERN", "ОГ-{year}-{seq:05d}-" + "x" * 40),
    ],
)
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        make_settings("sqlite://:memory:", **{name: value})
