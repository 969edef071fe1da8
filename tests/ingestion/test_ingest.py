"""An ingestion pass over the torture inbox: accounting, quarantine reasons, PII, reruns, later files."""

import datetime as dt
import hashlib
import os
import re

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.exports.tables import TABLES
from sources.pii import PiiVault
from tests.ingestion.torture import ID_BAD, ID_VALID, VIN_BAD_CHECK, VIN_OK, VIN_OK2, build_torture_inbox

AS_OF = dt.date(2026, 10, 31)  # a run for 2026-11
KEY = b"test-pii-key"

# plaintext mobile / ID number standing alone in a value (digits inside hex/base64 do not count)
MOBILE = re.compile(r"(^|[^0-9A-Za-z])1[3-9]\d{9}([^0-9A-Za-z]|$)")
ID_NUMBER = re.compile(r"(^|[^0-9A-Za-z])\d{17}[\dXx]([^0-9A-Za-z]|$)|(^|[^0-9A-Za-z])\d{15}([^0-9A-Za-z]|$)")


def run(con, inbox):
    return ingest_inbox(con, inbox, PersonalData(PiiVault(KEY)), as_of=AS_OF, run_id="t")


@pytest.fixture
def landed(tmp_path):
    inbox = tmp_path / "inbox"
    expected = build_torture_inbox(inbox)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = run(con, inbox)
    yield con, inbox, expected, result
    con.close()


def every_row(table: str) -> str:
    """SQL for every row of every ingested file of ``table``: current versions and earlier ones."""
    return (
        f"select c.*, f.modified_at as _file_modified_at from landing.{table} c "
        f"join landing_history._files f on f.table_name = '{table}' and f.path = c._source_file "
        f"union all by name select * from landing_history.{table}"
    )


def snapshot(con) -> dict[str, str]:
    """A content hash of every landing table (row order ignored), the manifest and quarantine."""
    hashes = {}
    names = [t.name for t in TABLES] + ["quarantine", "file_manifest"]
    for name in names:
        rows = sorted(repr(r) for r in con.execute(f"select * from landing.{name}").fetchall())
        hashes[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return hashes


def test_every_file_has_the_outcome_and_rows_written_down(landed):
    con, _, expected, result = landed
    outcomes = {o.relative: o for o in result.outcomes}
    assert set(outcomes) == set(expected)
    for path, want in expected.items():
        got = outcomes[path]
        assert got.action == want.action, (path, got)
        if want.action == "ingested":
            assert (got.rows_read, got.rows_quarantined) == (want.rows_read, want.rows_quarantined), path
        if want.error_contains:
            assert want.error_contains in (got.error or ""), (path, got.error)


def test_rows_read_equal_rows_typed_plus_quarantined_for_every_file(landed):
    con, _, _, _ = landed
    manifest = con.execute(
        "select path, table_name, rows_read, rows_typed, rows_quarantined from landing.file_manifest "
        "where status = 'ingested'"
    ).fetchall()
    assert len(manifest) == 7
    for path, table, read, typed, quarantined in manifest:
        assert read == typed + quarantined, path
        in_history = con.execute(
            f"select count(*) from ({every_row(table)}) where _source_file = ?", [path]
        ).fetchone()[0]
        in_quarantine = con.execute(
            "select count(*) from landing.quarantine where file = ?", [path]
        ).fetchone()[0]
        assert (in_history, in_quarantine) == (typed, quarantined), path


def test_failed_files_are_in_the_manifest_with_their_reason(landed):
    con, _, _, _ = landed
    failed = dict(
        con.execute("select path, error from landing.file_manifest where status = 'failed'").fetchall()
    )
    assert "missing required column(s): reminder_type" in failed["csc/reminder_calls_2026-10-31.csv"]
    assert "unrecognised table name" in failed["csc/service_log_2026-10-31.csv"]
    assert len(failed) == 5
    deferred = con.execute(
        "select count(*) from landing.file_manifest where path like '%2026-11-30%'"
    ).fetchone()
    assert deferred == (0,)  # after the cut-off: not even recorded


def test_every_landing_table_exists_even_without_a_file(landed):
    con, _, _, _ = landed
    for name in ("reminder_calls", "rescues", "campaigns", "campaign_participants"):
        assert con.execute(f"select count(*) from landing.{name}").fetchone() == (0,)


def test_dirty_values_are_typed(landed):
    con, _, _, _ = landed
    sales = {
        r[0]: r[1:]
        for r in con.execute(
            "select vin, vin_check_ok, invoice_date, registration_date, seats, owner_id_number_status, "
            "owner_mobile_status, owner_mobile_masked from landing.vehicle_sales"
        ).fetchall()
    }
    assert sales[VIN_OK] == (
        True,
        dt.date(2026, 9, 3),
        dt.date(2026, 9, 10),
        5,
        "valid",
        "valid",
        "138****8001",
    )
    assert sales[VIN_OK2][1:5] == (dt.date(2026, 9, 3), dt.date(2026, 9, 12), 5, "valid")  # 15-digit ID
    # a bad check digit is flagged, not rejected; a bad ID checksum beside a mobile is flagged too
    assert sales[VIN_BAD_CHECK][0] is False and sales[VIN_BAD_CHECK][4] == "bad_checksum"
    assert "LFV2A21K5G3000004" not in sales
    orders = {
        r[0]: r[1:]
        for r in con.execute(
            "select ro_no, opened_at, mileage_km, labor_amount, parts_amount, total_amount, "
            "next_maintenance_date, sender_mobile_status from landing.repair_orders"
        ).fetchall()
    }
    assert orders["RO001"][:5] == (dt.datetime(2026, 10, 3, 9), 12345, 1200, 350.5, 1550.5)
    assert orders["RO002"][0] == dt.datetime(2026, 10, 3, 9) and orders["RO002"][1] == 8000  # Excel serial
    assert orders["RO002"][-1] == "valid"  # 0086-prefixed, full-width digit
    assert set(orders) == {"RO001", "RO002", "RO008"}
    feedback = dict(con.execute("select booking_id, feedback_required from landing.bookings").fetchall())
    assert feedback == {"B001": True, "B002": False, "B003": True, "B004": True, "B005": False}
    assert con.execute("select mobile_status from landing.bookings where booking_id = 'B002'").fetchone() == (
        "placeholder",
    )
    assert con.execute("select count(*) from landing.dealers where dealer_code = 'D003'").fetchone() == (1,)


def test_quarantine_reasons_name_the_row_and_column(landed):
    con, _, _, _ = landed
    rows = con.execute(
        'select file, row_number, "column", reason from landing.quarantine order by file, row_number'
    ).fetchall()
    by_row = {(f.split("/")[-1], n): (c, r) for f, n, c, r in rows}
    sales = "vehicle_sales_2026-09-30.csv"
    assert by_row[(sales, 7)] == (
        "owner_id_number",
        "ID number fails its checksum and is the row's only person identifier: owner_id_number",
    )
    assert by_row[(sales, 8)][1].startswith("impossible or unreadable date: invoice_date")
    assert by_row[(sales, 9)] == ("vin", "missing key: vin")
    assert by_row[(sales, 10)] == ("dealer_code", "unknown dealer code: dealer_code")
    assert "unreadable whole number: seats" in by_row[(sales, 11)][1]
    orders = "repair_orders_2026-10-31.csv"
    assert by_row[(orders, 4)][0] == "labor_amount"
    assert by_row[(orders, 5)][1].startswith("malformed VIN")
    assert by_row[(orders, 6)] == ("ro_no", "missing key: ro_no")
    assert "mileage_km" in by_row[(orders, 8)][0] and "greater_than_or_equal_to(0)" in by_row[(orders, 8)][1]
    assert by_row[("staff.xlsx", 5)] == ("dealer_code", "unknown dealer code: dealer_code")
    assert "isin" in by_row[("wechat_bindings_2026-10-31.csv", 4)][1]
    assert "in_range(1, 5)" in by_row[("complaints_2026-10-31.xlsx", 7)][1]


def test_a_bad_id_beside_an_openid_is_kept_and_flagged(landed):
    con, _, _, _ = landed
    row = con.execute(
        "select id_number_hmac, id_number_status, id_number_masked from landing.wechat_bindings where "
        "binding_id = 'WB1'"
    ).fetchone()
    assert row == (None, "bad_checksum", ID_BAD[0] + "*" * 16 + ID_BAD[-1])


def test_no_plaintext_mobile_or_id_number_anywhere(landed):
    con, _, _, _ = landed
    text_columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('landing', 'landing_history') and data_type in ('VARCHAR', 'JSON')"
    ).fetchall()
    values_seen = 0
    for schema, table, column in text_columns:
        for (value,) in con.execute(f'select "{column}"::varchar from {schema}.{table}').fetchall():
            if value is None:
                continue
            values_seen += 1
            assert not MOBILE.search(value), f"{schema}.{table}.{column}: {value}"
            assert not ID_NUMBER.search(value), f"{schema}.{table}.{column}: {value}"
            assert ID_VALID not in value and "13800138009" not in value
    assert values_seen > 300  # every row is kept once (current or history)
    # ...while the raw row still shows everything else and joins by HMAC
    raw = con.execute(
        "select raw_row from landing.quarantine where row_number = 11 and file like '%sales%'"
    ).fetchone()[0]
    assert '"seats":"五"' in raw and "hmac:" in raw


def test_a_rerun_on_the_same_inbox_changes_nothing(landed):
    con, inbox, _, _ = landed
    before = snapshot(con)
    again = run(con, inbox)
    assert {o.action for o in again.outcomes} == {"skipped", "deferred"}
    assert snapshot(con) == before


def test_a_touched_but_identical_file_is_skipped_by_its_sha256(landed):
    con, inbox, _, _ = landed
    before = snapshot(con)
    path = inbox / "csc/repair_orders_2026-10-31.csv"
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    result = run(con, inbox)
    assert {o.relative: o.action for o in result.outcomes}["csc/repair_orders_2026-10-31.csv"] == "skipped"
    assert snapshot(con) == before


def test_a_corrected_file_replaces_only_the_records_it_carries(landed):
    con, inbox, _, _ = landed
    before = con.execute(
        "select * from landing.repair_orders where ro_no <> 'RO001' order by ro_no"
    ).fetchall()
    path = inbox / "csc/repair_orders_2026-10-31.csv"
    text = path.read_bytes().decode("utf-8-sig").replace("12,345", "12,400")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = run(con, inbox)
    assert {o.relative: o.action for o in result.outcomes}["csc/repair_orders_2026-10-31.csv"] == "ingested"
    assert con.execute("select mileage_km from landing.repair_orders where ro_no = 'RO001'").fetchone() == (
        12400,
    )
    after = con.execute(
        "select * from landing.repair_orders where ro_no <> 'RO001' order by ro_no"
    ).fetchall()
    strip = lambda rows: [r[:-2] for r in rows]  # noqa: E731 - _ingested_at/_extra at the end may differ
    assert strip(after) == strip(before)
    assert con.execute(
        "select count(*) from landing.quarantine where file like '%repair_orders%'"
    ).fetchone() == (5,)


def test_the_later_file_wins_and_an_older_correction_does_not_override_it(landed):
    con, inbox, _, _ = landed
    header = "ro_no,dealer_code,vin,opened_at,mileage_km\n"
    later = inbox / "csc/repair_orders_2026-10-31_b.csv"  # same date in the name, modified later
    (inbox / "csc/repair_orders_2026-10-15.csv").write_text(
        header + f"RO001,D001,{VIN_OK},2026-10-03,11111\n"
    )
    run(con, inbox)
    # the 10-15 file is older by its name date: RO001 keeps the 10-31 version
    assert con.execute("select mileage_km from landing.repair_orders where ro_no = 'RO001'").fetchone() == (
        12345,
    )
    later.write_text(header + f"RO001,D001,{VIN_OK},2026-10-03,22222\n")
    run(con, inbox)
    assert con.execute(
        "select mileage_km, _source_file from landing.repair_orders where ro_no = 'RO001'"
    ).fetchone() == (
        22222,
        "csc/repair_orders_2026-10-31_b.csv",
    )
    assert con.execute("select count(*) from landing.repair_orders where ro_no = 'RO001'").fetchone() == (1,)


def test_the_cut_off_takes_a_later_file_in_the_next_month(landed):
    con, inbox, _, _ = landed
    result = ingest_inbox(con, inbox, PersonalData(PiiVault(KEY)), as_of=dt.date(2026, 11, 30))
    assert {o.relative: o.action for o in result.outcomes}["csc/repair_orders_2026-11-30.csv"] == "ingested"
    assert con.execute("select count(*) from landing.repair_orders where ro_no = 'RO900'").fetchone() == (1,)


def test_the_same_content_under_another_name_is_a_duplicate(landed):
    con, inbox, _, _ = landed
    (inbox / "master/dealers_copy.csv").write_bytes((inbox / "master/dealers.csv").read_bytes())
    result = run(con, inbox)
    outcome = {o.relative: o for o in result.outcomes}["master/dealers_copy.csv"]
    assert outcome.action == "duplicate" and "master/dealers.csv" in outcome.error


def test_a_failed_file_fixed_later_is_ingested(landed):
    con, inbox, _, _ = landed
    (inbox / "csc/reminder_calls_2026-10-31.csv").write_text(
        f"call_id,dealer_code,vin,reminder_type,reminder_month,called_at,result,duration_s\n"
        f"K1,D001,{VIN_OK},首保,2026年10月,2026-10-03 10:00,接通,95\n"
    )
    result = run(con, inbox)
    assert {o.relative: o.action for o in result.outcomes}["csc/reminder_calls_2026-10-31.csv"] == "ingested"
    assert con.execute("select reminder_month, duration_s from landing.reminder_calls").fetchone() == (
        dt.date(2026, 10, 1),
        95,
    )


def test_two_identical_new_files_in_one_scan_are_ingested_once(landed):
    con, inbox, _, _ = landed
    text = f"ro_no,dealer_code,vin,opened_at\nRO777,D001,{VIN_OK},2026-10-20\n"
    (inbox / "csc/repair_orders_2026-10-20.csv").write_text(text)
    (inbox / "csc/repair_orders_2026-10-20_copy.csv").write_text(text)
    actions = {o.relative: o.action for o in run(con, inbox).outcomes}
    assert actions["csc/repair_orders_2026-10-20.csv"] == "ingested"
    assert actions["csc/repair_orders_2026-10-20_copy.csv"] == "duplicate"
    assert con.execute(
        f"select count(*) from ({every_row('repair_orders')}) where ro_no = 'RO777'"
    ).fetchone() == (1,)


def test_a_record_dropped_from_a_corrected_file_falls_back_to_its_previous_version(landed):
    con, inbox, _, _ = landed
    header = "ro_no,dealer_code,vin,opened_at,mileage_km\n"
    (inbox / "csc/repair_orders_2026-10-10.csv").write_text(header + f"RO555,D001,{VIN_OK},2026-10-03,1000\n")
    newer = inbox / "csc/repair_orders_2026-10-20.csv"
    newer.write_text(header + f"RO555,D001,{VIN_OK},2026-10-03,2000\nRO556,D001,{VIN_OK},2026-10-04,3000\n")
    run(con, inbox)
    assert con.execute("select mileage_km from landing.repair_orders where ro_no = 'RO555'").fetchone() == (
        2000,
    )
    newer.write_text(header + f"RO556,D001,{VIN_OK},2026-10-04,3100\n")  # RO555 no longer in it
    run(con, inbox)
    rows = dict(
        con.execute("select ro_no, mileage_km from landing.repair_orders where ro_no like 'RO55%'").fetchall()
    )
    assert rows == {"RO555": 1000, "RO556": 3100}


def test_ingestion_leaves_the_connections_settings_as_it_found_them(tmp_path):
    inbox = tmp_path / "inbox"
    build_torture_inbox(inbox)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    names = ("memory_limit", "checkpoint_threshold", "enable_progress_bar")
    settings = "select " + ", ".join(f"current_setting('{n}')" for n in names)
    before = con.execute(settings).fetchall()
    run(con, inbox)
    assert con.execute(settings).fetchall() == before  # its 512 MB cap and checkpoint threshold too
    con.close()
