"""A mobile or ID number typed into free text never lands in plaintext: not in a typed column, not in
``_extra``, not in a quarantined row's ``raw_row`` (issue 14, "PII cannot leak through text")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from sources.scrub import holds_personal_number, sql_holds_personal_number
from tests.ingestion.torture import ID_VALID

KEY = b"reliability-test-pii-key-0123456789abcdef"

# every form the issue saw leak, each in a different free-text column
FORMS = {
    "+86 139-1234-5678": "+86 139-****-5678",
    "8613912345678": "86139****5678",
    "0086 139 1234 5678": "0086 139 **** 5678",
    "１３９１２３４５６７８": "１３９****５６７８",
    ID_VALID: ID_VALID[0] + "*" * 16 + ID_VALID[-1],
    "110105491231002": "1*************2",
}


def _csv(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.fixture
def landed(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "csc").mkdir(parents=True)
    header = ["complaint_no", "channel", "category", "dealer_code", "received_at", "close_reason", "客户备注"]
    rows = [header]
    for i, (form, _) in enumerate(FORMS.items()):
        rows.append(
            [f"C{i}", "热线", "服务", "D001", "2026-10-03", f"已回访，客户留了 {form} 请联系", f"备注{form}"]
        )
    # quarantined (no received_at), with the forms in a known column, the key and an extra column
    rows.append(["C-Q", f"热线 {ID_VALID}", "服务", "D001", "", "电话 +86 139-1234-5678", "8613912345678"])
    (inbox / "csc/complaints_2026-10-31.csv").write_text(_csv(rows), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_inbox(con, inbox, PersonalData(PiiVault(KEY)), as_of=dt.date(2026, 10, 31))
    yield con, result
    con.close()


def test_free_text_lands_with_every_written_form_masked(landed):
    con, result = landed
    assert [(o.action, o.rows_read, o.rows_quarantined) for o in result.outcomes] == [("ingested", 7, 1)]
    landed_rows = dict(con.execute("select complaint_no, close_reason from landing.complaints").fetchall())
    for i, masked in enumerate(FORMS.values()):  # typed text is NFKC-folded (full width to ASCII)
        assert landed_rows[f"C{i}"] == unicodedata.normalize("NFKC", f"已回访，客户留了 {masked} 请联系")
    extras = [e for (e,) in con.execute("select _extra::varchar from landing.complaints").fetchall()]
    assert len(extras) == 6 and not any(holds_personal_number(e) for e in extras)


def test_a_quarantined_raw_row_holds_no_personal_number(landed):
    con, _ = landed
    (raw,) = con.execute("select raw_row::varchar from landing.quarantine where row_number = 8").fetchone()
    assert (
        "missing required value: received_at"
        in con.execute("select reason from landing.quarantine").fetchone()[0]
    )
    assert not holds_personal_number(raw), raw
    assert "+86 139-****-5678" in raw and "86139****5678" in raw  # the rest of the row is still readable


def test_no_column_of_any_type_in_landing_holds_a_personal_number(landed):
    con, _ = landed
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('landing', 'landing_history')"
    ).fetchall()
    leaks = []
    for schema, table, column in columns:
        holds = sql_holds_personal_number(f'cast("{column}" as varchar)')
        if con.execute(f'select count(*) from {schema}."{table}" where {holds}').fetchone()[0]:
            leaks.append(f"{schema}.{table}.{column}")
    assert leaks == []


def test_text_landed_before_the_scrubber_is_masked_once(tmp_path):
    from assets.ingestion.store import SCRUBBED, ensure_landing

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    ensure_landing(con)
    con.execute(f"drop table {SCRUBBED}")  # a warehouse from before the scrubber
    con.execute(
        "insert into landing.complaints (complaint_no, close_reason, _extra) "
        """values ('C1', '客户电话 13912345678', '{"备注": "+86 139-1234-5678"}')"""
    )
    con.execute(
        "insert into landing.quarantine (file, row_number, raw_row) "
        f"""values ('f.csv', 3, '{{"channel": "{ID_VALID}"}}')"""
    )
    ensure_landing(con)
    assert con.execute("select close_reason, _extra::varchar from landing.complaints").fetchall() == [
        ("客户电话 139****5678", '{"备注": "+86 139-****-5678"}')
    ]
    (raw,) = con.execute("select raw_row::varchar from landing.quarantine").fetchone()
    assert not holds_personal_number(raw)
    con.close()
