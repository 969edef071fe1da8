"""aftercare dashboard: the entry point (served by ``server.py``).

Nothing but the login form runs until someone is signed in. Then the pages of the account's role
(``navigation.py``) are registered; what they read is scoped by ``data.py``.
"""

from collections import defaultdict

import streamlit as st

from dashboards import signin
from dashboards.i18n import LANGUAGES, t
from dashboards.navigation import home_for, pages_for

st.set_page_config(page_title="aftercare", page_icon="🚗", layout="wide")

with st.sidebar:
    st.selectbox(
        "语言 / Language",
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="lang",
    )

account = signin.current_account()
if account is None:
    st.navigation(
        [st.Page(signin.login_page, title=t("login_title"), url_path="login")], position="hidden"
    ).run()
    st.stop()

with st.sidebar:
    signin.account_box(account)
    signin.hand_over_cookie()

sections: dict[str, list] = defaultdict(list)
home = home_for(account.role)
for spec in pages_for(account.role):
    sections[t(spec.section_key)].append(
        st.Page(spec.script, title=t(spec.title_key), icon=spec.icon, default=spec.script == home)
    )
st.navigation(dict(sections)).run()
