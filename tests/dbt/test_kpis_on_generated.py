"""Booking and campaign KPIs on a small generated OEM, checked against the generator's own truth.

The sample OEM's export files go through the real ingestion (dirty dates, encodings, resent
records, quarantined bad rows) and a real ``dbt build``; the truth is the generator's frames before
any of that: which booked car came within a day of its booking, which campaign participant came
in with the campaign's code before the campaign ended. A few quarantined bad rows are the only
allowed difference.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from sources.sample_oem import dates as D
from sources.sample_oem import generate
from sources.sample_oem.activity import Activity
from sources.sample_oem.wechat_state import build_wechat
from sources.sample_oem.world import build_window, build_world
from tests.dbt.conftest import WITHOUT_UNIT_TESTS, assert_built, dbt_build, query
from tests.dbt.fixture_warehouse import IDENTITY, WECHAT

pytestmark = pytest.mark.slow

VEHICLES, SEED, END, MONTHS = 1_500, 5, "2026-10", 13
AS_OF = dt.date(2026, 10, 31)
# bad rows the generator injects (missing key, impossible date, unknown dealer: 0.1 % each) are
# quarantined: a monthly figure may miss that many of its records
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def generated_kpis(tmp_path_factory):
    out = tmp_path_factory.mktemp("kpi_oem")
    generate(out, vehicles=VEHICLES, seed=SEED, end=END, months=MONTHS)
    warehouse = out / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        ingest_inbox(con, out / "inbox", PersonalData(PiiVault(b"kpi-test-key")), as_of=AS_OF)
        for schema, tables in (("wechat", WECHAT), ("identity", IDENTITY)):
            con.execute(f"create schema if not exists {schema}")
            for table, cols in tables.items():
                ddl = ", ".join(f'"{c}" {t}' for c, t in cols.items())
                con.execute(f"create table if not exists {schema}.{table} ({ddl})")
    finally:
        con.close()
    result = dbt_build(
        warehouse, AS_OF.isoformat(), out,
        "--select", "+kpi_bookings_monthly +kpi_campaigns", "--indirect-selection", "cautious",
        *WITHOUT_UNIT_TESTS,
    )  # fmt: skip
    assert_built(result)
    return warehouse


@pytest.fixture(scope="module")
def truth():
    """The generator's frames for the same seed: what really happened, before the export files."""
    window = build_window(END, MONTHS)
    world = build_world(SEED, VEHICLES, window)
    clock_start = (window.end * D.DAY_S + 20 * 3600) - 8 * 3600
    act = Activity(world, build_wechat(world, clock_start))
    campaigns = act.campaigns()
    participants, visits = act.participants(campaigns)
    repair_orders = act.repair_orders(visits)
    return {
        "campaigns": campaigns,
        "participants": participants,
        "repair_orders": repair_orders,
        "bookings": act.bookings(repair_orders),
    }


def close(kpi: int, true: int) -> bool:
    return abs(kpi - true) <= max(2, TOLERANCE * true)


def test_bookings_scheduled_and_shown_agree_with_the_generator(generated_kpis, truth):
    visits = truth["repair_orders"].select("vin", pl.col("opened_at").dt.date().alias("visit_date")).unique()
    bookings = truth["bookings"].filter(pl.col("status") != "已取消")
    shown = (
        bookings.join(visits, on="vin")
        .filter((pl.col("visit_date") - pl.col("scheduled_date")).dt.total_days().abs() <= 1)
        .select("booking_id")
        .unique()
    )
    expected = (
        bookings.with_columns(pl.col("booking_id").is_in(shown["booking_id"].implode()).alias("shown"))
        .group_by(pl.col("scheduled_date").dt.truncate("1mo").alias("month"))
        .agg(pl.len().alias("scheduled"), pl.col("shown").sum())
        .filter(pl.col("month") <= AS_OF)
    )
    kpis = dict(
        ((month, (scheduled, shown)) for month, scheduled, shown in query(
            generated_kpis,
            "select month, scheduled, shown from marts.kpi_bookings_monthly "
            "where period_grain = 'month' and level = 'nation' and booking_channel = 'all'",
        ))
    )  # fmt: skip
    assert len(expected) >= MONTHS - 1
    for month, scheduled, shown_count in expected.iter_rows():
        assert month in kpis, month
        assert close(kpis[month][0], scheduled) and close(kpis[month][1], shown_count), (
            month, kpis[month], (scheduled, shown_count),
        )  # fmt: skip
    total_true = expected["shown"].sum() / expected["scheduled"].sum()
    (total_kpi,) = query(
        generated_kpis,
        "select sum(shown) / sum(scheduled) from marts.kpi_bookings_monthly "
        "where period_grain = 'month' and level = 'nation' and booking_channel = 'all'",
    )[0]
    assert total_kpi == pytest.approx(total_true, abs=0.005)


def test_campaign_participants_and_conversions_agree_with_the_generator(generated_kpis, truth):
    campaigns = truth["campaigns"].select("campaign_code", "_end")
    coded = (
        truth["repair_orders"]
        .filter(pl.col("campaign_code").is_not_null())
        .select("vin", "campaign_code", pl.col("_day").alias("visit_day"))
    )
    participants = truth["participants"].select(
        "participant_id", "vin", "campaign_code", pl.col("_day").alias("reg_day")
    )
    converted = (
        participants.join(coded, on=["vin", "campaign_code"])
        .join(campaigns, on="campaign_code")
        .filter((pl.col("visit_day") >= pl.col("reg_day")) & (pl.col("visit_day") <= pl.col("_end")))
        .select("participant_id", "campaign_code")
        .unique()
        .group_by("campaign_code")
        .agg(pl.len().alias("converted"))
    )
    expected = (
        participants.group_by("campaign_code")
        .agg(pl.len().alias("participants"))
        .join(converted, on="campaign_code", how="left")
    )
    kpis = {
        code: (participants_, arrivals, converted_)
        for code, participants_, arrivals, converted_ in query(
            generated_kpis,
            "select campaign_code, participants, arrivals, converted from marts.kpi_campaigns where level = "
            "'nation'",
        )
    }
    assert expected.height >= 4
    for code, participants_, converted_ in expected.iter_rows():
        converted_ = converted_ or 0
        assert code in kpis, code
        assert close(kpis[code][0], participants_), (code, kpis[code], participants_)
        assert close(kpis[code][2], converted_), (code, kpis[code], converted_)
        # an arrival is any visit in the window: every conversion is one
        assert kpis[code][1] >= kpis[code][2]
    assert sum(c or 0 for c in expected["converted"]) > 10  # the check is not vacuous


def test_every_level_of_the_generated_network_adds_up(generated_kpis):
    """Nation = Σ regions = Σ dealers on real volumes (80 dealers in 5 regions)."""
    for level in ("region", "dealer"):
        assert (
            query(
                generated_kpis,
                "select period_grain, period_start, sum(scheduled), sum(shown), sum(feedback_done) "
                f"from marts.kpi_bookings_monthly where level = '{level}' and booking_channel = 'all' group "
                "by all except select period_grain, period_start, scheduled, shown, feedback_done "
                "from marts.kpi_bookings_monthly where level = 'nation' and booking_channel = 'all'",
            )
            == []
        )
