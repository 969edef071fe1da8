"""Every table of SOURCES.md arrives, named and shaped as the contract says."""

from __future__ import annotations

import re

import fastexcel
import polars as pl
import pytest

from sources.identifiers import normalize_mobile
from tests.sample_oem.conftest import VEHICLES, files_of
from tests.sample_oem.readback import ALIASES, parse_date, read_export

# key + required columns per SOURCES.md
REQUIRED = {
    "vehicle_sales": ["vin", "dealer_code", "invoice_date"],
    "wechat_bindings": ["binding_id"],
    "bookings": ["booking_id", "dealer_code", "scheduled_date"],
    "repair_orders": ["ro_no", "vin", "dealer_code", "opened_at"],
    "campaigns": ["campaign_code"],
    "campaign_participants": ["participant_id"],
    "reminder_calls": ["call_id", "vin", "reminder_type", "called_at"],
    "complaints": ["complaint_no", "received_at"],
    "rescues": ["request_no"],
    "dealers": ["dealer_code"],
    "staff": ["staff_id"],
}
SYSTEM = {
    "vehicle_sales": "dms",
    "wechat_bindings": "dms",
    "bookings": "dms",
    "dealers": "master",
    "staff": "master",
}


@pytest.mark.parametrize("table", sorted(REQUIRED))
def test_table_files_present_with_required_columns(oem, table):
    files = files_of(oem, table)
    assert files, f"no file for {table}"
    for path in files:
        assert path.parent.name == SYSTEM.get(table, "csc")
        cols, rows = read_export(path)
        missing = [c for c in REQUIRED[table] if c not in cols]
        assert not missing, f"{path.name}: required columns missing {missing}"
        known = [c for c in cols if c is not None]
        assert len(known) == len(set(known)), f"{path.name}: a column appears twice"
        assert set(known) <= set(ALIASES[table])


def test_monthly_file_names_are_month_ends_and_sales_have_a_backfill(oem):
    names = [p.name for p in (oem / "inbox").rglob("*.*")]
    dated = [n for n in names if re.search(r"_\d{4}-\d{2}-\d{2}\.", n)]
    assert len(dated) == len(names) - 2  # all but master/dealers.xlsx and master/staff.csv
    assert (oem / "inbox" / "master" / "dealers.xlsx").exists()
    assert (oem / "inbox" / "master" / "staff.csv").exists()
    sales = [p.name for p in files_of(oem, "vehicle_sales")]
    assert any(n.startswith("vehicle_sales_2024-10-31.") for n in sales), (
        "backfill dated the day before the window"
    )
    file_dates = [re.search(r"_(\d{4}-\d{2}-\d{2})\.", n).group(1) for n in dated]
    assert max(file_dates) == "2026-10-31", "no file after the end month"
    before = {n.rsplit("_", 1)[0] for n in dated if n.rsplit("_", 1)[1] < "2024-11"}
    assert before == {"vehicle_sales", "wechat_bindings"}, "only the backfills predate the window"
    ro_months = {
        p.name[len("repair_orders_") : len("repair_orders_") + 10] for p in files_of(oem, "repair_orders")
    }
    assert len(ro_months) == 24
    assert all(m.endswith(("-28", "-29", "-30", "-31")) for m in ro_months)


def test_sales_span_eight_years_and_resales_come_later(oem):
    sales: dict[str, list[tuple]] = {}
    for path in files_of(oem, "vehicle_sales"):
        cols, rows = read_export(path)
        vi, di = cols.index("vin"), cols.index("invoice_date")
        for r in rows:
            d = parse_date(r[di])
            if r[vi] and d:
                sales.setdefault(r[vi], []).append((d, path.name))
    years = {d.year for recs in sales.values() for d, _ in recs}
    assert min(years) <= 2016 and max(years) == 2026
    resold = {vin: sorted(recs) for vin, recs in sales.items() if len(recs) > 1}
    assert len(resold) >= 0.03 * VEHICLES
    for recs in resold.values():
        (first, f1), (second, f2) = recs[0], recs[-1]
        assert second > first and f2 > f1, "a resale is a later record in a later file"


def test_xlsx_files_read_with_calamine_and_dates_are_dates(oem):
    xlsx = sorted((oem / "inbox").rglob("*.xlsx"))
    assert xlsx
    saw_datetime = False
    for path in xlsx:
        reader = fastexcel.read_excel(path)
        df = reader.load_sheet(0, header_row=None).to_polars()
        assert df.height > 1
        saw_datetime |= any(dt in (pl.Datetime, pl.Date) for dt in df.dtypes)
        saw_datetime |= any(
            isinstance(v, __import__("datetime").datetime) for r in read_export(path)[1][:3] for v in r
        )
    assert saw_datetime, "some xlsx files carry real Excel dates"


def test_repair_orders_scale_with_vehicles(oem):
    n = sum(len(read_export(p)[1]) for p in files_of(oem, "repair_orders"))
    per_vehicle = n / VEHICLES
    assert 5.0 <= per_vehicle <= 7.5, per_vehicle


def test_staff_mobiles_are_valid(oem):
    cols, rows = read_export(oem / "inbox" / "master" / "staff.csv")
    i = cols.index("mobile")
    assert all(normalize_mobile(r[i]) for r in rows)
