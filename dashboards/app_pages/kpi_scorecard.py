"""Dealer scorecard and rankings: each dealer's weighted score against its region and the nation,
the dealers ranked, and service advisors / WeCom consultants ranked on their own figures."""

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.i18n import t
from dashboards.kpi_ui import (
    ALL_DEALERS,
    NATION,
    bars,
    cards,
    comparison,
    fmt,
    metric_name,
    month_label,
    page_header,
    trend_chart,
)
from dashboards.kpis import SCORECARD_COMPONENTS, STAFF_METRICS, add_months
from dashboards.labels import STAFF_ROLE, label
from dashboards.signin import ACCOUNT_KEY

TABLE, STAFF = "kpi_dealer_scorecard", "kpi_staff_rankings"
account = st.session_state[ACCOUNT_KEY]

if page_header("page_kpi_scorecard", TABLE):
    months = data.query(
        f"select month, bool_and(is_final) as is_final from {TABLE} where period_grain = 'month' group by 1 "
        "order by 1 desc"
    )
    finals = dict(zip(months["month"], months["is_final"], strict=True))
    month = st.selectbox(
        t("month"),
        months["month"].to_list(),
        format_func=lambda m: month_label(m, finals[m]),
        key="kpi_month_scorecard",
    )
    regions = data.query(f"select distinct region from {TABLE} where region is not null order by 1")[
        "region"
    ].to_list()
    left, right = st.columns(2)
    default_region = 1 if account.role in ("dealer_manager", "region_manager") and regions else 0
    region = left.selectbox(
        t("region"),
        [NATION, *regions],
        index=default_region,
        format_func=lambda r: t("scope_all") if r == NATION else r,
        key="scorecard_region",
    )
    in_scope = "true" if region == NATION else "region = ?"
    scope_params = () if region == NATION else (region,)
    dealers = data.query(
        f"select distinct dealer_code, dealer_name from {TABLE} where {in_scope} order by 1", scope_params
    )
    names = dict(zip(dealers["dealer_code"], dealers["dealer_name"], strict=True))
    own = account.dealer_code if account.role == "dealer_manager" and account.dealer_code in names else None
    options = [ALL_DEALERS, *names]
    dealer = right.selectbox(
        t("dealer_name"),
        options,
        index=options.index(own) if own else 0,
        format_func=lambda c: t("all_dealers") if c == ALL_DEALERS else f"{c} {names.get(c) or ''}",
        key="scorecard_dealer",
    )

    scorecard_tab, staff_tab = st.tabs([t("scorecard_tab"), t("staff_tab")])
    with scorecard_tab:
        if dealer == ALL_DEALERS and month is not None:
            ranked = data.query(
                f"""
                select dealer_code || ' ' || coalesce(dealer_name, '') as name, region, score,
                       score_vs_region, score_vs_nation, rank_in_region, dealers_in_region,
                       rank_in_nation, dealers_in_nation, components_scored, is_final
                from {TABLE} where period_grain = 'month' and month = ? and {in_scope}
                order by score desc nulls last, name
                """,
                (month, *scope_params),
            )
            st.subheader(t("dealer_ranking"))
            bars(ranked, "name", "score", t("dealer_name"))
            st.dataframe(
                ranked.with_columns(
                    (
                        pl.col("rank_in_region").cast(pl.Utf8)
                        + " / "
                        + pl.col("dealers_in_region").cast(pl.Utf8)
                    ).alias("rank_in_region"),
                    (
                        pl.col("rank_in_nation").cast(pl.Utf8)
                        + " / "
                        + pl.col("dealers_in_nation").cast(pl.Utf8)
                    ).alias("rank_in_nation"),
                    pl.when(pl.col("is_final"))
                    .then(pl.lit(t("final")))
                    .otherwise(pl.lit(t("provisional")))
                    .alias("is_final"),
                ).drop("dealers_in_region", "dealers_in_nation"),
                hide_index=True,
                column_config={
                    "name": t("dealer_name"),
                    "region": t("region"),
                    "is_final": t("status"),
                    **{
                        c: metric_name(c)
                        for c in (
                            "score",
                            "score_vs_region",
                            "score_vs_nation",
                            "rank_in_region",
                            "rank_in_nation",
                            "components_scored",
                        )
                    },
                },
            )
        elif month is not None:
            trend = data.query(
                f"""
                select month, is_final, region, score, region_score, nation_score,
                       rank_in_region, dealers_in_region, rank_in_nation, dealers_in_nation,
                       score_vs_region, score_vs_nation,
                       {", ".join(f"{c}, region_{c}, nation_{c}" for c in SCORECARD_COMPONENTS)}
                from {TABLE} where period_grain = 'month' and dealer_code = ? and month between ? and ?
                order by month
                """,
                (dealer, add_months(month, -11), month),
            )
            now = trend.filter(pl.col("month") == month)
            if now.is_empty():
                st.info(t("no_figures"))
            else:
                row = now.row(0, named=True)
                st.subheader(f"{dealer} {names.get(dealer) or ''} · {month:%Y-%m}")
                cards(row, None, ("score", "score_vs_region", "score_vs_nation"))
                st.caption(
                    t("rank_line").format(
                        region_rank=row["rank_in_region"],
                        region_size=row["dealers_in_region"],
                        nation_rank=row["rank_in_nation"],
                        nation_size=row["dealers_in_nation"],
                    )
                )
                comparison(
                    [
                        (
                            f"{dealer} {names.get(dealer) or ''}".strip(),
                            {c: row[c] for c in SCORECARD_COMPONENTS},
                        ),
                        (row["region"] or t("region"), {c: row[f"region_{c}"] for c in SCORECARD_COMPONENTS}),
                        (t("scope_all"), {c: row[f"nation_{c}"] for c in SCORECARD_COMPONENTS}),
                    ],
                    SCORECARD_COMPONENTS,
                )
                st.subheader(t("trend_12m"))
                trend_chart(trend, ("score", "region_score", "nation_score"))
                st.caption(t("hollow_is_provisional"))

    with staff_tab:
        staff_type = st.selectbox(
            t("staff_type"), list(STAFF_METRICS), format_func=lambda s: label(STAFF_ROLE, s), key="staff_type"
        )
        metric = st.selectbox(
            t("metric"), STAFF_METRICS[staff_type], format_func=metric_name, key="staff_metric"
        )
        if data.has_table(STAFF) and month is not None:
            where = "dealer_code = ?" if dealer != ALL_DEALERS else in_scope
            params = (dealer,) if dealer != ALL_DEALERS else scope_params
            ranked = data.query(
                f"""
                select staff_key, staff_name_masked,
                       dealer_code || ' ' || coalesce(dealer_name, '') as dealer, value,
                       rank_in_dealer, rank_in_region, rank_in_nation, staff_in_nation, is_final
                from {STAFF}
                where period_grain = 'month' and month = ? and staff_type = ? and metric = ? and {where}
                order by rank_in_nation nulls last, staff_key limit 50
                """,
                (month, staff_type, metric, *params),
            )
            st.dataframe(
                ranked.with_columns(
                    pl.col("value").map_elements(lambda v: fmt(metric, v), return_dtype=pl.Utf8),
                    pl.when(pl.col("is_final"))
                    .then(pl.lit(t("final")))
                    .otherwise(pl.lit(t("provisional")))
                    .alias("is_final"),
                ),
                hide_index=True,
                column_config={
                    "staff_key": t("staff_key"),
                    "staff_name_masked": t("staff_name"),
                    "dealer": t("dealer_name"),
                    "value": metric_name(metric),
                    "rank_in_dealer": t("rank_in_dealer"),
                    "rank_in_region": metric_name("rank_in_region"),
                    "rank_in_nation": metric_name("rank_in_nation"),
                    "staff_in_nation": t("staff_in_nation"),
                    "is_final": t("status"),
                },
            )
