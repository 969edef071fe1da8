"""The KPI pages' shared parts: month picker, drill-down, cards, trend charts, member tables.

Every page reads one KPI table through ``data.query`` (so a manager sees the nation's rows, its
region's and its own dealers', nothing else), shows one member at a time (全国 → 大区 → 经销商) and
marks provisional months (not final yet: the return grace or settling days have not passed).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from dashboards import data
from dashboards import labels as L
from dashboards.components import freshness_caption
from dashboards.i18n import lang, t
from dashboards.kpis import (
    METRICS,
    Member,
    MonthlyKpis,
    add_months,
    breakdown_sql,
    children_sql,
    member_rows_sql,
    months_sql,
)
from dashboards.signin import ACCOUNT_KEY

TREND_MONTHS = 12
REGION_KEY, DEALER_KEY, MONTH_KEY = "kpi_region", "kpi_dealer", "kpi_month"
NATION, ALL_DEALERS = "__nation__", "__all__"


# --- formatting ----------------------------------------------------------------------------------


def metric_name(column: str) -> str:
    metric = METRICS.get(column)
    return metric.name(lang()) if metric else column


def fmt(column: str, value) -> str:
    if value is None:
        return "—"
    kind = METRICS[column].kind if column in METRICS else "count"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "points":
        return f"{value * 100:+.1f} {t('points')}"
    if kind in ("hours", "minutes", "score"):
        return f"{value:,.1f}"
    if kind == "money":
        return f"{value:,.0f}"
    return f"{int(value):,}"


def fmt_delta(column: str, now, before) -> str | None:
    if now is None or before is None:
        return None
    kind = METRICS[column].kind if column in METRICS else "count"
    change = now - before
    if kind in ("rate", "points"):
        return f"{change * 100:+.1f} {t('points')}"
    if kind in ("hours", "minutes", "score", "money"):
        return f"{change:+,.1f}"
    return f"{int(change):+,}"


def month_label(month: dt.date, is_final: bool) -> str:
    return f"{month:%Y-%m}" + ("" if is_final else f" · {t('provisional')}")


def region_name(region: str | None) -> str:
    """A region as people call it; the KPI tables' ``unknown`` (a dealer not in the master) named."""
    if region == "unknown":
        return t("region_unknown")
    return region or "—"


def dealer_name(code: str | None, name: str | None) -> str:
    """``D001 北京一店``; the KPI tables' ``unassigned`` (no dealer at all) named."""
    if code == "unassigned":
        return t("dealer_unassigned")
    return f"{code or ''} {name or ''}".strip() or "—"


def member_name(member: Member, dealer_names: dict[str, str]) -> str:
    if member.level == "dealer":
        return dealer_name(member.dealer_code, dealer_names.get(member.dealer_code))
    if member.level == "region":
        return region_name(member.region)
    return t("scope_all")


# --- pickers -------------------------------------------------------------------------------------


def page_header(title_key: str, table: str) -> bool:
    """Title, freshness and whether the table is published for this account."""
    st.title(t(title_key))
    if data.published_version() is None:
        st.info(t("not_published"))
        return False
    freshness_caption()
    if not data.has_table(table):
        st.info(t("no_table"))
        return False
    return True


def month_picker(table: str, sql: str | None = None) -> tuple[dt.date, bool] | None:
    """The month to show (latest by default), provisional months marked in the list."""
    months = data.query(sql or months_sql(table))
    if months.is_empty():
        st.info(t("no_table"))
        return None
    finals = dict(zip(months["month"], months["is_final"], strict=True))
    choice = st.selectbox(
        t("month"),
        months["month"].to_list(),
        format_func=lambda m: month_label(m, finals[m]),
        key=f"{MONTH_KEY}_{table}",
    )
    if not finals[choice]:
        st.caption(t("provisional_help"))
    return choice, bool(finals[choice])


def picker_keys(table: str) -> tuple[str, str]:
    """Each page keeps its own drill-down (a widget's state does not survive a page it is not on)."""
    return f"{REGION_KEY}_{table}", f"{DEALER_KEY}_{table}"


def member_picker(table: str, grain: str = "period_grain = 'month'") -> tuple[Member, dict[str, str]]:
    """大区 and 经销商 selectors over the members this account may see; a manager starts on its own."""
    account = st.session_state[ACCOUNT_KEY]
    region_key, dealer_key = picker_keys(table)
    regions = data.query(
        f"select distinct region from {table} where level = 'region' and {grain} "
        "and region is not null order by region"
    )["region"].to_list()
    region_options = [NATION, *regions]
    if (
        region_key not in st.session_state
        and account.role in ("dealer_manager", "region_manager")
        and regions
    ):
        st.session_state[region_key] = regions[0]  # a manager sees one region: its own
    if st.session_state.get(region_key) not in region_options:
        st.session_state[region_key] = NATION
    left, right = st.columns(2)
    region = left.selectbox(
        t("region"),
        region_options,
        format_func=lambda r: t("scope_all") if r == NATION else region_name(r),
        key=region_key,
    )
    dealers = pl.DataFrame(schema={"dealer_code": pl.Utf8, "dealer_name": pl.Utf8})
    if region != NATION:
        dealers = data.query(
            f"select distinct dealer_code, dealer_name from {table} where level = 'dealer' and region = ? "
            f"and {grain} order by dealer_code",
            (region,),
        )
    names = dict(zip(dealers["dealer_code"], dealers["dealer_name"], strict=True))
    dealer_options = [ALL_DEALERS, *names]
    if (
        dealer_key not in st.session_state
        and account.role == "dealer_manager"
        and account.dealer_code in names
    ):
        st.session_state[dealer_key] = account.dealer_code
    if st.session_state.get(dealer_key) not in dealer_options:
        st.session_state[dealer_key] = ALL_DEALERS
    dealer = right.selectbox(
        t("dealer_name"),
        dealer_options,
        format_func=lambda c: t("all_dealers") if c == ALL_DEALERS else dealer_name(c, names.get(c)),
        key=dealer_key,
        disabled=region == NATION,
    )
    if region == NATION:
        return Member("nation"), names
    if dealer == ALL_DEALERS:
        return Member("region", region), names
    return Member("dealer", region, dealer), names


def drill_into(children_key: str, table: str) -> None:
    """A row clicked in the members table becomes the member shown (one level down)."""
    selection = st.session_state.get(f"{children_key}_table")
    rows = (selection or {}).get("selection", {}).get("rows", []) if selection else []
    members = st.session_state.get(children_key) or []
    if not rows or rows[0] >= len(members):
        return
    level, region, dealer = members[rows[0]]
    region_key, dealer_key = picker_keys(table)
    if level in ("region", "dealer"):
        st.session_state[region_key] = region
        st.session_state[dealer_key] = dealer if level == "dealer" else ALL_DEALERS


# --- the figures ---------------------------------------------------------------------------------


def cards(row: dict | None, previous: dict | None, columns: tuple[str, ...]) -> None:
    with st.container(horizontal=True):
        for column in columns:
            now = row.get(column) if row else None
            before = previous.get(column) if previous else None
            metric = METRICS.get(column)
            st.metric(
                metric_name(column),
                fmt(column, now),
                delta=fmt_delta(column, now, before),
                delta_color="inverse" if metric and metric.lower_is_better else "normal",
                border=True,
            )


def trend_chart(frame: pl.DataFrame, columns: tuple[str, ...], kind: str = "line") -> None:
    """Twelve months of some metrics; hollow points are provisional months."""
    if frame.is_empty() or not columns:
        return
    long = (
        frame.select("month", "is_final", *columns)
        .unpivot(index=["month", "is_final"], on=list(columns), variable_name="metric", value_name="value")
        .with_columns(
            pl.col("metric").replace_strict({c: metric_name(c) for c in columns}),
            pl.when(pl.col("is_final"))
            .then(pl.lit(t("final")))
            .otherwise(pl.lit(t("provisional")))
            .alias("status"),
        )
        .to_pandas()
    )
    rates = all(METRICS.get(c) and METRICS[c].kind in ("rate", "points") for c in columns)
    axis = alt.Axis(format="%" if rates else ",.0f", title=None)
    x = alt.X("yearmonth(month):T", title=t("month"), axis=alt.Axis(format="%Y-%m"))
    color = alt.Color("metric:N", title=None, sort=[metric_name(c) for c in columns])
    tooltip = [
        alt.Tooltip("yearmonth(month):T", title=t("month"), format="%Y-%m"),
        alt.Tooltip("metric:N", title=t("metric")),
        alt.Tooltip("value:Q", title=t("value"), format=".1%" if rates else ",.0f"),
        alt.Tooltip("status:N", title=t("status")),
    ]
    base = alt.Chart(long)
    if kind == "bar":
        chart = base.mark_bar(opacity=0.85).encode(
            x=x, y=alt.Y("value:Q", axis=axis, stack=True), color=color, tooltip=tooltip,
            opacity=alt.condition("datum.is_final", alt.value(0.9), alt.value(0.45)),
        )  # fmt: skip
    else:
        line = base.mark_line().encode(x=x, y=alt.Y("value:Q", axis=axis), color=color)
        points = base.mark_point(size=70, strokeWidth=2).encode(
            x=x, y="value:Q", color=color, tooltip=tooltip,
            fill=alt.condition("datum.is_final", alt.Color("metric:N", legend=None), alt.value("white")),
        )  # fmt: skip
        chart = line + points
    st.altair_chart(chart.properties(height=280), width="stretch")


def bars(frame: pl.DataFrame, category: str, value: str, category_title: str) -> None:
    """Horizontal bars of one metric by category, largest first (rates as percentages)."""
    shown = frame.select(pl.col(category).alias("name"), pl.col(value).alias("value")).drop_nulls()
    if shown.is_empty():
        return
    rate = METRICS.get(value) is not None and METRICS[value].kind in ("rate", "points")
    number = ".1%" if rate else ",.0f"
    chart = (
        alt.Chart(shown.to_pandas())
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort="-x", title=category_title),
            x=alt.X("value:Q", title=metric_name(value), axis=alt.Axis(format="%" if rate else ",.0f")),
            tooltip=[
                alt.Tooltip("name:N", title=category_title),
                alt.Tooltip("value:Q", title=metric_name(value), format=number),
            ],
        )
        .properties(height=min(60 + 26 * shown.height, 640))
    )
    st.altair_chart(chart, width="stretch")


def comparison(rows: list[tuple[str, dict | None]], columns: tuple[str, ...]) -> None:
    """The member's month against its region and the nation, metric by metric."""
    table = {t("metric"): [metric_name(c) for c in columns]}
    for name, row in rows:
        table[name] = [fmt(c, row.get(c) if row else None) for c in columns]
    st.dataframe(pl.DataFrame(table), hide_index=True)


def _month_row(spec: MonthlyKpis, member: Member, month: dt.date, columns: tuple[str, ...]) -> dict | None:
    sql, params = member_rows_sql(spec, member, columns)
    rows = data.query(sql, (month, month, *params))
    return rows.row(0, named=True) if rows.height else None


def render_monthly(spec: MonthlyKpis, title_key: str) -> None:
    """A whole monthly KPI page: title, month and member pickers, then its sections."""
    if not page_header(title_key, spec.table):
        return
    picked = month_picker(spec.table)
    if picked is None:
        return
    member, dealer_names = member_picker(spec.table)
    render_sections(spec, picked[0], member, dealer_names)


def render_sections(
    spec: MonthlyKpis,
    month: dt.date,
    member: Member,
    dealer_names: dict[str, str],
    picker_table: str | None = None,
) -> None:
    """Cards of the month, comparison with the parents, 12-month trends, members, breakdowns.

    ``picker_table``: the table whose member picker a click in the members table drives (when a page
    shows two tables under one picker)."""
    columns = tuple(dict.fromkeys((*spec.cards, *spec.trend_rates, *spec.trend_counts, *spec.members)))
    sql, params = member_rows_sql(spec, member, columns)
    trend = data.query(sql, (add_months(month, 1 - TREND_MONTHS), month, *params))
    current = trend.filter(pl.col("month") == month)
    previous = trend.filter(pl.col("month") == add_months(month, -1))
    row = current.row(0, named=True) if current.height else None
    st.subheader(f"{member_name(member, dealer_names)} · {month:%Y-%m}")
    if row is None:
        st.info(t("no_figures"))
        return
    cards(row, previous.row(0, named=True) if previous.height else None, spec.cards)

    parents = member.parents()
    if parents:
        rates = (
            tuple(c for c in spec.members if METRICS.get(c) and METRICS[c].kind != "count") or spec.members
        )
        comparison(
            [(member_name(member, dealer_names), row)]
            + [(member_name(p, dealer_names), _month_row(spec, p, month, rates)) for p in parents],
            rates,
        )

    st.subheader(t("trend_12m"))
    left, right = st.columns(2)
    with left:
        trend_chart(trend, spec.trend_rates)
    with right:
        trend_chart(trend, spec.trend_counts, kind="bar")
    st.caption(t("hollow_is_provisional"))

    found = children_sql(spec, member, spec.members)
    if found is not None:
        children_sql_text, child_params = found
        render_members(spec, data.query(children_sql_text, (month, *child_params)), picker_table)

    for column, names in spec.breakdowns.items():
        sql, params = breakdown_sql(spec, member, column, spec.members)
        split = data.query(sql, (month, *params))
        if split.is_empty():
            continue
        st.subheader(t("by_breakdown").format(what=t(f"breakdown_{column}")))
        split = L.label_column(split, column, names)
        bars(split, column, spec.members[0], t(f"breakdown_{column}"))
        st.dataframe(
            split,
            hide_index=True,
            column_config={c: metric_name(c) for c in spec.members} | {column: t(f"breakdown_{column}")},
        )


def render_members(spec: MonthlyKpis, children: pl.DataFrame, picker_table: str | None = None) -> None:
    """The members one level down, ranked; clicking a region or dealer drills into it."""
    if children.is_empty():
        return
    child_level = children["level"][0]
    st.subheader(t(f"members_{child_level}"))
    if child_level == "consultant":
        names = [
            f"{key} · {L.label(L.STAFF_ROLE, role)}"
            for key, role in zip(children["level_key"], children["consultant_role"], strict=True)
        ]
    elif child_level == "dealer":
        names = [
            dealer_name(c, n) for c, n in zip(children["dealer_code"], children["dealer_name"], strict=True)
        ]
    else:
        names = [region_name(r) for r in children["level_key"]]
    shown = pl.DataFrame({t("member"): names}).hstack(children.select(spec.members))
    bars(shown, t("member"), spec.ranking, t("member"))
    key = f"kpi_children_{spec.table}"
    st.session_state[key] = list(
        zip(children["level"], children["region"], children["dealer_code"], strict=True)
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(
                metric_name(c), format="percent" if METRICS[c].kind == "rate" else "localized"
            )
            for c in spec.members
        },
        key=f"{key}_table",
        on_select="ignore"
        if child_level == "consultant"
        else (lambda: drill_into(key, picker_table or spec.table)),
        selection_mode="single-row",
    )
    if child_level != "consultant":
        st.caption(t("click_to_drill"))
