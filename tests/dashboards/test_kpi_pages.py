"""The analyst pages: month picker, drill-down nation → region → dealer, 12-month trends with
provisional months marked, Chinese names for every category. Expected values are computed by hand
from the fixture's formulas (``fixture_kpis.py``)."""

from __future__ import annotations

import io
import json

import pyarrow as pa

from dashboards import labels as L
from tests.dashboards.conftest import sign_in

KPI_PAGES = ["kpi_reminders", "kpi_bookings", "kpi_campaigns", "kpi_complaints", "kpi_communication",
             "kpi_customers", "kpi_scorecard", "kpi_alerts"]  # fmt: skip


def open_page(key: str, page: str):
    at = sign_in(key)
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.body) for m in at.metric}


def chart_frames(at) -> list[pa.Table]:
    """The data of every chart of the run (Vega-Lite datasets, Arrow IPC)."""
    tables = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            tables.append(pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_all())
        if chart.proto.HasField("data"):
            tables.append(pa.ipc.open_stream(io.BytesIO(chart.proto.data.data)).read_all())
    return tables


def test_reminder_kpis_of_the_nation_with_the_change_from_last_month(serving_db, accounts):
    at = open_page("analyst", "kpi_reminders")
    month = at.selectbox(key="kpi_month_kpi_reminders_monthly")
    assert month.options[:2] == ["2026-10 · 暂定", "2026-09"]  # the last month is provisional
    assert at.subheader[0].value == "全国 · 2026-10"
    cards = {label: value for label, (value, _) in metrics(at).items()}
    # due: Σ over dealers j=0..2 and types k=0,1 of 20+5j+11+3k = 65+75+85; tracked likewise 57+65+73
    assert cards["应提醒数"] == "225" and cards["提醒跟踪数"] == "195"
    assert cards["提醒完成率"] == "86.7%"  # 195 / 225
    assert cards["提醒回厂率"] == "24.0%"  # returned Σ 2·(6+j+11%3) = 16+18+20 = 54; 54 / 225
    delta = next(m for m in at.metric if m.label == "应提醒数").delta
    assert delta == "+6"  # 2026-09: 63+73+83 = 219

    # 12-month trends, the provisional month marked
    lines = [t for t in chart_frames(at) if "status" in t.column_names and "metric" in t.column_names]
    rates = next(t for t in lines if "提醒完成率" in t.column("metric").to_pylist())
    assert set(rates.column("metric").to_pylist()) == {"提醒完成率", "触达率", "提醒回厂率", "自然回厂率"}
    months = sorted(set(rates.column("month").to_pylist()))
    assert len(months) == 12 and f"{months[0]:%Y-%m}" == "2025-11"
    status = dict(zip(rates.column("month").to_pylist(), rates.column("status").to_pylist(), strict=True))
    assert status[months[-1]] == "暂定" and status[months[-2]] == "最终"

    # the breakdown by reminder type, named
    split = next(f.value for f in at.dataframe if "reminder_type" in f.value.columns)
    assert sorted(split["reminder_type"]) == ["保养", "首保"]


def test_drilling_down_to_a_region_and_a_dealer(serving_db, accounts):
    at = open_page("analyst", "kpi_reminders")
    at.selectbox(key="kpi_region_kpi_reminders_monthly").select("华东").run()
    assert at.subheader[0].value == "华东 · 2026-10"
    assert {label: value for label, (value, _) in metrics(at).items()}["应提醒数"] == "160"  # 75 + 85
    at.selectbox(key="kpi_dealer_kpi_reminders_monthly").select("D002").run()
    assert at.subheader[0].value == "D002 上海一店 · 2026-10"
    assert {label: value for label, (value, _) in metrics(at).items()}["应提醒数"] == "75"
    compared = at.dataframe[0].value
    assert list(compared.columns) == ["指标", "D002 上海一店", "华东", "全国"]
    completion = compared[compared["指标"] == "提醒完成率"].iloc[0]
    assert (completion["D002 上海一店"], completion["华东"], completion["全国"]) == (
        "86.7%",
        "86.2%",
        "86.7%",
    )


def test_quarter_rows_never_mix_into_a_month(serving_db, accounts):
    at = open_page("analyst", "kpi_bookings")
    cards = {label: value for label, (value, _) in metrics(at).items()}
    # scheduled: Σ_j Σ_k 30+2j+11+5k = (41+46)+(43+48)+(45+50) = 273 (the quarter row has 3 × that)
    assert cards["每月应预约数"] == "273"


def strings_shown(at) -> set[str]:
    shown = {m.label for m in at.metric} | {s.value for s in at.subheader}
    for box in at.selectbox:
        shown |= set(box.options)
    for frame in at.dataframe:
        for column in frame.value.columns:
            shown |= {v for v in frame.value[column].tolist() if isinstance(v, str)}
    for table in chart_frames(at):
        for column in table.column_names:
            values = table.column(column).to_pylist()
            shown |= {v for v in values if isinstance(v, str)}
    return shown


RAW_CODES = {
    code
    for labels in (L.REMINDER_TYPE, L.BOOKING_CHANNEL, L.COMPLAINT_CHANNEL, L.COMPLAINT_CATEGORY,
                   L.COMPLAINT_LEVEL,
                   L.CAMPAIGN_SCOPE, L.STAFF_ROLE, L.LEVEL, L.ALERT_CODE, L.LAPSE_STATUS, L.VALUE_SEGMENT,
                   L.IDENTIFIER_TYPE, L.TABLE, L.SOURCE, L.FILE_STATUS)
    for code in labels
} | {"completion_rate", "return_rate", "region_score", "nation_score", "score"}  # fmt: skip


def test_every_category_shown_has_a_chinese_name(serving_db, accounts):
    at = sign_in("analyst")
    for page in [*KPI_PAGES, "overview", "customers", "identity", "data_quality"]:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        shown = strings_shown(at)
        assert not (shown & RAW_CODES), (page, sorted(shown & RAW_CODES))


def test_a_dealer_manager_starts_on_its_dealer_against_region_and_nation(serving_db, accounts):
    at = open_page("dealer_manager", "kpi_reminders")
    assert at.selectbox(key="kpi_region_kpi_reminders_monthly").options == ["全国", "华东"]
    assert at.selectbox(key="kpi_dealer_kpi_reminders_monthly").options == ["全部经销商", "D002 上海一店"]
    assert at.subheader[0].value == "D002 上海一店 · 2026-10"
    assert {label: value for label, (value, _) in metrics(at).items()}["应提醒数"] == "75"
    # the nation's figures stay readable (its KPIs against the nation), its members do not
    at.selectbox(key="kpi_region_kpi_reminders_monthly").select("全国").run()
    assert {label: value for label, (value, _) in metrics(at).items()}["应提醒数"] == "225"
    regions = next(f.value for f in at.dataframe if "对象" in f.value.columns)
    assert regions["对象"].tolist() == ["华东"]  # 华北 is not the manager's


def test_a_dealers_consultants_are_its_members_in_communication(serving_db, accounts):
    at = open_page("dealer_manager", "kpi_communication")
    consultants = next(f.value for f in at.dataframe if "对象" in f.value.columns)
    assert consultants["对象"].tolist() == ["wc0002 · 服务顾问"]


def test_the_scorecard_compares_a_dealer_with_its_region_and_the_nation(serving_db, accounts):
    at = open_page("dealer_manager", "kpi_scorecard")
    cards = {label: value for label, (value, _) in metrics(at).items()}
    # D002: 60 + 5·1 + 11·0.5 = 70.5; 华东 (70.5 + 75.5) / 2 = 73.0; nation (65.5 + 70.5 + 75.5) / 3 = 70.5
    assert (cards["综合得分"], cards["较大区(分)"], cards["较全国(分)"]) == ("70.5", "-2.5", "0.0")
    assert "大区排名 2 / 2,全国排名 2 / 3" in [c.value for c in at.caption]


def test_alerts_of_the_month_in_scope(serving_db, accounts):
    analyst = open_page("analyst", "kpi_alerts")
    assert {label: value for label, (value, _) in metrics(analyst).items()} == {
        "预警数": "3", "投诉超期未结": "1", "回厂率下滑": "1", "流失激增": "1",
    }  # fmt: skip
    manager = open_page("dealer_manager", "kpi_alerts")
    shown = manager.dataframe[0].value
    assert sorted(shown["alert_code"]) == ["回厂率下滑", "流失激增"]  # its own and the nation's


def test_campaigns_active_in_the_month(serving_db, accounts):
    at = open_page("analyst", "kpi_campaigns")
    cards = {label: value for label, (value, _) in metrics(at).items()}
    # 2026-10: NC202609002 (3 dealers) and the two dealer campaigns; participants 10+3j+n per dealer
    assert cards["当月进行中的活动"] == "3"
    assert cards["报名人数"] == str((10 + 13 + 16 + 3) + (13 + 2) + (10 + 3))
    assert json.dumps(cards, ensure_ascii=False).count("%") == 2


def test_the_kpi_tables_catch_all_members_have_names():
    from dashboards.kpi_ui import dealer_name, region_name

    assert region_name("unknown") == "未知大区(经销商不在主数据中)" and region_name("华东") == "华东"
    assert (
        dealer_name("unassigned", None) == "未归属经销商"
        and dealer_name("D001", "北京一店") == "D001 北京一店"
    )
