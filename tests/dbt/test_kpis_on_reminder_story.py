"""The reminder KPIs on the real `reminders` mart: the month-to-month story of reminder_story.py,
built run after run, and kpi_reminders_monthly read against the mart's own rows.

The formulas themselves are checked by hand on test_kpis_on_fixture.py; here the KPIs must count
exactly what the mart lists, and a month must turn final with the return it only learns late
(V_NAT comes back on 2026-11-05, inside October's return grace, without anybody calling it).
"""

from __future__ import annotations

import pytest

from tests.dbt.conftest import query
from tests.dbt.reminder_story import MONTHS

# the mart's rows, counted the way docs/kpis.md defines each figure
EXPECTED = """
    select
        month, dealer_code, reminder_type,
        count(*), count(*) filter (where not is_carried_over), count(*) filter (where is_carried_over),
        count(*) filter (where tracked), count(*) filter (where reached), count(*) filter (where contacted),
        count(*) filter (where returned), count(*) filter (where returned and returned_same_dealer),
        count(*) filter (where returned and not coalesce(returned_same_dealer, false)),
        count(*) filter (where returned and not contacted), count(*) filter (where closed_reason is not null),
        count(*) filter (where carry_outcome = 'carried')
    from marts.reminders
    where month < date '{report_month}'
    group by all
"""
KPIS = """
    select
        month, dealer_code, reminder_type, due, due_new, due_carried, tracked, reached, contacted, returned,
        returned_same_dealer, returned_other_dealer, natural_returned, closed_by_manager,
        carried_to_next_month
    from marts.kpi_reminders_monthly
    where period_grain = 'month' and level = 'dealer' and reminder_type != 'all' and due > 0
"""


@pytest.fixture(scope="module")
def runs(reminder_story_runs):
    """The story's warehouse after the runs of 2026-11 and of 2026-12 (tests/dbt/conftest.py)."""
    return {month: reminder_story_runs.after[month] for month in ("2026-11", MONTHS[-1])}


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_the_kpis_count_exactly_what_the_mart_lists(runs, month):
    warehouse = runs[month]
    expected = query(warehouse, EXPECTED.format(report_month=f"{month}-01"))
    assert len(expected) >= 5
    assert query(warehouse, f"{KPIS} except {EXPECTED.format(report_month=f'{month}-01')}") == []
    assert query(warehouse, f"{EXPECTED.format(report_month=f'{month}-01')} except {KPIS}") == []
    # the month being prepared has a list but no KPIs yet
    assert query(
        warehouse, f"select count(*) from marts.kpi_reminders_monthly where period_start >= '{month}-01'"
    ) == [(0,)]


def test_october_turns_final_with_the_natural_return_it_learns_late(runs):
    october = "month = '2026-10-01' and level = 'nation' and reminder_type = 'all'"
    cols = "is_final, returned, returned_other_dealer, natural_returned"
    (before,) = query(runs["2026-11"], f"select {cols} from marts.kpi_reminders_monthly where {october}")
    (after,) = query(runs["2026-12"], f"select {cols} from marts.kpi_reminders_monthly where {october}")
    assert before[0] is False and after[0] is True
    # V_NAT: nobody called it, it came back at another dealer on 2026-11-05
    assert (after[1] - before[1], after[2] - before[2], after[3] - before[3]) == (1, 1, 1)


def test_the_nation_is_the_sum_of_the_dealers_on_the_real_lists(runs):
    warehouse = runs["2026-12"]
    assert (
        query(
            warehouse,
            "select period_grain, period_start, reminder_type, sum(due), sum(tracked), sum(returned), "
            "sum(natural_returned), sum(closed_by_manager) from marts.kpi_reminders_monthly where level = "
            "'dealer' "
            "group by all except select period_grain, period_start, reminder_type, due, tracked, returned, "
            "natural_returned, closed_by_manager from marts.kpi_reminders_monthly where level = 'nation'",
        )
        == []
    )
