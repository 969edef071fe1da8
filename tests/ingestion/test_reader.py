"""Reading files as they come: encodings, delimiters, title rows, header languages, broken files."""

import pytest

from sources.exports.reader import EXTRA_PREFIX, UnreadableFile, read_export
from sources.exports.tables import TABLES_BY_NAME
from tests.ingestion.torture import build_torture_inbox


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    path = tmp_path_factory.mktemp("torture") / "inbox"
    build_torture_inbox(path)
    return path


def read(inbox, relative, table):
    return read_export(inbox / relative, TABLES_BY_NAME[table])


def test_gbk_file_with_title_rows_and_chinese_headers(inbox):
    raw = read(inbox, "dms/vehicle_sales_2026-09-30.csv", "vehicle_sales")
    assert raw.encoding == "gb18030" and raw.delimiter == "comma"
    assert raw.header_row == 3  # two title rows above
    assert raw.frame.height == 8
    assert raw.frame.get_column("model_name").to_list()[:2] == ["轩逸", "天籁"]
    assert raw.frame.get_column("_source_row").to_list()[0] == 4  # the row number Excel shows
    assert raw.extra_columns == [f"{EXTRA_PREFIX}备注"]


def test_bom_tab_file_with_spaced_and_full_width_english_headers(inbox):
    raw = read(inbox, "csc/repair_orders_2026-10-31.csv", "repair_orders")
    assert raw.encoding == "utf-8-sig" and raw.delimiter == "tab" and raw.header_row == 1
    assert {"ro_no", "dealer_code", "vin", "sender_mobile"} <= set(raw.frame.columns)
    assert raw.frame.get_column("ro_no").to_list()[0] == "RO001"
    assert f"{EXTRA_PREFIX}workshop_bay" in raw.extra_columns


def test_gb18030_only_characters_survive(inbox):
    raw = read(inbox, "dms/bookings_2026-10-31.csv", "bookings")
    assert raw.encoding == "gb18030"
    assert "𠀾客户" in raw.frame.get_column("feedback_result").to_list()


def test_xlsx_first_sheet_below_title_rows(inbox):
    raw = read(inbox, "csc/complaints_2026-10-31.xlsx", "complaints")
    assert raw.header_row == 3 and raw.frame.height == 4
    assert raw.frame.get_column("complaint_no").to_list() == ["C001", "C002", "C003", "C004"]
    assert raw.frame.get_column("_source_row").to_list() == [4, 5, 6, 7]


def test_columns_absent_from_a_file_are_null(inbox):
    raw = read(inbox, "dms/wechat_bindings_2026-10-31.csv", "wechat_bindings")
    assert raw.frame.height == 3 and set(raw.extra_columns) == set()
    raw = read(inbox, "csc/repair_orders_2026-10-31.csv", "repair_orders")
    assert raw.frame.get_column("advisor").null_count() == raw.frame.height


@pytest.mark.parametrize(
    "relative, table, reason",
    [
        ("csc/reminder_calls_2026-10-31.csv", "reminder_calls", "missing required column(s): reminder_type"),
        ("csc/rescues_2026-10-31.xlsx", "rescues", "cannot open as .xlsx"),
        ("csc/campaigns_2026-10-31.csv", "campaigns", "binary content"),
        ("csc/campaign_participants_2026-10-31.csv", "campaign_participants", "empty file"),
    ],
)
def test_unreadable_files_say_why(inbox, relative, table, reason):
    with pytest.raises(UnreadableFile, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read(inbox, relative, table)


def test_a_file_without_any_known_header(tmp_path):
    path = tmp_path / "dealers.csv"
    path.write_text("foo,bar\n1,2\n")
    with pytest.raises(UnreadableFile, match="no header row"):
        read_export(path, TABLES_BY_NAME["dealers"])


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "dealers.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnreadableFile, match="unsupported file type .xls"):
        read_export(path, TABLES_BY_NAME["dealers"])


def test_gbk_after_a_long_ascii_start_is_still_read(tmp_path):
    """The sniffed start is plain ASCII (valid UTF-8); the GBK bytes come later."""
    path = tmp_path / "dealers.csv"
    lines = ["dealer_code,name"] + [f"D{i:04d},dealer" for i in range(12000)] + ["D9999,广州三店"]
    path.write_bytes("\n".join(lines).encode("gbk"))
    raw = read_export(path, TABLES_BY_NAME["dealers"])
    assert raw.encoding == "gb18030"
    assert raw.frame.get_column("name").to_list()[-1] == "广州三店"


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
@pytest.mark.parametrize("text, codec", [("广州三店", "gbk"), ("𠀾", "gb18030")])
def test_a_sniff_window_ending_inside_a_multibyte_character(pad, text, codec):
    """The 64 KiB sample may cut a 2-byte GBK or 4-byte GB18030 character: still recognised."""
    from sources.exports.reader import SNIFF_BYTES, detect_encoding

    data = b"a" * pad + (text * SNIFF_BYTES).encode(codec)
    assert detect_encoding(data) == "gb18030"
