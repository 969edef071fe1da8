"""The dealer workspace: this month's tasks, last month's unreached / untracked / unreturned lists,
audited downloads, and closing or reopening a task (dealer managers; region managers read their
region's dealers)."""

import datetime as dt

import polars as pl
import streamlit as st

from assets.exports.lists import NEEDED_COLUMNS, list_month, present, select_rows
from dashboards import data, settings
from dashboards.components import freshness_caption
from dashboards.dealer_lists import LISTS, download_rows, file_name, list_file, months_of, rows_sql
from dashboards.downloads import audited_download
from dashboards.i18n import lang, t
from dashboards.labels import REMINDER_TYPE, close_reason_labels, label
from dashboards.scope import Scope
from dashboards.signin import ACCOUNT_KEY
from sources.clock import now_local
from sources.decisions import DecisionError, decisions_in_force, read_decisions, record_decision
from sources.pii import PiiVault

me = st.session_state[ACCOUNT_KEY]
st.title(t("page_workspace"))

info = data.publish_info()
if info is None:
    st.info(t("not_published"))
    st.stop()
freshness_caption()
if not data.has_table("reminders"):
    st.info(t("no_reminders"))
    st.stop()

month = dt.date.fromisoformat(f"{info['month']}-01")
this_month, last_month = months_of(month)
available = set(data.query("select * from reminders limit 0").columns)
missing = [c for c in NEEDED_COLUMNS if c not in available]
if missing:
    st.error(t("reminders_incomplete").format(columns=", ".join(missing)))
    st.stop()

dealers = data.query("select dealer_code, dealer_name from dealers order by dealer_code")
names = dict(zip(dealers["dealer_code"], dealers["dealer_name"], strict=True))
if me.role == "dealer_manager":
    dealer = me.dealer_code
    st.subheader(f"{dealer} {names.get(dealer, '')}")
else:
    dealer = st.selectbox(
        t("dealer_name"),
        dealers["dealer_code"].to_list(),
        format_func=lambda c: f"{c} {names.get(c, '')}",
        key="workspace_dealer",
    )
if not dealer:
    st.stop()

rows = data.query(rows_sql(available), (this_month, last_month, dealer))
selected = {spec.key: select_rows(rows, month, spec) for spec in LISTS}
closed_now = rows.filter((pl.col("month") == this_month) & pl.col("closed_reason").is_not_null())

with st.container(horizontal=True):
    for spec in LISTS:
        st.metric(
            f"{spec.title(lang())} ({list_month(month, spec):%Y-%m})",
            f"{selected[spec.key].height:,}",
            border=True,
        )
    st.metric(t("closed_tasks"), f"{closed_now.height:,}", border=True)

scope = Scope.of(me)
vault = PiiVault(settings.settings().pii_key()) if me.role == "dealer_manager" else None
if me.role == "dealer_manager":
    st.caption(t("download_full_mobiles"))
else:
    st.caption(t("download_masked_mobiles"))

tabs = st.tabs(
    [f"{spec.title(lang())} · {list_month(month, spec):%Y-%m}" for spec in LISTS] + [t("task_decisions")]
)
for tab, spec in zip(tabs, LISTS, strict=False):
    with tab:
        shown = present(selected[spec.key], spec, lang()).with_columns(
            pl.col(pl.Date).dt.strftime("%Y-%m-%d")
        )
        st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * max(shown.height, 1), 460))

        with st.container(horizontal=True):
            for file_format in ("xlsx", "csv"):
                audited_download(
                    lambda spec=spec, file_format=file_format: list_file(
                        download_rows(scope, month, dealer), month, spec, dealer, file_format, vault
                    ),
                    key=f"download_{spec.key}_{file_format}",
                    label=t(f"download_{file_format}"),
                    dealer_code=dealer,
                    month=f"{list_month(month, spec):%Y-%m}",
                    list_name=spec.key,
                    file_format=file_format,
                    file_name=file_name(dealer, month, spec, file_format),
                )

# --- closing and reopening tasks ---------------------------------------------------------------
with tabs[-1]:
    if flash := st.session_state.pop("_workspace_flash", None):
        st.success(flash)
    reasons = close_reason_labels()
    tasks_now = rows.filter(pl.col("month") == this_month).sort("due_date", "vin")
    task_ids_now = set(tasks_now["task_id"])
    in_force = decisions_in_force(
        [d for d in read_decisions(settings.state_dir()) if d.task_id in task_ids_now],
        now_local(),
    )

    # labelled once: the busiest dealer's picker holds ~2,000 tasks, a lookup per option was 0.25 s
    task_labels = {
        row["task_id"]: (
            f"{row['vin']} · {label(REMINDER_TYPE, row['reminder_type'])} · {row['due_date']:%Y-%m-%d} · "
            f"{row['task_id']}"
        )
        for row in tasks_now.select("task_id", "vin", "reminder_type", "due_date").iter_rows(named=True)
    }

    def _task_label(task_id: str) -> str:
        return task_labels.get(task_id, task_id)

    closed_ids = [task for task, d in in_force.items() if d.action == "close"]
    published_closed = dict(closed_now.select("task_id", "closed_reason").iter_rows())
    closed_ids += [task for task in published_closed if task not in in_force]
    closed_set = set(closed_ids)
    open_ids = [task for task in tasks_now["task_id"].to_list() if task not in closed_set]

    if closed_ids:
        st.subheader(t("closed_tasks"))
        st.dataframe(
            pl.DataFrame(
                {
                    t("task"): [_task_label(task) for task in closed_ids],
                    t("close_reason"): [
                        label(reasons, in_force[task].reason if task in in_force else published_closed[task])
                        for task in closed_ids
                    ],
                    t("decided_by"): [
                        in_force[task].decided_by if task in in_force else "" for task in closed_ids
                    ],
                    t("decision_status"): [
                        t("decision_in_effect") if task in published_closed else t("decision_pending")
                        for task in closed_ids
                    ],
                }
            ),
            hide_index=True,
        )

    if me.role != "dealer_manager":
        st.caption(t("decisions_dealer_only"))
        st.stop()

    left, right = st.columns(2)
    with left, st.form("close_task", clear_on_submit=True):
        st.subheader(t("close_task"))
        task = st.selectbox(t("task"), open_ids, format_func=_task_label, key="close_task_id", index=None)
        reason = st.selectbox(
            t("close_reason"), list(reasons), format_func=lambda c: label(reasons, c), key="close_reason"
        )
        note = st.text_input(t("note"), max_chars=200, key="close_note")
        if st.form_submit_button(t("close_task"), type="primary", key="close_submit"):
            if task not in open_ids:
                st.error(t("choose_task"))
            else:
                try:
                    record_decision(
                        settings.state_dir(),
                        task,
                        "close",
                        me.name,
                        reason=reason,
                        dealer_code=dealer,
                        month=f"{this_month:%Y-%m}",
                        note=note or None,
                    )
                    st.session_state["_workspace_flash"] = t("task_closed").format(task=_task_label(task))
                    st.rerun()
                except DecisionError as exc:
                    st.error(str(exc))
    with right:
        st.subheader(t("reopen_task"))
        reopen = st.selectbox(
            t("task"), closed_ids, format_func=_task_label, key="reopen_task_id", index=None
        )
        if st.button(t("reopen_task"), key="reopen_button", disabled=reopen is None):
            record_decision(
                settings.state_dir(),
                reopen,
                "reopen",
                me.name,
                dealer_code=dealer,
                month=f"{this_month:%Y-%m}",
            )
            st.session_state["_workspace_flash"] = t("task_reopened").format(task=_task_label(reopen))
            st.rerun()
    st.caption(t("decisions_next_run"))
