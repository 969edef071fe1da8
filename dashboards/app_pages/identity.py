"""Identity resolution health: identifiers per type, cluster sizes, merges and splits."""

import streamlit as st

from dashboards import data
from dashboards import labels as L
from dashboards.components import freshness_caption
from dashboards.i18n import t

st.title(t("page_identity"))

if not data.has_table("oneid_map"):
    st.info(t("not_published"))
    st.stop()

freshness_caption()

totals = data.query("select count(*) as identifiers, count(distinct oneid) as oneids from oneid_map").row(
    0, named=True
)
changes = (
    data.query("select count(*) as n from oneid_changes").item() if data.has_table("oneid_changes") else 0
)

with st.container(horizontal=True):
    st.metric(t("oneids"), f"{totals['oneids']:,}", border=True)
    st.metric(t("identifiers"), f"{totals['identifiers']:,}", border=True)
    st.metric(t("changes"), f"{changes:,}", border=True)

st.subheader(t("identifier_type"))
by_type = data.query(
    "select identifier_type, count(*) as identifiers, count(distinct oneid) as oneids "
    "from oneid_map group by 1 order by 2 desc"
)
st.dataframe(
    L.label_column(by_type, "identifier_type", L.IDENTIFIER_TYPE),
    hide_index=True,
    column_config={
        "identifier_type": t("identifier_type"),
        "identifiers": t("identifiers"),
        "oneids": t("oneids"),
    },
)

st.subheader(t("cluster_sizes"))
sizes = data.query(
    "select size, count(*) as oneids from (select oneid, count(*) as size from oneid_map group by 1) "
    "group by 1 order by 1"
)
st.bar_chart(sizes, x="size", y="oneids", x_label=t("identifiers"), y_label=t("oneids"))
