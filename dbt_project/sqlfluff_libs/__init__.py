"""What dbt gives a model's Jinja that sqlfluff's plain Jinja templater lacks, for `make lint` only.

sqlfluff lints the models with its jinja templater (fast, no warehouse, no dbt parse). Its
``apply_dbt_builtins`` covers ref/source/var/config/is_incremental, not dbt's cross-database
macros (``dbt.dateadd`` ...) nor the ``modules`` namespace the macros use; this package adds them,
rendering DuckDB SQL of the same shape as dbt-duckdb's so the linted SQL parses, and ``var`` with
the project's defaults (sqlfluff's own returns a placeholder the date macros cannot read). dbt
itself never reads this file.
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


def _dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def _concat(fields):
    return "(" + " || ".join(str(f) for f in fields) + ")"


dbt = SimpleNamespace(
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    dateadd=_dateadd,
    datediff=lambda first, second, datepart: f"date_diff('{datepart}', {first}, {second})",
    last_day=lambda date, datepart: f"last_day({date})",
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=_concat,
    position=lambda substring, string: f"position({substring} in {string})",
    replace=lambda field, old, new: f"replace({field}, {old}, {new})",
    bool_or=lambda expression: f"bool_or({expression})",
    type_string=lambda: "varchar",
    type_int=lambda: "integer",
    type_boolean=lambda: "boolean",
    type_timestamp=lambda: "timestamp",
)

modules = SimpleNamespace(datetime=_datetime)
