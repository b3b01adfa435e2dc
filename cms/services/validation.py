"""Checking and cleaning mutation input: every problem is collected, then reported at once.

check = Checker()
name = check.text(data.name, ("input", "name"), required=True, max_length=200)
email = check.email(data.email, ("input", "email"))
check.raise_if_any()    # ValidationFailedError with every FieldError
"""

from __future__ import annotations

import re
import unicodedata

from cms.errors import Code, FieldError, ValidationFailedError

# Control characters except tab and newlines, and invisible format characters
# (zero-width spaces and joiners, bidi marks, overrides and isolates, BOM) that hide
# or reorder text.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MAX_EMAIL_LENGTH = 254


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC, without control and invisible characters, trimmed; single-line text also
    has its line breaks and runs of spaces collapsed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", value))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return " ".join(text.split())


def has_hidden_characters(value: str) -> bool:
    """Whether `value` holds control or invisible characters that clean_text drops."""
    return _INVISIBLE.search(value) is not None


def normalize_email(value: str) -> str:
    return clean_text(value).lower()


class Checker:
    """Collects FieldErrors while cleaning values; raises them all together."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: tuple[str, ...] | None, code: str, message: str) -> None:
        self.errors.append(FieldError(field, code, message))

    def text(
        self,
        value: str | None,
        field: tuple[str, ...],
        *,
        required: bool = False,
        max_length: int | None = None,
        multiline: bool = False,
        label: str | None = None,
    ) -> str | None:
        """The cleaned text, or None when empty (an error when required)."""
        name = label or field[-1]
        if value is None:
            if required:
                self.fail(field, Code.REQUIRED, f"Поле «{name}» обязательно.")
            return None
        text = clean_text(value, multiline=multiline)
        if not text:
            if required:
                self.fail(field, Code.REQUIRED, f"Поле «{name}» обязательно.")
            return None
        if max_length is not None and len(text) > max_length:
            self.fail(
                field,
                Code.TOO_LONG,
                f"Поле «{name}» длиннее {max_length} символов ({len(text)}).",
            )
        return text

    def email(
        self, value: str | None, field: tuple[str, ...], *, required: bool = False
    ) -> str | None:
        email = self.text(value, field, required=required, label="e-mail")
        if email is None:
            return None
        email = email.lower()
        if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
            self.fail(field, Code.INVALID, "Некорректный адрес электронной почты.")
            return None
        return email

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailedError(self.errors)
