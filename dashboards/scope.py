"""What each role may read of the published database, as SQL views (pure: no I/O here).

``data.py`` opens every query on an empty in-memory database that attaches ``serving.duckdb``
read-only under ``PUBLISHED`` and defines, for the signed-in account, one view per table it may see
(``scoped_views``). Pages name tables (``from reminders``) and get those views; there is no other
way to the data, so no page, widget, URL or query parameter can widen a scope:

* ``admin``/``analyst``: every table, every row;
* ``region_manager``: rows of the dealers of its region; ``dealer_manager``: rows of its dealer.
  KPI tables and alerts give them the nation's rows, their region's rows and their own dealers'
  rows (their KPIs against region and nation), and no other dealer's own campaign. A table without
  a rule below is not there at all for a manager (fail closed): a new table stays invisible to
  managers until someone decides how to scope it.

For every role the views drop HMAC columns (``*_hmac``) and ciphertext (``*_enc``): masked data
only. Ciphertext of mobiles exists in one view only, for the audited download of a dealer's list
(``reveal_mobiles``), and only on that dealer's own rows. In a manager's views every column naming
a dealer (``*dealer_code``) shows other dealers' codes as ``OTHER_DEALER``, so a customer who bought
elsewhere does not reveal where.
"""

from __future__ import annotations

from dataclasses import dataclass

from sources.sql_text import quote_ident, quote_literal

PUBLISHED = "published"
OTHER_DEALER = "OTHER_DEALER"

NETWORK_ROLES = frozenset({"admin", "analyst"})


@dataclass(frozen=True)
class Scope:
    """Who reads: a role and, for managers, the dealer or region it covers."""

    role: str
    dealer_code: str | None = None
    region: str | None = None

    def __post_init__(self):
        if self.role == "dealer_manager" and not self.dealer_code:
            raise ValueError("a dealer manager's scope needs its dealer")
        if self.role == "region_manager" and not self.region:
            raise ValueError("a region manager's scope needs its region")
        if self.role not in NETWORK_ROLES | {"dealer_manager", "region_manager"}:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_network(self) -> bool:
        return self.role in NETWORK_ROLES

    @classmethod
    def of(cls, account) -> Scope:
        if account.role == "dealer_manager":
            return cls(account.role, dealer_code=account.dealer_code)
        if account.role == "region_manager":
            return cls(account.role, region=account.region)
        return cls(account.role)


# How a manager's scope restricts a table's rows: the column holding the dealer the row belongs to.
DEALER_COLUMN = {
    "dealers": "dealer_code",
    "reminders": "dealer_code",
    "repair_orders": "dealer_code",
    "bookings": "dealer_code",
    "complaints": "dealer_code",
    "rescues": "dispatched_dealer_code",
    "consultant_relationships": "dealer_code",
    "vehicles": "servicing_dealer_code",
    "customer_360": "servicing_dealer_code",
}
# Tables without any dealer in them that every role may read whole.
UNSCOPED = frozenset({"publish_log"})
# Columns a manager never sees: they list things (campaign codes) that can name another dealer.
MANAGER_HIDDEN = frozenset({"campaign_codes"})
# Columns shown to a manager only on rows where their companion dealer column is in scope.
MANAGER_COMPANIONS = {"wecom_consultant_userid": "wecom_consultant_dealer_code"}
# The ciphertext a dealer's own list download may decrypt.
REVEALABLE = {"reminders": "owner_mobile_enc"}


def _in_list(column: str, values: tuple[str, ...]) -> str:
    if not values:
        return "false"
    return f"{quote_ident(column)} in ({', '.join(quote_literal(v) for v in values)})"


def is_kpi_table(table: str, columns: list[str]) -> bool:
    """A table with rows per level member (``docs/kpis.md``): the KPI tables and the alerts."""
    return (table.startswith("kpi_") or table == "alerts") and "level" in columns


def row_filter(
    table: str, columns: list[str], scope: Scope, dealers: tuple[str, ...], regions: tuple[str, ...]
):
    """The WHERE condition of a table's view for this scope, or None when the table is not visible."""
    if scope.is_network or table in UNSCOPED:
        return "true"
    if is_kpi_table(table, columns):
        parts = ["level = 'nation'"]
        if "region" in columns:
            parts.append(f"(level = 'region' and {_in_list('region', regions)})")
        if "dealer_code" in columns:
            # a dealer's rows and the rows below it (a WeCom consultant of that dealer)
            parts.append(f"(level not in ('nation', 'region') and {_in_list('dealer_code', dealers)})")
        condition = "(" + " or ".join(parts) + ")"
        if "campaign_dealer_code" in columns:
            # another dealer's own campaign is that dealer's business, even in the nation's rows
            own = _in_list("campaign_dealer_code", dealers)
            condition += f" and (campaign_dealer_code is null or {own})"
        return condition
    column = DEALER_COLUMN.get(table)
    if column is None and table.startswith("kpi_") and "dealer_code" in columns:
        column = "dealer_code"
    if column is None or column not in columns:
        return None
    return _in_list(column, dealers)


def column_expression(
    table: str, column: str, scope: Scope, dealers: tuple[str, ...], reveal_mobiles: bool
) -> str | None:
    """The select-list entry of one column in the view, or None when the column is left out."""
    name = quote_ident(column)
    if column.endswith("_hmac"):
        return None
    if column.endswith("_enc"):
        if reveal_mobiles and REVEALABLE.get(table) == column and scope.role == "dealer_manager":
            own = quote_literal(scope.dealer_code)
            return f"case when dealer_code = {own} then {name} end as {name}"
        return None
    if scope.is_network:
        return name
    if column in MANAGER_HIDDEN:
        return f"null as {name}"
    if column in MANAGER_COMPANIONS:
        return f"case when {_in_list(MANAGER_COMPANIONS[column], dealers)} then {name} end as {name}"
    if column.endswith("dealer_code"):
        return (
            f"case when {name} is null or {_in_list(column, dealers)} then {name} else '{OTHER_DEALER}' "
            f"end as {name}"
        )
    return name


def scoped_views(
    catalog: dict[str, list[str]],
    scope: Scope,
    dealers: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    reveal_mobiles: bool = False,
) -> dict[str, str]:
    """``CREATE VIEW`` statements, one per table the scope may read.

    ``catalog`` maps the published tables to their columns; ``dealers``/``regions`` are the dealer
    codes and regions the scope covers (resolved from the ``dealers`` table by the caller).
    """
    views = {}
    for table, columns in sorted(catalog.items()):
        condition = row_filter(table, columns, scope, dealers, regions)
        if condition is None:
            continue
        select = [
            expression
            for column in columns
            if (expression := column_expression(table, column, scope, dealers, reveal_mobiles)) is not None
        ]
        if not select:
            continue
        source = f"{PUBLISHED}.main.{quote_ident(table)}"
        views[table] = (
            f"create view main.{quote_ident(table)} as select {', '.join(select)} from {source} where "
            f"{condition}"
        )
    return views
