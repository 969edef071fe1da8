"""Booking KPIs: scheduled, phone feedback, show rate (the scheduled month)."""

from dashboards.kpi_ui import render_monthly
from dashboards.kpis import BOOKINGS

render_monthly(BOOKINGS, "page_kpi_bookings")
