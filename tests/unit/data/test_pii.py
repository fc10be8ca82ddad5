"""redact: each PII type is found in its common forms, and near misses are left alone."""

from __future__ import annotations

import pytest

from tuneforge.data.pii import redact


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("mail li.wei+cs@mail.example.com.cn now", "mail [EMAIL] now", "EMAIL"),
        ("邮箱zhang_san@163.com谢谢", "邮箱[EMAIL]谢谢", "EMAIL"),
        ("手机13812345678", "手机[PHONE]", "PHONE"),
        ("call 138-1234-5678.", "call [PHONE].", "PHONE"),
        ("call 138 1234 5678", "call [PHONE]", "PHONE"),
        ("tel +86 139 1234 5678", "tel [PHONE]", "PHONE"),
        ("tel 0086-15912345678", "tel [PHONE]", "PHONE"),
        ("tel +44 20 7946 0958", "tel [PHONE]", "PHONE"),
        ("tel +1 (415) 555-2671", "tel [PHONE]", "PHONE"),
        ("tel (415) 555-2671", "tel [PHONE]", "PHONE"),
        ("座机010-12345678", "座机[PHONE]", "PHONE"),
        ("座机(0755) 1234567", "座机[PHONE]", "PHONE"),
        ("客服400-820-8820", "客服[PHONE]", "PHONE"),
        ("身份证11010519491231002X。", "身份证[ID_CARD]。", "ID_CARD"),
        ("ID 11010519491231002x", "ID [ID_CARD]", "ID_CARD"),
        ("ID 440301199003071230", "ID [ID_CARD]", "ID_CARD"),
        ("card 4111 1111 1111 1111 ok", "card [BANK_CARD] ok", "BANK_CARD"),
        ("card 5500-0000-0000-0004", "card [BANK_CARD]", "BANK_CARD"),
        ("银行卡6250946000000016", "银行卡[BANK_CARD]", "BANK_CARD"),
        ("amex 378282246310005", "amex [BANK_CARD]", "BANK_CARD"),
        ("from 192.168.1.254, retry", "from [IP], retry", "IP"),
        ("host 2001:db8::8a2e:370:7334 down", "host [IP] down", "IP"),
        ("link fe80::1 up", "link [IP] up", "IP"),
    ],
)
def test_redact_finds(text, expected, kind):
    redacted, counts = redact(text)
    assert redacted == expected
    assert counts == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "ID 110105194912310021",  # checksum should be X
        "ID 110105194902300020",  # valid checksum, but born on February 30th
        "card 4111 1111 1111 1112",  # fails Luhn
        "order 2024031500123",  # 13 digits, no card issuer starts with 2024
        "ip 999.1.1.1",
        "ip 256.10.10.10",
        "version 1.2.3.4.5",
        "version 1.2.3",
        "at 10:30:00",
        "mac 00:1a:2b:3c:4d:5e",
        "std::vector and a :: b",
        "12812345678",  # no Chinese mobile starts with 12
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "order A13812345678",  # glued to a letter: an order code
        "total 2,310.50 yuan on 2024-03-15",
        "user@localhost",
    ],
)
def test_redact_leaves_near_misses(text):
    assert redact(text) == (text, {})


def test_redact_counts_every_type_and_checks_ids_before_phones():
    text = "ID 11010519491231002X card 4111111111111111 phone 13912345678 a@b.io 10.0.0.1 and 13812345678"
    redacted, counts = redact(text)
    assert redacted == "ID [ID_CARD] card [BANK_CARD] phone [PHONE] [EMAIL] [IP] and [PHONE]"
    assert counts == {"ID_CARD": 1, "BANK_CARD": 1, "PHONE": 2, "EMAIL": 1, "IP": 1}
