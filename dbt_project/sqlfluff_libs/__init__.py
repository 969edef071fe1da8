"""What dbt gives a model's Jinja that sqlfluff's plain Jinja templater lacks, for `make lint` only.

sqlfluff lints the models with its jinja templater (fast, no warehouse, no dbt parse). Its
``apply_dbt_builtins`` covers ref/source/var/config/is_incremental, not dbt's cross-database
macros (``dbt.dateadd`` ...), ``adapter.dispatch``, nor the ``modules`` namespace the macros use;
this package adds them, rendering DuckDB SQL of the same shape as dbt-duckdb's so the linted SQL
parses, and ``var`` with the project's defaults (sqlfluff's own returns a placeholder the date
macros cannot read). Every name defined here is a Jinja variable while linting (``library_path``
in ``.sqlfluff``). dbt itself never reads this file.
"""

import datetime as _datetime
from pathlib import Path as _Path
from types import SimpleNamespace

import yaml as _yaml

_PROJECT_VARS = _yaml.safe_load((_Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text())[
    "vars"
]


def var(name, default=None):
    return _PROJECT_VARS.get(name, default)


def _date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def _dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def _last_day(date, datepart):
    return f"cast({_dateadd(datepart, 1, _date_trunc(datepart, date))} - interval 1 day as date)"


def _concat(fields):
    return "(" + " || ".join(str(f) for f in fields) + ")"


dbt = SimpleNamespace(
    date_trunc=_date_trunc,
    dateadd=_dateadd,
    datediff=lambda first, second, datepart: f"date_diff('{datepart}', {first}, {second})",
    last_day=_last_day,
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=_concat,
    position=lambda substring, string: f"position({substring} in {string})",
    replace=lambda field, old, new: f"replace({field}, {old}, {new})",
    bool_or=lambda expression: f"bool_or({expression})",
    type_string=lambda: "varchar",
    type_int=lambda: "integer",
    type_bigint=lambda: "bigint",
    type_boolean=lambda: "boolean",
    type_timestamp=lambda: "timestamp",
)


def _keys(keys):
    return keys[0] if len(keys) == 1 else "[" + ", ".join(keys) + "]"


# dispatched macros that are not a function call in SQL (macros/portable.sql), rendered as their
# duckdb__ versions say
_CLAUSES = {
    "star_except": lambda columns: f"* exclude ({', '.join(columns)})",
    "ownership_join": lambda relation, alias, vin, day: (
        f"asof left join {relation} as {alias} on {vin} = {alias}.vin and {day} >= {alias}.owned_from"
    ),
    "string_agg_ordered": lambda expression, separator, order_by, distinct=False: (
        f"string_agg({'distinct ' if distinct else ''}{expression}, {separator} order by {order_by})"
    ),
    "arg_max": lambda value, keys: f"arg_max({value}, {_keys(keys)})",
    "arg_max_null": lambda value, keys: f"arg_max_null({value}, {_keys(keys)})",
    "arg_min": lambda value, keys: f"arg_min({value}, {_keys(keys)})",
}


def _dispatch(macro_name, macro_namespace=None):
    """A dispatched macro renders as a call of a function of its name (enough for the linter),
    or as its DuckDB clause when it is not a call."""
    if macro_name in _CLAUSES:
        return _CLAUSES[macro_name]
    return lambda *args: f"{macro_name}({', '.join(str(a) for a in args)})"


adapter = SimpleNamespace(dispatch=_dispatch)
# the models are linted as DuckDB renders them (engine-dependent configs read target.type)
target = SimpleNamespace(type="duckdb", name="local", schema="main")
modules = SimpleNamespace(datetime=_datetime)
