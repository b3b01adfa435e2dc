"""Check digits of Russian registration numbers: ИНН (taxpayer number) and ОГРН
(state registration number), with the algorithms of the Federal Tax Service.
Each check returns a message in Russian naming the field, or None when valid."""

from __future__ import annotations

_INN_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _control(digits: str, weights: tuple[int, ...]) -> int:
    return (
        sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=False)) % 11 % 10
    )


def inn_problem(value: str) -> str | None:
    """ИНН: 10 digits for an organisation, 12 for an individual entrepreneur."""
    if not value.isascii() or not value.isdigit() or len(value) not in (10, 12):
        return "Поле «ИНН» должно состоять из 10 цифр (организация) или 12 цифр (ИП)."
    if len(value) == 10:
        valid = _control(value, _INN_10) == int(value[9])
    else:
        valid = _control(value, _INN_11) == int(value[10]) and _control(value, _INN_12) == int(
            value[11]
        )
    return None if valid else "Поле «ИНН»: неверная контрольная цифра."


def ogrn_problem(value: str) -> str | None:
    """ОГРН: 13 digits for an organisation; ОГРНИП: 15 for an individual entrepreneur."""
    if not value.isascii() or not value.isdigit() or len(value) not in (13, 15):
        return "Поле «ОГРН» должно состоять из 13 цифр (организация) или 15 цифр (ОГРНИП)."
    body, control = value[:-1], int(value[-1])
    modulus = 11 if len(value) == 13 else 13
    if int(body) % modulus % 10 != control:
        return "Поле «ОГРН»: неверная контрольная цифра."
    return None
