"""Customer 360: the health of the customer base and a masked look-up of one customer."""

import polars as pl
import streamlit as st

from dashboards import data
from dashboards import labels as L
from dashboards.components import freshness_caption
from dashboards.i18n import t
from dashboards.kpi_ui import bars

st.title(t("page_customers"))

if not data.has_table("customer_360"):
    st.info(t("not_published"))
    st.stop()

freshness_caption()

health = data.query(
    """
    select
        count(*) as customers,
        count(*) filter (where is_active_12m) as active,
        count(*) filter (where lapse_status = 'at_risk') as at_risk,
        count(*) filter (where lapse_status = 'lapsed') as lapsed,
        avg(case when is_wechat_bound then 1.0 else 0.0 end) as wechat_bound_share
    from customer_360
    """
).row(0, named=True)

with st.container(horizontal=True):
    st.metric(t("customers"), f"{health['customers']:,}", border=True)
    st.metric(t("active"), f"{health['active']:,}", border=True)
    st.metric(t("at_risk"), f"{health['at_risk']:,}", border=True)
    st.metric(t("lapsed"), f"{health['lapsed']:,}", border=True)
    share = health["wechat_bound_share"]
    st.metric(t("wechat_bound_share"), "—" if share is None else f"{share:.1%}", border=True)

left, right = st.columns(2)
with left:
    st.subheader(t("lapse_status"))
    by_status = data.query(
        "select lapse_status, count(*) as customers from customer_360 group by 1 order by 1"
    )
    bars(
        L.label_column(by_status, "lapse_status", L.LAPSE_STATUS),
        "lapse_status",
        "customers",
        t("lapse_status"),
    )
with right:
    st.subheader(t("value_segment"))
    by_segment = data.query(
        "select value_segment, count(*) as customers from customer_360 group by 1 order by 1"
    )
    bars(
        L.label_column(by_segment, "value_segment", L.VALUE_SEGMENT),
        "value_segment",
        "customers",
        t("value_segment"),
    )

st.subheader(t("lookup"))
key = st.text_input(t("lookup"), label_visibility="collapsed", placeholder="OID… / VIN").strip()
if key:
    customer = data.query(
        """
        select * from customer_360
        where oneid = ? or oneid = (select current_owner_oneid from vehicles where vin = upper(?))
        """,
        (key, key),
    )
    if customer.is_empty():
        st.warning(t("not_found"))
    else:
        record = customer.row(0, named=True)
        st.dataframe(
            pl.DataFrame(
                {
                    t("field"): [L.field_name(k) for k in record],
                    t("value"): [L.field_value(k, v) for k, v in record.items()],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(t("vehicles"))
        vehicles = data.query(
            "select vin, model_name, first_invoice_date, servicing_dealer_code, last_visit_date, "
            "estimated_mileage_km, next_maintenance_due_date, lapse_status "
            "from vehicles where current_owner_oneid = ? order by vin",
            (record["oneid"],),
        )
        st.dataframe(
            L.label_column(vehicles, "lapse_status", L.LAPSE_STATUS),
            hide_index=True,
            column_config={c: L.field_name(c) for c in vehicles.columns},
        )
