"""A bad file is that file's problem (issue 14, deliverable 1): the bad-file corpus beside the torture
set, ingested in one pass; every file ends as written down, the others land, a rerun is a no-op."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from tests.ingestion.torture import build_torture_inbox
from tests.reliability.corpus import build_bad_inbox

KEY = b"reliability-test-pii-key-0123456789abcdef"
AS_OF = dt.date(2026, 10, 31)
TODAY = dt.date(2026, 11, 20)


def run(con, inbox):
    return ingest_inbox(con, inbox, PersonalData(PiiVault(KEY)), as_of=AS_OF, today=TODAY)


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    inbox = root / "inbox"
    torture = build_torture_inbox(inbox)
    bad = build_bad_inbox(inbox)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    result = run(con, inbox)
    yield con, inbox, torture, bad, result
    con.close()


def test_every_bad_file_ends_as_written_down_and_the_torture_set_is_unchanged(landed):
    _, _, torture, bad, result = landed
    outcomes = {o.relative: o for o in result.outcomes}
    assert set(outcomes) == set(torture) | set(bad)
    for path, want in torture.items():  # the bad files change nothing for the others
        assert outcomes[path].action == want.action, path
        if want.action == "ingested":
            assert (outcomes[path].rows_read, outcomes[path].rows_quarantined) == (
                want.rows_read,
                want.rows_quarantined,
            ), path
    for path, want in bad.items():
        got = outcomes[path]
        assert got.action == want.action, (path, got)
        if want.action == "ingested":
            assert (got.rows_read, got.rows_quarantined) == (want.rows_read, want.rows_quarantined), path
        for fragment in want.reason:
            assert fragment in (got.error or ""), (path, got.error)
        for fragment in want.reason_zh:
            assert fragment in (got.error_zh or ""), (path, got.error_zh)


def test_failed_files_are_in_the_manifest_with_both_reasons(landed):
    con, _, _, bad, _ = landed
    manifest = {
        path: (status, error, error_zh)
        for path, status, error, error_zh in con.execute(
            "select path, status, error, error_zh from landing.file_manifest"
        ).fetchall()
    }
    for path, want in bad.items():
        if want.action == "failed":
            status, error, error_zh = manifest[path]
            assert status == "failed" and error and error_zh and error != error_zh, path


def test_lines_that_cannot_be_rows_are_quarantined_with_their_line_and_the_rest_lands(landed):
    con, _, _, bad, _ = landed
    for path, want in bad.items():
        if not want.quarantine:
            continue
        reasons = [
            r
            for (r,) in con.execute("select reason from landing.quarantine where file = ?", [path]).fetchall()
        ]
        assert len(reasons) == len(want.quarantine), path
        for reason, fragment in zip(reasons, want.quarantine, strict=True):
            assert fragment in reason, (path, reason)
        typed = con.execute(
            "select count(*) from landing.repair_orders where _source_file = ?", [path]
        ).fetchone()
        assert typed[0] == want.rows_read - want.rows_quarantined


def test_a_set_aside_line_keeps_no_personal_number_in_its_raw_row(landed):
    from sources.scrub import holds_personal_number

    con, *_ = landed
    (raw,) = con.execute(
        "select raw_row::varchar from landing.quarantine where file = 'csc/repair_orders_2026-09-03.csv'"
    ).fetchone()
    assert "+86 139-****-5678" in raw and "证件 1****************X" in raw
    assert not holds_personal_number(raw)


def test_the_utf16_export_and_the_chinese_named_file_land_with_their_text(landed):
    con, *_ = landed
    advisors = con.execute(
        "select distinct advisor from landing.repair_orders where _source_file = "
        "'csc/repair_orders_2026-09-06.txt'"
    ).fetchall()
    assert advisors == [("王工",)]
    sale = con.execute(
        "select vin, invoice_date from landing.vehicle_sales where _source_file = 'dms/车辆销售_202609.csv'"
    ).fetchall()
    assert sale == [("1M8GDM9AXKP042788", dt.date(2026, 9, 1))]


def test_nothing_outside_the_inbox_was_read(landed):
    con, *_ = landed
    leaked = con.execute(
        "select count(*) from landing.repair_orders where ro_no like 'BAD0090%' or ro_no like 'BAD0091%'"
    ).fetchone()
    assert leaked == (0,)


def test_the_future_dated_file_is_listed_as_such(landed):
    con, _, _, _, result = landed
    deferred = con.execute(
        "select path, file_date, reason from landing.deferred_files order by path"
    ).fetchall()
    assert deferred == [
        ("csc/complaints_2062-10-31.csv", dt.date(2062, 10, 31), "future_dated"),
        ("csc/repair_orders_2026-11-30.csv", dt.date(2026, 11, 30), "not_yet_due"),
    ]
    assert [w for w in result.warnings if "after the current month" in w] == [
        "csc/complaints_2062-10-31.csv: dated 2062-10-31, after the current month (today is 2026-11-20): "
        "no run takes it until then; check the date in its name"
    ]


def test_a_rerun_on_the_same_inbox_reads_nothing_again(landed):
    con, inbox, *_ = landed
    quarantined = con.execute("select count(*) from landing.quarantine").fetchone()
    again = run(con, inbox)
    assert {o.action for o in again.outcomes} == {"skipped", "deferred"}
    assert con.execute("select count(*) from landing.quarantine").fetchone() == quarantined


def test_an_unforeseen_error_typing_one_file_fails_only_that_file(tmp_path, monkeypatch):
    """Fault injection: whatever breaks inside the reading or typing of one file stays with that file."""
    import assets.ingestion.ingest as ingest

    inbox = tmp_path / "inbox"
    torture = build_torture_inbox(inbox)
    real = ingest.type_export

    def type_export(raw, personal, source_file, file_date):
        if source_file == "dms/bookings_2026-10-31.csv":
            raise KeyError("a column nobody foresaw")
        return real(raw, personal, source_file, file_date)

    monkeypatch.setattr(ingest, "type_export", type_export)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    outcomes = {o.relative: o for o in run(con, inbox).outcomes}
    broken = outcomes.pop("dms/bookings_2026-10-31.csv")
    assert broken.action == "failed"
    assert (
        broken.error
        == "unexpected error while reading or typing the file: KeyError: 'a column nobody foresaw'"
    )
    assert "意外错误" in broken.error_zh
    assert {p: o.action for p, o in outcomes.items()} == {
        p: e.action for p, e in torture.items() if p != "dms/bookings_2026-10-31.csv"
    }
    con.close()
