"""Paths and values written into SQL text: a quote in a folder's name stays part of the name."""

from __future__ import annotations

import duckdb
import pytest

from assets.identity.scratch import scratch_space
from sources.sql_text import quote_ident, quote_literal


@pytest.mark.parametrize("text", ["plain", "o'brien", "''", "a ' b '' c", "经销商's 数据", ""])
def test_a_quoted_literal_reads_back_as_the_same_text(text):
    assert duckdb.connect().execute(f"select {quote_literal(text)}").fetchall() == [(text,)]


def test_a_quoted_identifier_names_the_same_column():
    name = 'odd" name'
    described = duckdb.connect().execute(f"select 1 as {quote_ident(name)}").description
    assert described[0][0] == name


def test_the_identity_scratch_database_attaches_beside_a_warehouse_in_a_quoted_folder(tmp_path):
    folder = tmp_path / "dealer's data"
    folder.mkdir()
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con, scratch_space(con, "oneid_work") as work:
        assert work == "oneid_work"
        con.execute(f"create table {work}.t as select 42 as n")
        assert con.execute(f"select n from {work}.t").fetchall() == [(42,)]
    assert not (folder / "warehouse.duckdb.oneid_work").exists()  # removed afterwards
