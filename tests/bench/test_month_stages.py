"""The bench's month covers what ``aftercare run --month`` materializes, each asset in one stage."""

from __future__ import annotations

import dagster as dg

from tests.bench.run import MONTH_STAGES, STAGES, StageResult, nights_before, phase_totals, summary_line


def test_every_asset_of_the_monthly_run_is_in_exactly_one_stage():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    job = {k for k in dg.AssetSelection.all().resolve(graph) if graph.get(k).is_materializable}
    staged: dict[dg.AssetKey, list[str]] = {}
    for stage in MONTH_STAGES:
        for key in dg.AssetSelection.from_string(STAGES[stage]).resolve(graph):
            staged.setdefault(key, []).append(stage)
    assert set(staged) == job
    assert {k: v for k, v in staged.items() if len(v) > 1} == {}


def test_month_totals_and_summary():
    def stage(name, phase, seconds, cpu, peak):
        return StageResult(name, seconds, peak, True, cpu_seconds=cpu, phase=phase, month="2026-11")

    results = [
        StageResult("generate", 4.0, 300, True),
        stage("ingest", "first_load", 20.0, 25.5, 700),
        stage("dbt", "first_load", 30.0, 40.0, 400),
        stage("ingest", "month", 8.0, 9.0, 500),
        stage("dbt", "month", 25.0, 30.0, 450),
    ]
    first = phase_totals(results, "first_load")
    assert (first["seconds"], first["cpu_seconds"], first["peak_mb"]) == (50.0, 65.5, 700)
    month = phase_totals(results, "month")
    assert (month["seconds"], month["cpu_seconds"], month["peak_mb"]) == (33.0, 39.0, 500)
    line = summary_line("S", 20_000, results)
    assert "first load 2026-11: 50 s wall, 66 s CPU, peak 700 MB (ingest 20 dbt 30)" in line
    assert "month 2026-11: 33 s wall, 39 s CPU, peak 500 MB (ingest 8 dbt 25)" in line


def test_the_nights_before_a_month_end_at_the_day_before_its_cut_off():
    # 2026-11's cut-off is 2026-10-31, the month-end run's own day; a leap February's last night
    assert nights_before("2026-11", 3) == ["2026-10-28", "2026-10-29", "2026-10-30"]
    assert nights_before("2028-03", 1) == ["2028-02-28"]
    assert nights_before("2026-11", 0) == []
