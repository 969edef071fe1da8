"""The free-text scrubber: every written form of a mobile or ID number masked by position, nothing else
touched, and the same rule in Python, polars and DuckDB (the gate's scan)."""

import random

import duckdb
import polars as pl
import pytest

from sources.scrub import (
    holds_personal_number,
    may_hold_personal_number,
    scrub_column,
    scrub_text,
    sql_holds_personal_number,
)


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("回访 +86 139-1234-5678 张先生", "回访 +86 139-****-5678 张先生"),
        ("8613912345678", "86139****5678"),
        ("0086 13912345678", "0086 139****5678"),
        ("0086-139-1234-5678", "0086-139-****-5678"),
        ("１３９１２３４５６７８", "１３９****５６７８"),
        ("１３９－１２３４－５６７８", "１３９－****－５６７８"),
        ("电话139 1234 5678。", "电话139 **** 5678。"),
        ("TEL:13912345678", "TEL:139****5678"),
        ("call 13912345678.", "call 139****5678."),
        ("a,13912345678,13812345678", "a,139****5678,138****5678"),
        ("13912345678 13812345678", "139****5678 138****5678"),
        ("证件 11010519491231002X", "证件 1****************X"),
        ("证件11010519491231002x号", "证件1****************x号"),
        ("身份证110105 19491231 002X", "身份证1***** ******** ***X"),
        ("老证 110105491231002 已换", "老证 1*************2 已换"),
        ('{"备注":"13912345678"}', '{"备注":"139****5678"}'),
    ],
)
def test_every_written_form_is_masked_by_position(text, scrubbed):
    assert scrub_text(text) == scrubbed
    assert len(scrub_text(text)) == len(text)
    assert holds_personal_number(text) and not holds_personal_number(scrubbed)


@pytest.mark.parametrize(
    "text",
    [
        "RO13912345678",  # an order number: digits glued to letters
        "hmac:ab13912345678cd",  # digits inside a hash
        "0.13912345678",  # a rate
        "13912345678.50",  # an amount
        "2026-11-03 14:05:00",
        "LFV2A21K5G3000004",
        "OID000000012345",
        "1391234567",  # ten digits
        "23912345678",  # not a mobile prefix
        "110105194913310021",  # month 13: not an ID number
        "3487542469355618313",  # a 19-digit message id
        "",
    ],
)
def test_what_is_not_a_personal_number_is_left_alone(text):
    assert scrub_text(text) == text
    assert not holds_personal_number(text)


def test_scrubbing_twice_changes_nothing_more():
    text = "客户 +86 139 1234 5678，证件 11010519491231002X"
    assert scrub_text(scrub_text(text)) == scrub_text(text)


def test_python_polars_and_duckdb_agree_on_what_holds_a_personal_number():
    rng = random.Random(14)
    glue = ["", " ", "-", "－", ".", ",", ":", "X", "x", "a", "号", "+86", "0086", "86"]

    def number() -> str:  # digit runs of mobile and ID-number lengths, with stray separators
        digits = rng.choice(["1", "13", "139", "11010519", "1101054912"]) + "".join(
            rng.choice("0123456789１") for _ in range(rng.randint(5, 12))
        )
        return "".join(d + (rng.choice([" ", "-"]) if rng.random() < 0.08 else "") for d in digits)

    texts = ["".join(rng.choice(glue) + number() for _ in range(rng.randint(1, 3))) + rng.choice(glue)
             for _ in range(3000)]  # fmt: skip
    # plant the numbers the corpus would otherwise rarely produce
    texts += [f"{p}{n}{s}" for p in ("", "号", "a", "0.", "+86 ") for n in ("13912345678", "110105491231002")
              for s in ("", ".", ".5", "x", " ")]  # fmt: skip
    python = [holds_personal_number(t) for t in texts]
    polars = pl.DataFrame({"t": texts}).select(may_hold_personal_number(pl.col("t"))).to_series().to_list()
    con = duckdb.connect()
    con.execute("create table t as select unnest(?) as t, generate_subscripts(?, 1) as i", [texts, texts])
    duck = [
        v for (v,) in con.execute(f"select {sql_holds_personal_number('t')} from t order by i").fetchall()
    ]
    assert 300 < sum(python) < len(texts) - 300  # the comparison covers both outcomes
    assert python == polars == duck


def test_a_column_is_scrubbed_on_its_distinct_values_only_where_needed():
    frame = pl.DataFrame(
        {"close_reason": ["已解决", "客户电话 13912345678", None, "已解决"], "n": [1, 2, 3, 4]}
    )
    out = scrub_column(frame, "close_reason")
    assert out.get_column("close_reason").to_list() == ["已解决", "客户电话 139****5678", None, "已解决"]
    assert out.get_column("n").to_list() == [1, 2, 3, 4]
