"""aftercare dashboard: the entry point. Pages live in ``app_pages/``; data access in ``data.py``."""

import streamlit as st

from dashboards.i18n import LANGUAGES, t

st.set_page_config(page_title="aftercare", page_icon="🚗", layout="wide")

with st.sidebar:
    st.selectbox(
        "语言 / Language",
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="lang",
    )

pages = [
    st.Page("app_pages/overview.py", title=t("page_overview"), icon=":material/insights:", default=True),
    st.Page("app_pages/customers.py", title=t("page_customers"), icon=":material/person_search:"),
    st.Page("app_pages/identity.py", title=t("page_identity"), icon=":material/hub:"),
    st.Page("app_pages/data_quality.py", title=t("page_quality"), icon=":material/fact_check:"),
]
st.navigation(pages).run()
