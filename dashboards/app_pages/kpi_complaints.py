"""Complaints and roadside rescue: one month picker and drill-down for both."""

import streamlit as st

from dashboards import data
from dashboards.i18n import t
from dashboards.kpi_ui import member_picker, month_picker, page_header, render_sections
from dashboards.kpis import COMPLAINTS, RESCUES

if page_header("page_kpi_complaints", COMPLAINTS.table) and (picked := month_picker(COMPLAINTS.table)):
    member, dealer_names = member_picker(COMPLAINTS.table)
    complaints_tab, rescues_tab = st.tabs([t("complaints_tab"), t("rescues_tab")])
    with complaints_tab:
        render_sections(COMPLAINTS, picked[0], member, dealer_names)
    with rescues_tab:
        if data.has_table(RESCUES.table):
            render_sections(RESCUES, picked[0], member, dealer_names, picker_table=COMPLAINTS.table)
        else:
            st.info(t("no_table"))
