"""Data quality: what arrived, what was quarantined and why, and how fresh the published data is."""

import polars as pl
import streamlit as st

from dashboards import data
from dashboards import labels as L
from dashboards.components import freshness_caption
from dashboards.i18n import t
from dashboards.kpi_ui import bars

st.title(t("page_quality"))

if data.published_version() is None:
    st.info(t("not_published"))
    st.stop()

freshness_caption()

st.subheader(t("files"))
if data.has_table("file_manifest"):
    files = data.query(
        "select path, source, table_name, file_date, rows_read, rows_typed, rows_quarantined, status "
        "from file_manifest order by file_date desc nulls last, path"
    )
    for column, names in (("source", L.SOURCE), ("table_name", L.TABLE), ("status", L.FILE_STATUS)):
        files = L.label_column(files, column, names)
    st.dataframe(
        files,
        hide_index=True,
        column_config={
            "path": t("file"),
            "source": t("source"),
            "table_name": t("table"),
            "file_date": t("file_date"),
            "rows_read": t("rows_read"),
            "rows_typed": t("rows_typed"),
            "rows_quarantined": t("rows_quarantined"),
            "status": t("status"),
        },
    )
else:
    st.caption(t("no_table"))

st.subheader(t("quarantine_by_reason"))
if data.has_table("quarantine"):
    reasons = data.query(
        "select table_name, reason, count(*) as rows from quarantine group by all order by rows desc"
    )
    by_table = L.label_column(reasons.group_by("table_name").agg(pl.col("rows").sum()), "table_name", L.TABLE)
    bars(by_table, "table_name", "rows", t("table"))
    st.dataframe(
        L.label_column(reasons, "table_name", L.TABLE).with_columns(
            pl.col("reason").map_elements(L.quarantine_reason, return_dtype=pl.Utf8)
        ),
        hide_index=True,
        column_config={"table_name": t("table"), "reason": t("reason"), "rows": t("audit_rows")},
    )
else:
    st.caption(t("no_table"))
