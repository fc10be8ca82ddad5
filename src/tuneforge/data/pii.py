"""Replace personal data by typed placeholders: [EMAIL], [ID_CARD], [BANK_CARD], [IP], [PHONE].

Patterns find candidates; checksums and ranges decide, so that order numbers and versions are left alone.
Run it on normalised text: digits and separators are matched in their ASCII (half-width) forms.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections import Counter
from collections.abc import Callable
from functools import partial

__all__ = ["PII_TYPES", "redact"]

# Digit runs must not be glued to other letters or digits: "A13812345678" is an order code, not a phone.
_B = r"(?<![0-9A-Za-z])"
_E = r"(?![0-9A-Za-z])"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# GB 11643: 6-digit region, 8-digit birth date, 3-digit sequence, check character 0-9 or X.
_ID_CARD = re.compile(_B + r"\d{17}[\dXx]" + _E)
_BANK_CARD = re.compile(_B + r"\d(?:[ -]?\d){12,18}" + _E)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_PHONE = re.compile(
    "|".join(
        [
            # Chinese mobile, optionally +86 / 0086: 13812345678, 138-1234-5678, +86 138 1234 5678
            r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}" + _E,
            # international with a leading +: +44 20 7946 0958, +1 (415) 555-2671
            r"\+\d{1,3}[ -]?(?:\(\d{1,4}\)[ -]?)?\d{1,4}(?:[ -]?\d{2,4}){1,4}" + _E,
            # Chinese landline with area code: 010-12345678, (0755) 1234567
            _B + r"(?:0\d{2,3}-|\(0\d{2,3}\) ?)\d{7,8}" + _E,
            # North American / 400 service numbers with separators: 415-555-2671, (415) 555-2671, 400-820-8820
            r"(?<![0-9A-Za-z(])(?:\(\d{3}\) ?|\d{3}[-.])\d{3}[-.]\d{4}" + _E,
        ]
    )
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_id_card(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17].upper():
        return False
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= datetime.date.today()


def _valid_bank_card(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    # Issuer prefixes: Amex/JCB 3, Visa 4, Mastercard 5 and 2221-2720, UnionPay and Discover 6.
    prefix = int("".join(map(str, digits[:4])))
    if digits[0] not in (3, 4, 5, 6) and not 2221 <= prefix <= 2720:
        return False
    # Luhn: double every second digit from the right.
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def _valid_ipv4(candidate: str) -> bool:
    return all(int(octet) <= 255 for octet in candidate.split("."))


def _valid_ipv6(candidate: str) -> bool:
    if not any(c.isalnum() for c in candidate):  # a bare "::" in prose is valid IPv6 but not an address
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _valid_phone(candidate: str) -> bool:
    return 7 <= sum(c.isdigit() for c in candidate) <= 15  # E.164 allows at most 15 digits


# Order matters: e-mails first (they may hold digits), IDs and cards before phones (a phone pattern would match
# inside them), IPs before phones ("192.168.100.1000" is not a phone either).
_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...] = (
    ("EMAIL", _EMAIL, lambda _: True),
    ("ID_CARD", _ID_CARD, _valid_id_card),
    ("BANK_CARD", _BANK_CARD, _valid_bank_card),
    ("IP", _IPV4, _valid_ipv4),
    ("IP", _IPV6, _valid_ipv6),
    ("PHONE", _PHONE, _valid_phone),
)
PII_TYPES = ("EMAIL", "ID_CARD", "BANK_CARD", "IP", "PHONE")


def redact(text: str) -> tuple[str, Counter[str]]:
    """Replace personal data by placeholders and count them per type.

    >>> redact("call 138-1234-5678 or mail li.wei@example.com")
    ('call [PHONE] or mail [EMAIL]', Counter({'EMAIL': 1, 'PHONE': 1}))
    """
    counts: Counter[str] = Counter()
    for name, pattern, valid in _RULES:
        text = pattern.sub(partial(_replace, name=name, valid=valid, counts=counts), text)
    return text, counts


def _replace(match: re.Match[str], *, name: str, valid: Callable[[str], bool], counts: Counter[str]) -> str:
    if not valid(match.group()):
        return match.group()
    counts[name] += 1
    return f"[{name}]"
