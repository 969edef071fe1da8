"""Small pieces shared by pages."""

import streamlit as st

from dashboards import data
from dashboards.i18n import t


def freshness_caption() -> None:
    info = data.publish_info()
    if info:
        st.caption(
            f"{t('as_of')}: **{info['as_of_date']}** · {t('prepared_month')}: **{info['month']}** · "
            f"{t('published_at')}: {info['published_at']}"
        )
