"""Identity resolution health: identifiers per type, cluster sizes, merges and splits."""

import streamlit as st

from dashboards import data
from dashboards import labels as L
from dashboards.components import freshness_caption
from dashboards.i18n import t

st.title(t("page_identity"))

# the publish step's summaries of the map (marts oneid_identifier_types, oneid_cluster_sizes): a few
# rows each, so the page never aggregates the millions of identifiers behind them
if not (data.has_table("oneid_identifier_types") and data.has_table("oneid_cluster_sizes")):
    st.info(t("not_published"))
    st.stop()

freshness_caption()

totals = data.query(
    "select sum(identifiers) as identifiers, sum(oneids) as oneids from oneid_cluster_sizes"
).row(0, named=True)
changes = (
    data.query("select count(*) as n from oneid_changes").item() if data.has_table("oneid_changes") else 0
)

with st.container(horizontal=True):
    st.metric(t("oneids"), f"{totals['oneids'] or 0:,}", border=True)
    st.metric(t("identifiers"), f"{totals['identifiers'] or 0:,}", border=True)
    st.metric(t("changes"), f"{changes:,}", border=True)

st.subheader(t("identifier_type"))
by_type = data.query(
    "select identifier_type, identifiers, oneids from oneid_identifier_types order by identifiers desc"
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
sizes = data.query("select cluster_size as size, oneids from oneid_cluster_sizes order by cluster_size")
st.bar_chart(sizes, x="size", y="oneids", x_label=t("identifiers"), y_label=t("oneids"))
