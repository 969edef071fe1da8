"""The customer base at each month end: owners, WeChat reach, lapse, first service, retention."""

from dashboards.kpi_ui import render_monthly
from dashboards.kpis import CUSTOMERS

render_monthly(CUSTOMERS, "page_kpi_customers")
