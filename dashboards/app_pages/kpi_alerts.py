"""Warnings: the month's alerts (return or completion rate drops, lapse spikes, overdue complaints,
missing exports) and how many of each kind arose over twelve months."""

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.i18n import lang, t
from dashboards.kpi_ui import month_label, page_header
from dashboards.kpis import add_months
from dashboards.labels import ALERT_CODE, LEVEL, label

TABLE = "alerts"

if page_header("page_kpi_alerts", TABLE):
    months = data.query(
        f"select month, bool_and(is_final) as is_final from {TABLE} group by 1 order by 1 desc"
    )
    finals = dict(zip(months["month"], months["is_final"], strict=True))
    month = st.selectbox(
        t("month"),
        months["month"].to_list(),
        format_func=lambda m: month_label(m, finals[m]),
        key="kpi_month_alerts",
    )
    if month is not None:
        alerts = data.query(
            f"""
            select alert_code, level, coalesce(dealer_code || ' ' || dealer_name, region, '') as member,
                   message_zh, message_en, value, threshold, is_final
            from {TABLE} where month = ? order by alert_code, level, member
            """,
            (month,),
        )
        with st.container(horizontal=True):
            st.metric(t("alerts_total"), f"{alerts.height:,}", border=True)
            for code, names in ALERT_CODE.items():
                count = alerts.filter(pl.col("alert_code") == code).height
                if count:
                    st.metric(names[0] if lang() == "zh" else names[1], f"{count:,}", border=True)
        if alerts.is_empty():
            st.success(t("no_alerts"))
        else:
            shown = alerts.select(
                pl.col("alert_code").map_elements(lambda c: label(ALERT_CODE, c), return_dtype=pl.Utf8),
                pl.col("level").map_elements(lambda c: label(LEVEL, c), return_dtype=pl.Utf8),
                pl.when(pl.col("level") == "nation")
                .then(pl.lit(t("scope_all")))
                .otherwise(pl.col("member"))
                .alias("member"),
                pl.col("message_zh" if lang() == "zh" else "message_en").alias("message"),
                pl.when(pl.col("is_final"))
                .then(pl.lit(t("final")))
                .otherwise(pl.lit(t("provisional")))
                .alias("status"),
            )
            st.dataframe(
                shown,
                hide_index=True,
                column_config={
                    "alert_code": t("alert"),
                    "level": t("level"),
                    "member": t("member"),
                    "message": t("message"),
                    "status": t("status"),
                },
            )

        st.subheader(t("trend_12m"))
        counts = data.query(
            f"select month, alert_code, count(*) as alerts from {TABLE} where month between ? and ? group by "
            "1, 2 order by 1",
            (add_months(month, -11), month),
        )
        if not counts.is_empty():
            counts = counts.with_columns(
                pl.col("alert_code").map_elements(lambda c: label(ALERT_CODE, c), return_dtype=pl.Utf8),
                pl.col("month").dt.strftime("%Y-%m"),
            )
            # the legend is titled by the column: name the columns as people read them
            named = counts.rename(
                {"month": t("month"), "alert_code": t("alert"), "alerts": t("alerts_total")}
            )
            st.bar_chart(named, x=t("month"), y=t("alerts_total"), color=t("alert"))
