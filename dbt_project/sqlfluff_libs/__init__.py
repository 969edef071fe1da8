"""What ``sqlfluff lint`` (jinja templater, no dbt parse) needs to render the models like dbt on DuckDB.

sqlfluff's dbt builtins cover ref/source/var/config, not dbt's cross-database macros (``dbt.*``),
``adapter.dispatch`` or ``modules``. This package stands in for them: every name defined here is a
Jinja variable while linting (``library_path`` in ``.sqlfluff``). ``var`` returns the defaults of
dbt_project.yml, so macros that compute from vars (the KPI calendar) render real SQL.
"""

from __future__ import annotations

import datetime as _datetime
from pathlib import Path as _Path
from types import SimpleNamespace as _Namespace

import yaml as _yaml

_VARS = _yaml.safe_load((_Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text())["vars"]


def var(name, default=None):
    return _VARS.get(name, default)


def _date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def _dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def _datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def _last_day(date, datepart):
    return f"cast({_dateadd(datepart, 1, _date_trunc(datepart, date))} - interval 1 day as date)"


def _concat(fields):
    return f"concat({', '.join(fields)})"


dbt = _Namespace(
    date_trunc=_date_trunc,
    dateadd=_dateadd,
    datediff=_datediff,
    last_day=_last_day,
    concat=_concat,
    type_string=lambda: "varchar",
    type_bigint=lambda: "bigint",
)


def _dispatch(macro_name, macro_namespace=None):
    """A dispatched macro renders as a call of a function of its name (enough for the linter)."""
    return lambda *args: f"{macro_name}({', '.join(str(a) for a in args)})"


adapter = _Namespace(dispatch=_dispatch)
modules = _Namespace(datetime=_datetime)
