"""Pure parsers and normalizers, one value at a time (the same expressions ingestion runs on columns)."""

import datetime as dt
from decimal import Decimal

import pytest

from sources.exports import values as v
from sources.exports.personal import PersonalData
from sources.exports.reader import fold_header, parse_file_name
from sources.pii import PiiVault
from tests.ingestion.torture import ID15, ID_BAD, ID_VALID, VIN_BAD_CHECK, VIN_OK, VIN_OK2


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2026-11-03", dt.datetime(2026, 11, 3)),
        ("2026/11/3", dt.datetime(2026, 11, 3)),
        ("20261103", dt.datetime(2026, 11, 3)),
        ("2026-11-03 14:05:00", dt.datetime(2026, 11, 3, 14, 5)),
        ("2026/11/3 8:05", dt.datetime(2026, 11, 3, 8, 5)),
        ("2026-11-03T14:05:09.250", dt.datetime(2026, 11, 3, 14, 5, 9)),
        ("2026年11月3日", dt.datetime(2026, 11, 3)),
        ("２０２６年１１月３日", dt.datetime(2026, 11, 3)),
        (" 2026.11.03 ", dt.datetime(2026, 11, 3)),
        ("46329", dt.datetime(2026, 11, 3)),  # Excel serial
        ("46329.586805556", dt.datetime(2026, 11, 3, 14, 5)),  # Excel serial with time
    ],
)
def test_timestamps_in_every_accepted_form(raw, expected):
    assert v.parse_timestamp(raw) == expected
    assert v.parse_date(raw) == expected.date()


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13-01", "2026-11-03 25:00", "abc", "2026", "11/3/2026"])
def test_impossible_or_unreadable_dates_are_null(raw):
    assert v.parse_date(raw) is None
    assert v.parse_timestamp(raw) is None


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_empty_cells_are_null_not_errors(raw):
    assert v.parse_date(raw) is None
    assert v.fold(raw) is None


@pytest.mark.parametrize(
    "raw, expected",
    [("2026-11", dt.date(2026, 11, 1)), ("2026年11月", dt.date(2026, 11, 1)),
     ("202611", dt.date(2026, 11, 1)), ("2026/11/23", dt.date(2026, 11, 1)), ("2026-13", None)],
)  # fmt: skip
def test_months_land_as_their_first_day(raw, expected):
    assert v.parse_month(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("¥1,234.50", Decimal("1234.50")), ("￥350.5", Decimal("350.50")), ("12 345元", Decimal("12345.00")),
     ("１２３.４５", Decimal("123.45")), ("-80", Decimal("-80.00")), ("9.999", Decimal("10.00")),
     ("abc", None), ("1.2.3", None)],
)  # fmt: skip
def test_amounts(raw, expected):
    assert v.parse_amount(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12,345", 12345),
        ("12345.0", 12345),
        ("8000 km", 8000),
        ("90秒", 90),
        ("５", 5),
        ("1.5", None),
        ("五", None),
    ],
)
def test_whole_numbers(raw, expected):
    assert v.parse_integer(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("Y", True), ("n", False), ("是", True), ("否", False), ("1", True), ("0", False), ("TRUE", True),
     ("false", False), ("Ｙ", True), ("maybe", None), ("", None)],
)  # fmt: skip
def test_booleans(raw, expected):
    assert v.parse_boolean(raw) == expected


def test_vin_normalized_and_check_digit_flagged_not_rejected():
    assert v.normalize_vin(" 1m8gdm9axkp042788 ") == VIN_OK
    assert v.normalize_vin("1M8-GDM9AXKP042788") == VIN_OK
    assert v.vin_check_ok(VIN_OK) is True  # check digit X
    assert v.vin_check_ok(VIN_OK2) is True
    assert v.normalize_vin(VIN_BAD_CHECK) == VIN_BAD_CHECK  # kept...
    assert v.vin_check_ok(VIN_BAD_CHECK) is False  # ...and flagged


@pytest.mark.parametrize(
    "raw",
    ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "IM8GDM9AXKP042788", "1M8GDM9AXKPO42788", "1M8GDM9AXKP04278Q"],
)
def test_malformed_vins_are_not_vins(raw):
    assert v.normalize_vin(raw) is None


@pytest.fixture
def personal():
    return PersonalData(PiiVault(b"test-key"))


def test_mobile_columns_hash_mask_encrypt(personal):
    hmac, status, masked, enc = personal.mobile("+86 138-0013-8001")
    assert status == "valid" and masked == "138****8001"
    assert hmac == personal.vault.hash("13800138001")
    assert personal.vault.decrypt(enc) == "13800138001"
    assert personal.mobile("１３８００１３８００１")[0] == hmac  # full-width digits
    assert personal.mobile("13800138000")[1] == "placeholder"
    assert personal.mobile("12345")[:2] == (None, "invalid")
    assert personal.mobile(None) == (None, "missing", None, None)


def test_id_numbers_checksum_case_and_old_form(personal):
    hmac, status, birth, gender, province, masked = personal.id_number(ID_VALID.lower())
    assert status == "valid" and hmac == personal.vault.hash(ID_VALID)
    assert birth == dt.date(1949, 12, 31) and gender == "F" and province == "11"
    assert masked == ID_VALID[0] + "*" * 16 + "X"
    assert personal.id_number(ID15)[0] == hmac  # the 15-digit form is the same person
    bad = personal.id_number(ID_BAD)
    assert bad[0] is None and bad[1] == "bad_checksum"  # not an identifier, but facts kept
    assert personal.id_number("12345")[1] == "invalid"


def test_names_masked_and_encrypted(personal):
    masked, enc = personal.name(" 欧阳娜娜 ")
    assert masked == "欧***" and personal.vault.decrypt(enc) == "欧阳娜娜"


def test_an_unusable_personal_cell_is_hashed_whole(personal):
    assert personal.hashed_text("老客户 13800138009").startswith("hmac:")


@pytest.mark.parametrize(
    "name, table, date",
    [("repair_orders_2026-11-30.csv", "repair_orders", dt.date(2026, 11, 30)),
     ("campaign_participants_20261031.xlsx", "campaign_participants", dt.date(2026, 10, 31)),
     ("campaigns_2026-10-31.csv", "campaigns", dt.date(2026, 10, 31)),
     ("vehicle_sales_202602.csv", "vehicle_sales", dt.date(2026, 2, 28)),
     ("dealers.csv", "dealers", None),
     ("车辆销售_202611.xlsx", "vehicle_sales", dt.date(2026, 11, 30)),
     ("维修工单_20261103.csv", "repair_orders", dt.date(2026, 11, 3)),
     ("车辆销售202611.xlsx", "vehicle_sales", dt.date(2026, 11, 30)),
     ("活动报名-2026-10.csv", "campaign_participants", dt.date(2026, 10, 31)),
     ("经销商.xlsx", "dealers", None),
     ("车辆保险_202611.xlsx", None, dt.date(2026, 11, 30)),
     ("service_log_2026-10-31.csv", None, dt.date(2026, 10, 31))],
)  # fmt: skip
def test_file_names_give_table_and_export_date(name, table, date):
    parsed = parse_file_name(name)
    assert (parsed.table.name if parsed.table else None) == table
    assert parsed.file_date == date


def test_headers_compare_trimmed_width_folded_and_case_blind():
    assert fold_header(" ＶＩＮ码 ") == fold_header("VIN码") == "vin码"
    assert fold_header("\ufeffro_no") == "ro_no"


def test_the_column_vin_check_agrees_with_the_expression():
    import polars as pl

    vins = pl.Series("vin", [VIN_OK, None, VIN_BAD_CHECK, VIN_OK2, "LFV2A21K5G3000004", "LFV2A21K5G3000005"])
    expected = pl.select(v.vin_check_ok_expr(pl.lit(vins))).to_series().to_list()
    assert (
        v.vin_check_ok_series(vins).to_list()
        == expected
        == [True, None, False, True, expected[4], expected[5]]
    )
    assert v.vin_check_ok_series(pl.Series("vin", [None], dtype=pl.String)).to_list() == [None]
