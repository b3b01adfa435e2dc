"""Russian phone numbers as people type them, in one stored form: +7XXXXXXXXXX."""

from __future__ import annotations

import re

# What people put between digits: spaces, dashes, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-.()\u2010-\u2015\u00a0]")
# A Russian national number (after +7 or 8) starts with 3, 4, 8 or 9: geographic
# codes (3xx, 4xx, 8xx), mobile (9xx) and 800 numbers. +7 6xx and +7 7xx are
# Kazakhstan's, and are not taken as Russian.
_NATIONAL = re.compile(r"[3489]\d{9}")


def normalize_russian_phone(value: str) -> str | None:
    """'+7XXXXXXXXXX', or None when `value` is not a Russian number.

    Takes +7 916 123-45-67, 8 (4162) 12-34-56, 79161234567, 89161234567 and the
    ten-digit national form 916 123 45 67."""
    compact = _SEPARATORS.sub("", value)
    if compact.startswith("+"):
        if not compact.startswith("+7"):
            return None
        national = compact[2:]
    elif len(compact) == 11 and compact[0] in "78":
        national = compact[1:]
    elif len(compact) == 10:
        national = compact
    else:
        return None
    if not national.isascii() or not _NATIONAL.fullmatch(national):
        return None
    return "+7" + national
