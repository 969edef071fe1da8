"""The demo's month plan and what it prints (a line per month, the last month per type)."""

from __future__ import annotations

from pipelines.demo import last_month_summary, month_line, month_tasks, months_to_run
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


def test_one_line_per_month_and_the_summary(tmp_path):
    serving = write_serving(tmp_path / "serving.duckdb", story_rows())
    tasks = month_tasks(serving, "2026-11")
    assert month_line("2026-11", 151.4, tasks, 3) == (
        "[demo] 2026-11 (as of the end of 2026-10): ok in 151s; 4 tasks (3 new, 1 carried over); "
        "files for 3 dealers"
    )
    summary = last_month_summary("2026-11", tasks, tmp_path / "exports", 3).splitlines()
    assert summary[0] == "[demo] the list for 2026-11, per reminder type:"
    assert summary[3].split() == ["warranty", "1", "0", "质保"]
    assert summary[6].split() == ["total", "3", "1"]
    assert (
        summary[7]
        == f"[demo] dealer files: {tmp_path / 'exports' / '2026-11'}/<dealer_code>/reminders.xlsx and *.csv "
        "(3 dealers)"
    )
