"""Reminder KPIs: due, tracked, reached, returned; completion and return rates, natural return."""

from dashboards.kpi_ui import render_monthly
from dashboards.kpis import REMINDERS

render_monthly(REMINDERS, "page_kpi_reminders")
