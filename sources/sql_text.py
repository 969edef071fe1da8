"""Values written into SQL text where DuckDB takes no parameter (ATTACH, COPY ... TO, a view's body)."""

from __future__ import annotations


def quote_literal(value: object) -> str:
    """``value`` as an SQL string literal: a quote in a path (``/data/o'brien/``) is doubled, not the
    end of the string."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """``name`` as an SQL identifier, double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
