"""The demo's month plan and what it prints (a line per month, the last month per type)."""

from __future__ import annotations

from pathlib import Path

from pipelines.demo import last_month_summary, month_line, months_to_run
from pipelines.progress import RunSummary, month_tasks, stage_line
from pipelines.runner import MonthlyRunResult
from tests.exports.story import story_rows, write_serving


def test_a_year_of_runs_ends_with_the_month_after_the_data():
    assert months_to_run("2026-10", 12) == [
        "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]  # fmt: skip


def test_the_months_tasks_per_type_new_and_carried(tmp_path):
    serving = write_serving(tmp_path / "serving.duckdb", story_rows())
    # 2026-11: a maintenance (new), an insurance (carried), a warranty (new, closed), a birthday (new)
    assert month_tasks(serving, "2026-11") == [
        ("maintenance", 1, 0),
        ("warranty", 1, 0),
        ("insurance", 0, 1),
        ("birthday", 1, 0),
    ]
    assert month_tasks(serving, "2026-12") == []
    assert month_tasks(tmp_path / "none.duckdb", "2026-11") == []


def story_summary(tmp_path: Path) -> RunSummary:
    summary = RunSummary(files_ingested=3, rows_landed=1234, rows_quarantined=5, oneids=987)
    summary.record_materialization("dbt", ("marts", "reminders"), {})
    summary.record_check("dbt", True)
    summary.record_check("dbt", False, warning=True)  # a dbt test of severity warn that found rows
    summary.record_check("dbt", False)
    summary.record_materialization(
        "publish", ("serving", "database"), {"tables": {"a": 1, "b": 2}, "path": str(tmp_path / "s.duckdb")}
    )
    summary.record_materialization(
        "exports",
        ("exports", "dealer_files"),
        {"dealers": 3, "folder": str(tmp_path / "exports" / "2026-11")},
    )
    summary.tasks = month_tasks(write_serving(tmp_path / "serving.duckdb", story_rows()), "2026-11")
    return summary


def test_one_line_per_stage(tmp_path):
    summary = story_summary(tmp_path)
    assert [
        stage_line(stage, summary) for stage in ("ingestion", "identity", "dbt", "publish", "wechat")
    ] == [
        "  ingestion  3 new files, 1,234 rows landed, 5 quarantined",
        "  identity   987 OneIDs",
        "  dbt        1 models built, 1 tests passed, 1 warned, 1 failed",
        f"  publish    quality gate passed; 2 tables published to {tmp_path / 's.duckdb'}",
        None,  # the WeChat syncs speak in the warnings when a feed is unavailable
    ]


def test_one_line_per_month_and_the_summary(tmp_path):
    summary = story_summary(tmp_path)
    result = MonthlyRunResult("2026-11", True, "r1", 151.4, summary=summary, warnings=["a", "b"])
    assert month_line("2026-11", result) == (
        "[demo] 2026-11 (as of the end of 2026-10): ok in 151s; 1,234 rows landed (5 quarantined), "
        "987 OneIDs, gate passed, 4 tasks (3 new, 1 carried over); files for 3 dealers; 2 warning(s) in "
        "the log"
    )
    text = last_month_summary("2026-11", summary, tmp_path / "exports", tmp_path / "runs").splitlines()
    assert text[0] == "[demo] the list for 2026-11, per reminder type:"
    assert text[3].split() == ["warranty", "1", "0", "质保"]
    assert text[6].split() == ["total", "3", "1"]
    assert (
        text[7]
        == f"[demo] dealer files: {tmp_path / 'exports' / '2026-11'}/<dealer_code>/reminders.xlsx and *.csv "
        "(3 dealers)"
    )
    assert text[8] == f"[demo] run reports and full logs: {tmp_path / 'runs'}/<run_id>/ (run.log)"


def test_a_dbt_test_of_severity_warn_that_found_rows_is_counted_as_warned_not_failed():
    """The run's events as the console listens to them: dagster-dbt reports a dbt test as an asset
    check evaluation whose severity is the test's (``severity: warn`` -> WARN)."""
    from types import SimpleNamespace

    import dagster as dg

    from pipelines.progress import RunPlan, RunProgress

    key = dg.AssetKey(["marts", "reminders"])
    progress = RunProgress(RunPlan({tuple(key.path): "dbt"}, {"aftercare_dbt_monthly": "dbt"}))
    error, warn = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
    for passed, severity in ((True, error), (False, warn), (False, error), (True, warn)):
        evaluation = dg.AssetCheckEvaluation(
            asset_key=key, check_name="a_test", passed=passed, severity=severity
        )
        progress(
            SimpleNamespace(
                dagster_event=SimpleNamespace(
                    step_key="aftercare_dbt_monthly",
                    event_type_value="ASSET_CHECK_EVALUATION",
                    event_specific_data=evaluation,
                )
            )
        )
    summary = progress.summary
    assert (summary.tests_passed, summary.tests_warned, summary.tests_failed) == (2, 1, 1)
