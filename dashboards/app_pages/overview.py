"""Network overview: the dealer network's service volume, by region and dealer."""

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.components import freshness_caption
from dashboards.i18n import t

st.title(t("page_overview"))

if not data.has_table("dealers"):
    st.info(t("not_published"))
    st.stop()

freshness_caption()

dealers = data.query(
    "select dealer_code, dealer_name, region, province, city, repair_orders_12m, "
    "vehicles_serviced_12m, revenue_12m from dealers order by region, dealer_code"
)

regions = sorted(dealers["region"].drop_nulls().unique().to_list())
chosen = st.sidebar.selectbox(t("filter_region"), [t("all"), *regions])
if chosen != t("all"):
    dealers = dealers.filter(pl.col("region") == chosen)

with st.container(horizontal=True):
    st.metric(t("dealers"), f"{dealers.height:,}", border=True)
    st.metric(t("repair_orders_12m"), f"{int(dealers['repair_orders_12m'].sum()):,}", border=True)
    st.metric(t("vehicles_serviced_12m"), f"{int(dealers['vehicles_serviced_12m'].sum()):,}", border=True)
    st.metric(t("revenue_12m"), f"{float(dealers['revenue_12m'].sum()):,.0f}", border=True)

st.subheader(t("by_region"))
by_region = (
    dealers.group_by("region")
    .agg(
        pl.len().alias("dealers"),
        pl.col("repair_orders_12m").sum(),
        pl.col("vehicles_serviced_12m").sum(),
        pl.col("revenue_12m").sum(),
    )
    .sort("region")
)
st.bar_chart(
    by_region, x="region", y="repair_orders_12m", x_label=t("region"), y_label=t("repair_orders_12m")
)
st.dataframe(
    by_region,
    hide_index=True,
    column_config={
        "region": t("region"),
        "dealers": t("dealers"),
        "repair_orders_12m": t("repair_orders_12m"),
        "vehicles_serviced_12m": t("vehicles_serviced_12m"),
        "revenue_12m": st.column_config.NumberColumn(t("revenue_12m"), format="%.0f"),
    },
)

st.subheader(t("by_dealer"))
st.dataframe(
    dealers,
    hide_index=True,
    column_config={
        "dealer_code": t("dealer_code"),
        "dealer_name": t("dealer_name"),
        "region": t("region"),
        "province": t("province"),
        "city": t("city"),
        "repair_orders_12m": t("repair_orders_12m"),
        "vehicles_serviced_12m": t("vehicles_serviced_12m"),
        "revenue_12m": st.column_config.NumberColumn(t("revenue_12m"), format="%.0f"),
    },
)
