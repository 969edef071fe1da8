"""Which pages each role gets, in which sidebar section.

A page a role does not get is not registered with ``st.navigation`` for that session, so its URL
falls back to the default page. This only shapes the menu: what a page can read is decided by the
data layer (``dashboards/data.py``), whatever the page.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_ROLES = ("admin", "analyst", "region_manager", "dealer_manager")
NETWORK_ROLES = ("admin", "analyst")
MANAGERS = ("region_manager", "dealer_manager")


@dataclass(frozen=True)
class PageSpec:
    script: str  # relative to dashboards/
    title_key: str  # i18n key
    icon: str
    section_key: str
    roles: tuple[str, ...]


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "app_pages/workspace.py", "page_workspace", ":material/assignment:", "section_workspace", MANAGERS
    ),
    PageSpec(
        "app_pages/kpi_reminders.py",
        "page_kpi_reminders",
        ":material/notifications:",
        "section_kpi",
        ALL_ROLES,
    ),
    PageSpec(
        "app_pages/kpi_bookings.py",
        "page_kpi_bookings",
        ":material/event_available:",
        "section_kpi",
        ALL_ROLES,
    ),
    PageSpec(
        "app_pages/kpi_campaigns.py", "page_kpi_campaigns", ":material/campaign:", "section_kpi", ALL_ROLES
    ),
    PageSpec(
        "app_pages/kpi_complaints.py",
        "page_kpi_complaints",
        ":material/support_agent:",
        "section_kpi",
        ALL_ROLES,
    ),
    PageSpec(
        "app_pages/kpi_communication.py",
        "page_kpi_communication",
        ":material/forum:",
        "section_kpi",
        ALL_ROLES,
    ),
    PageSpec(
        "app_pages/kpi_customers.py", "page_kpi_customers", ":material/groups:", "section_kpi", ALL_ROLES
    ),
    PageSpec(
        "app_pages/kpi_scorecard.py", "page_kpi_scorecard", ":material/leaderboard:", "section_kpi", ALL_ROLES
    ),
    PageSpec("app_pages/kpi_alerts.py", "page_kpi_alerts", ":material/warning:", "section_kpi", ALL_ROLES),
    PageSpec("app_pages/overview.py", "page_overview", ":material/insights:", "section_data", ALL_ROLES),
    PageSpec(
        "app_pages/customers.py", "page_customers", ":material/person_search:", "section_data", ALL_ROLES
    ),
    PageSpec("app_pages/identity.py", "page_identity", ":material/hub:", "section_data", NETWORK_ROLES),
    PageSpec(
        "app_pages/data_quality.py", "page_quality", ":material/fact_check:", "section_data", NETWORK_ROLES
    ),
    PageSpec(
        "app_pages/admin.py", "page_admin", ":material/admin_panel_settings:", "section_admin", ("admin",)
    ),
)


def pages_for(role: str) -> list[PageSpec]:
    """The pages of a role, in menu order."""
    return [page for page in PAGES if role in page.roles]


def home_for(role: str) -> str:
    """The page a role lands on: the managers' workspace, the network overview for the others."""
    return "app_pages/workspace.py" if role in MANAGERS else "app_pages/overview.py"
