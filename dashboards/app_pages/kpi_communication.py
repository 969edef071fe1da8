"""WeCom communication KPIs: new contacts, chats, reply rate; down to each consultant of a dealer."""

from dashboards.kpi_ui import render_monthly
from dashboards.kpis import COMMUNICATION

render_monthly(COMMUNICATION, "page_kpi_communication")
