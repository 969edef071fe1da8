import datetime as dt

import pytest

from sources.identifiers import (
    IdNumberStatus,
    MobileStatus,
    classify_mobile,
    is_placeholder_mobile,
    keyed_hash,
    mask_id_number,
    mask_mobile,
    mask_name,
    normalize_mobile,
    parse_id_number,
    upgrade_id15,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13912345670",
        "+86 139 1234 5670",
        "0086-139-1234-5670",
        "139-1234-5670",
        "１３９１２３４５６７０",
        " 8613912345670 ",
    ],
)
def test_every_written_form_of_a_mobile_normalizes_to_11_digits(raw):
    assert normalize_mobile(raw) == "13912345670"


@pytest.mark.parametrize("raw", ["1391234567", "23912345670", "010-12345678", "abc", "139123456701"])
def test_non_mobiles_are_refused(raw):
    assert normalize_mobile(raw) is None
    assert classify_mobile(raw)[1] is MobileStatus.INVALID


@pytest.mark.parametrize("raw", ["13800138000", "13888888888", "11111111111", "13912345678", "13987654321"])
def test_placeholders_are_recognised(raw):
    assert classify_mobile(raw)[1] in (MobileStatus.PLACEHOLDER, MobileStatus.INVALID)


def _placeholder_by_the_rule(mobile: str) -> bool:
    """RULES.md's words, literally: the last 8 digits all one digit, or each step +1 or each -1."""
    tail = mobile[3:]
    steps = {int(b) - int(a) for a, b in zip(tail, tail[1:], strict=False)}
    return len(set(tail)) == 1 or steps in ({1}, {-1})


def test_the_placeholder_test_agrees_with_the_rule_on_every_kind_of_tail():
    tails = [d * 8 for d in "0123456789"]
    tails += ["0123456789"[i : i + 8] for i in range(3)] + ["9876543210"[i : i + 8] for i in range(3)]
    assert all(is_placeholder_mobile("139" + t, ()) for t in tails)  # the 10 repeats, the 6 runs
    near_misses = ["12345679", "23456788", "98765431", "01234566", "12121212", "89012345", "32109876"]
    assert not any(is_placeholder_mobile("139" + t, ()) for t in near_misses)
    tails += near_misses
    tails += [f"{n:08d}" for n in range(0, 10**8, 9_999_991)]  # ordinary numbers
    for tail in tails:
        mobile = "139" + tail
        assert is_placeholder_mobile(mobile, ()) == _placeholder_by_the_rule(mobile), mobile
    assert is_placeholder_mobile("13912341234", {"13912341234"})  # listed


def test_missing_mobile():
    assert classify_mobile("  ") == (None, MobileStatus.MISSING)
    assert classify_mobile(None) == (None, MobileStatus.MISSING)


def test_known_valid_id_numbers_pass_their_checksum():
    for raw in ["11010519491231002X", "440524188001010014", "34052419800101001X"]:
        assert parse_id_number(raw).status is IdNumberStatus.VALID


def test_lower_case_x_and_full_width_are_folded():
    parsed = parse_id_number("１１０１０５１９４９１２３１００２x")
    assert parsed.normalized == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender == "F"
    assert parsed.province_code == "11"


def test_a_15_digit_number_is_upgraded_per_gb_11643():
    assert upgrade_id15("340524800101001") == "34052419800101001X"
    assert parse_id_number("340524800101001").normalized == "34052419800101001X"


def test_a_failing_checksum_is_not_an_identifier_but_keeps_its_facts():
    parsed = parse_id_number("340524198001010013")
    assert parsed.status is IdNumberStatus.BAD_CHECKSUM
    assert parsed.normalized is None
    assert parsed.birth_date == dt.date(1980, 1, 1)


@pytest.mark.parametrize("raw", ["1101051949123100", "11010519491331002X", "ABCDEFGHIJKLMNOPQR"])
def test_malformed_id_numbers_are_invalid(raw):
    assert parse_id_number(raw).status is IdNumberStatus.INVALID


def test_masking_is_by_position_even_for_a_trailing_x():
    assert mask_mobile("13912345670") == "139****5670"
    assert mask_id_number("11010519491231002X") == "1****************X"
    assert "2X" not in mask_id_number("11010519491231002X")
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_keyed_hash_is_lower_hex_hmac_sha256_and_depends_on_the_key():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"13912345670", hashlib.sha256).hexdigest()
    assert keyed_hash("13912345670", b"k") == expected
    assert keyed_hash("13912345670", b"other") != expected
    # a key longer than SHA-256's block is hashed first; messages are UTF-8; states are per key
    for key in (b"k", b"x" * 64, b"y" * 65, bytes(range(200))):
        for value in ("13912345670", "张三", ""):
            assert keyed_hash(value, key) == hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
