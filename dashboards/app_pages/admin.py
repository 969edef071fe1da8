"""Administration (admins only): accounts, the audit log, the last runs and their quality gate,
and the data steward's per-dealer quarantine files."""

import polars as pl
import streamlit as st

from dashboards import accounts as store_accounts
from dashboards import data, settings
from dashboards.audit import read_downloads, verify_chain
from dashboards.downloads import audited_download
from dashboards.i18n import t
from dashboards.labels import TABLE, label, quarantine_reason
from dashboards.quarantine import BY_DEALER_SQL, NO_DEALER, ROWS_SQL, quarantine_csv, quarantine_xlsx
from dashboards.runs import last_runs
from dashboards.scope import Scope
from dashboards.signin import ACCOUNT_KEY
from dashboards.store import connect
from sources.clock import now_local

me = st.session_state[ACCOUNT_KEY]
if me.role != "admin":  # navigation never offers this page to others; refuse anyway
    st.stop()

st.title(t("page_admin"))
users_tab, audit_tab, runs_tab, quarantine_tab = st.tabs(
    [t("admin_users"), t("admin_audit"), t("admin_runs"), t("admin_quarantine")]
)

ROLE_LABELS = {role: (t(f"role_{role}"), t(f"role_{role}")) for role in store_accounts.ROLES}


def _published_dealers() -> pl.DataFrame:
    if not data.has_table("dealers"):
        return pl.DataFrame(
            {"dealer_code": [], "dealer_name": [], "region": []},
            schema=[("dealer_code", pl.Utf8), ("dealer_name", pl.Utf8), ("region", pl.Utf8)],
        )
    return data.query("select dealer_code, dealer_name, region from dealers order by dealer_code")


# --- accounts ----------------------------------------------------------------------------------
with users_tab:
    con = connect(settings.state_dir())
    try:
        now = now_local()
        listed = store_accounts.list_accounts(con)
        st.dataframe(
            pl.DataFrame(
                {
                    t("username"): [a.name for a in listed],
                    t("role"): [label(ROLE_LABELS, a.role) for a in listed],
                    t("dealer_code"): [a.dealer_code or "" for a in listed],
                    t("region"): [a.region or "" for a in listed],
                    t("account_status"): [
                        t("status_disabled")
                        if a.disabled
                        else t("status_locked").format(until=f"{a.locked_until:%H:%M}")
                        if a.locked_until and a.locked_until > now
                        else t("status_active")
                        for a in listed
                    ],
                }
            ),
            hide_index=True,
        )
    finally:
        con.close()

    dealers = _published_dealers()
    left, right = st.columns(2)
    with left, st.form("add_account", clear_on_submit=True):
        st.subheader(t("add_account"))
        name = st.text_input(t("username"))
        role = st.selectbox(t("role"), store_accounts.ROLES, format_func=lambda r: t(f"role_{r}"))
        dealer = st.selectbox(
            t("dealer_for_manager"),
            [None, *dealers["dealer_code"].to_list()],
            format_func=lambda c: "—" if c is None else c,
        )
        region = st.selectbox(
            t("region_for_manager"),
            [None, *sorted(set(dealers["region"].drop_nulls()))],
            format_func=lambda r: r or "—",
        )
        if st.form_submit_button(t("add_account"), type="primary"):
            con = connect(settings.state_dir())
            try:
                password = store_accounts.add_account(
                    con,
                    name,
                    role,
                    dealer if role == "dealer_manager" else None,
                    region if role == "region_manager" else None,
                )
                st.success(t("account_created").format(name=name.strip(), password=password))
            except store_accounts.AccountError as exc:
                st.error(str(exc))
            finally:
                con.close()

    with right:
        st.subheader(t("account_actions"))
        others = [a.name for a in listed if a.name != me.name]
        target = st.selectbox(t("username"), others, key="admin_target") if others else None
        if target:
            disable, enable, reset = st.columns(3)
            con = connect(settings.state_dir())
            try:
                if disable.button(t("disable"), key="admin_disable"):
                    store_accounts.set_disabled(con, target, True)
                    st.rerun()
                if enable.button(t("enable"), key="admin_enable"):
                    store_accounts.set_disabled(con, target, False)
                    st.rerun()
                if reset.button(t("reset_password"), key="admin_reset"):
                    password = store_accounts.set_password(con, target)
                    st.success(t("password_reset").format(name=target, password=password))
            finally:
                con.close()

# --- audit log ---------------------------------------------------------------------------------
with audit_tab:
    con = connect(settings.state_dir())
    try:
        broken = verify_chain(con)
        downloads = read_downloads(con, limit=1000)
        events = con.execute(
            "select at, name, event, detail from auth_events order by event_id desc limit 500"
        ).fetchall()
    finally:
        con.close()
    if broken is None:
        st.success(t("audit_intact").format(n=len(downloads)))
    else:
        st.error(t("audit_broken").format(entry=broken))
    st.subheader(t("audit_downloads"))
    st.dataframe(
        pl.DataFrame(
            downloads,
            schema={
                "entry_id": pl.Int64,
                "downloaded_at": pl.Utf8,
                "downloaded_by": pl.Utf8,
                "role": pl.Utf8,
                "dealer_code": pl.Utf8,
                "month": pl.Utf8,
                "list_name": pl.Utf8,
                "file_format": pl.Utf8,
                "file_name": pl.Utf8,
                "rows": pl.Int64,
                "full_mobiles": pl.Int64,
                "file_sha256": pl.Utf8,
            },
        ).with_columns(
            pl.col("role").replace_strict(
                {r: t(f"role_{r}") for r in store_accounts.ROLES}, default=pl.col("role")
            ),
            pl.col("list_name").replace_strict(
                {
                    k: t(f"list_{k}")
                    for k in ("due", "not_reminded", "not_tracked", "not_returned", "quarantine")
                },
                default=pl.col("list_name"),
            ),
        ),
        hide_index=True,
        column_config={
            "entry_id": "#",
            "downloaded_at": t("audit_when"),
            "downloaded_by": t("audit_who"),
            "role": t("role"),
            "dealer_code": t("dealer_code"),
            "month": t("month"),
            "list_name": t("audit_list"),
            "file_format": t("audit_format"),
            "file_name": t("audit_file"),
            "rows": t("audit_rows"),
            "full_mobiles": t("audit_full_mobiles"),
            "file_sha256": "SHA-256",
        },
    )
    st.subheader(t("audit_signins"))
    st.dataframe(
        pl.DataFrame(
            events, schema=[t("audit_when"), t("username"), t("audit_event"), t("audit_detail")], orient="row"
        ),
        hide_index=True,
    )

# --- runs and their quality gate ---------------------------------------------------------------
with runs_tab:
    reports = last_runs(settings.runs_dir())
    if not reports:
        st.info(t("no_runs"))
    for report in reports:
        verdict = (
            t("gate_unreadable")
            if report.passed is None
            else t("gate_passed")
            if report.passed
            else t("gate_failed")
        )
        with st.expander(
            f"{report.finished_at:%Y-%m-%d %H:%M} · {verdict} · {report.run_id}",
            expanded=report is reports[0],
        ):
            if report.error:
                st.error(report.error)
            with st.container(horizontal=True):
                st.metric(t("gate_checks"), len(report.checks), border=True)
                st.metric(t("gate_failed_checks"), len(report.failed_checks), border=True)
            if report.failed_checks:
                st.dataframe(pl.DataFrame(report.failed_checks), hide_index=True)
            if report.data_docs_url:
                st.link_button(t("data_docs"), report.data_docs_url, icon=":material/open_in_new:")

# --- the data steward's quarantine files -------------------------------------------------------
with quarantine_tab:
    if not data.has_table("quarantine"):
        st.info(t("no_table"))
    else:
        by_dealer = data.query(BY_DEALER_SQL)
        st.caption(t("quarantine_help"))
        codes = by_dealer["dealer_code"].to_list()
        names = dict(zip(codes, by_dealer["dealer_name"].to_list(), strict=True))
        counts = dict(zip(codes, by_dealer["rows"].to_list(), strict=True))

        def _dealer_label(code: str) -> str:
            if code == NO_DEALER:
                return f"{t('no_dealer')} ({counts[code]})"
            return f"{code} {names.get(code) or t('unknown_dealer_code')} ({counts[code]})"

        chosen = st.selectbox(t("dealer_name"), codes, format_func=_dealer_label, key="quarantine_dealer")
        if chosen:
            rows = data.query(ROWS_SQL, (chosen,))
            summary = rows.group_by("table_name", "reason").len("rows").sort("rows", descending=True)
            st.dataframe(
                summary.with_columns(
                    pl.col("table_name").map_elements(lambda v: label(TABLE, v), return_dtype=pl.Utf8),
                    pl.col("reason").map_elements(quarantine_reason, return_dtype=pl.Utf8),
                ),
                hide_index=True,
                column_config={"table_name": t("table"), "reason": t("reason"), "rows": t("audit_rows")},
            )
            scope = Scope.of(me)
            month = (data.publish_info() or {}).get("month", "")
            stem = f"quarantine_{chosen if chosen != NO_DEALER else 'none'}_{month}"

            def _rows():
                return data.read(ROWS_SQL, (chosen,), scope=scope)

            with st.container(horizontal=True):
                audited_download(
                    lambda: quarantine_xlsx(_rows(), chosen),
                    key="quarantine_xlsx",
                    label=t("download_xlsx"),
                    dealer_code=chosen,
                    month=month,
                    list_name="quarantine",
                    file_format="xlsx",
                    file_name=f"{stem}.xlsx",
                )
                audited_download(
                    lambda: quarantine_csv(_rows()),
                    key="quarantine_csv",
                    label=t("download_csv"),
                    dealer_code=chosen,
                    month=month,
                    list_name="quarantine",
                    file_format="csv",
                    file_name=f"{stem}.csv",
                )
