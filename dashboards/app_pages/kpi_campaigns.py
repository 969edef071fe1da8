"""Service campaigns: participants, arrivals, conversion and new revenue of the campaigns active in a
month, their 12-month trend (by start month) and the drill-down nation → region → dealer."""

import datetime as dt

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.i18n import t
from dashboards.kpi_ui import (
    bars,
    cards,
    member_name,
    member_picker,
    metric_name,
    month_label,
    page_header,
    render_members,
    trend_chart,
)
from dashboards.kpis import METRICS, MonthlyKpis, add_months
from dashboards.labels import CAMPAIGN_SCOPE, label

TABLE = "kpi_campaigns"
FIGURES = (
    "participants",
    "arrivals",
    "converted",
    "campaign_repair_orders",
    "new_output_value",
    "arrival_rate",
    "conversion_rate",
)
# sums of the campaigns active in the month; rates recomputed from the sums, never averaged
SUMS = """
    count(distinct campaign_code) as campaigns, sum(participants) as participants, sum(arrivals) as arrivals,
    sum(converted) as converted, sum(campaign_repair_orders) as campaign_repair_orders,
    sum(new_output_value) as new_output_value,
    sum(arrivals) / nullif(sum(participants), 0) as arrival_rate,
    sum(converted) / nullif(sum(arrivals), 0) as conversion_rate,
    bool_and(is_final) as is_final
"""
ACTIVE = "campaign_start_date <= ? and campaign_end_date >= ?"  # overlaps the month

if page_header("page_kpi_campaigns", TABLE):
    months = data.query(
        f"""
        select month, bool_and(is_final) as is_final
        from (select unnest(generate_series(date_trunc('month', campaign_start_date),
                                            date_trunc('month', campaign_end_date), interval 1 month))::date
                     as month, is_final
              from {TABLE} where level = 'nation')
        group by month order by month desc
        """
    )
    finals = dict(zip(months["month"], months["is_final"], strict=True))
    month = st.selectbox(
        t("month"),
        months["month"].to_list(),
        format_func=lambda m: month_label(m, finals[m]),
        key="kpi_month_campaigns",
    )
    member, dealer_names = member_picker(TABLE, grain="true")
    if month is not None:
        month_end = add_months(month, 1) - dt.timedelta(days=1)
        condition, params = member.condition()
        st.subheader(f"{member_name(member, dealer_names)} · {month:%Y-%m}")
        totals = data.query(
            f"select {SUMS} from {TABLE} where {condition} and {ACTIVE}", (*params, month_end, month)
        )
        row = totals.row(0, named=True)
        st.metric(t("campaigns_active"), f"{row['campaigns'] or 0:,}", border=True)
        cards(row, None, FIGURES)

        active = data.query(
            f"""
            select campaign_code, campaign_name, campaign_scope, campaign_start_date, campaign_end_date,
                   is_final, {", ".join(FIGURES)}
            from {TABLE} where {condition} and {ACTIVE} order by participants desc, campaign_code
            """,
            (*params, month_end, month),
        ).with_columns(
            pl.col("campaign_scope").map_elements(lambda c: label(CAMPAIGN_SCOPE, c), return_dtype=pl.Utf8),
            pl.when(pl.col("is_final"))
            .then(pl.lit(t("final")))
            .otherwise(pl.lit(t("provisional")))
            .alias("is_final"),
        )
        st.dataframe(
            active,
            hide_index=True,
            column_config={
                "campaign_code": t("campaign_code"),
                "campaign_name": t("campaign_name"),
                "campaign_scope": t("campaign_scope"),
                "campaign_start_date": t("start_date"),
                "campaign_end_date": t("end_date"),
                "is_final": t("status"),
            }
            | {
                c: st.column_config.NumberColumn(
                    metric_name(c), format="percent" if METRICS[c].kind == "rate" else "localized"
                )
                for c in FIGURES
            },  # fmt: skip
        )
        bars(active.rename({"campaign_name": "name"}), "name", "arrival_rate", t("campaign_name"))

        st.subheader(t("trend_12m_by_start"))
        trend = data.query(
            f"""
            select date_trunc('month', campaign_start_date)::date as month, {SUMS}
            from {TABLE} where {condition} and campaign_start_date between ? and ?
            group by 1 order by 1
            """,
            (*params, add_months(month, -11), month_end),
        )
        left, right = st.columns(2)
        with left:
            trend_chart(trend, ("arrival_rate", "conversion_rate"))
        with right:
            trend_chart(trend, ("participants", "arrivals"), kind="bar")
        st.caption(t("hollow_is_provisional"))

        found = member.children_condition()
        if found is not None:
            child_condition, child_params = found
            children = data.query(
                f"""
                select level, level_key, region, dealer_code, dealer_name, {SUMS}
                from {TABLE} where {child_condition} and {ACTIVE}
                group by level, level_key, region, dealer_code, dealer_name
                order by arrival_rate desc nulls last, level_key
                """,
                (*child_params, month_end, month),
            )
            render_members(
                MonthlyKpis(
                    TABLE,
                    (),
                    (),
                    (),
                    ("participants", "arrivals", "arrival_rate", "conversion_rate", "new_output_value"),
                    "arrival_rate",
                ),  # fmt: skip
                children,
            )
