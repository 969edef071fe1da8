"""Data quality: what arrived, what was quarantined and why, and how fresh the published data is."""

import streamlit as st

from dashboards import data
from dashboards.components import freshness_caption
from dashboards.i18n import t

st.title(t("page_quality"))

if data.published_version() is None:
    st.info(t("not_published"))
    st.stop()

freshness_caption()

st.subheader(t("files"))
if data.has_table("file_manifest"):
    st.dataframe(data.query("select * from file_manifest order by 1"), hide_index=True)
else:
    st.caption(t("no_table"))

st.subheader(t("quarantine_by_reason"))
if data.has_table("quarantine"):
    st.dataframe(
        data.query(
            "select table_name, reason, count(*) as rows from quarantine group by all order by rows desc"
        ),
        hide_index=True,
    )
else:
    st.caption(t("no_table"))
