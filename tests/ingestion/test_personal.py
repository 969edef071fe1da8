"""The batch derivation of personal data equals the one-value functions, byte for byte.

Other stages join on the HMACs, and a rerun must write the same bytes, so the vectorized paths
(``PersonalData.mobiles`` / ``id_numbers``, ``keyed_hashes``) are checked against the reference
functions over every dirty form, unicode included.
"""

import datetime as dt
import random

import polars as pl
import pytest

from sources.exports.personal import PersonalData
from sources.identifiers import id_check_char, keyed_hash, keyed_hash_params, keyed_hash_sql, keyed_hashes
from sources.pii import PiiVault

KEY = b"personal-test-key"


def _id18(rng: random.Random, valid: bool = True) -> str:
    body = f"{rng.randint(11, 65)}{rng.randint(0, 9999):04d}{rng.randint(1800, 2100)}{rng.randint(0, 13):02d}"
    body += f"{rng.randint(0, 32):02d}{rng.randint(0, 999):03d}"
    check = id_check_char(body)
    if not valid:
        check = next(c for c in "0123456789X" if c != check)
    return body + check


def _wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


MOBILES = [
    None, "", "   ", "\u3000", "13912345670", " 13912345670 ", "+86 139-1234-5670", "0086 13912345670",
    "8613912345670", "86 139 1234 5670", "139 1234 5670", "１３９１２３４５６７０",
    "+８６１３９１２３４５６７０",
    "13800138000", "13888888888", "11111111111", "13912345678", "13987654321", "13900000000", "12345678901",
    "1391234567", "139123456701", "abc", "13912345670x", "电话13912345670", "13912345670\t",
    "\u00a013912345670",
    "139\u00a01234\u00a05670", "①③⑨12345670", "１３９1234５６７０", "+1 415 555 0100", "-", "0",
    "\ufeff13912345670",
    "13912345670 / 13812345671", "١٣٩١٢٣٤٥٦٧٠",
]  # fmt: skip
ID_NUMBERS = [
    None, "", "  ", "abc", "11010519491231002X", "11010519491231002x", " 11010519491231002x ",
    "110105194912310021", "110105491231002", "1101051949123100", "11010519490230002X", "11010500001231002X",
    "11010518001231002X", "11010521011231002X", "11010519491331002X", "110105-19491231-002X",
    "110105 19491231 002X", "１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１００２ｘ",
    "\u300011010519491231002X", "11010519491231002Y", "110105194912310020X", "11010519491231002X\t",
]  # fmt: skip


@pytest.fixture(scope="module")
def personal():
    return PersonalData(PiiVault(KEY))


def _rows(frame: pl.DataFrame) -> dict:
    return {row[0]: tuple(row[1:]) for row in frame.iter_rows()}


def test_batch_mobiles_equal_the_one_value_function(personal):
    rng = random.Random(7)
    generated = [f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}" for _ in range(3000)]
    generated += [_wide(m) for m in generated[:200]] + [
        f"+86 {m[:3]} {m[3:7]} {m[7:]}" for m in generated[:200]
    ]
    values = list(dict.fromkeys(MOBILES + generated))
    batch = _rows(personal.mobiles(pl.Series(values, dtype=pl.String)))
    assert len(batch) == len(values)
    for value in values:
        assert batch[value] == personal.mobile(value), value
    statuses = {row[1] for row in batch.values()}
    assert statuses == {"valid", "placeholder", "invalid", "missing"}


def test_batch_id_numbers_equal_the_one_value_function(personal):
    rng = random.Random(11)
    generated = [_id18(rng, valid=rng.random() < 0.8) for _ in range(3000)]
    generated += [g.lower() for g in generated[:100]] + [_wide(g) for g in generated[:100]]
    generated += [g[:6] + g[8:17] for g in generated[:100]]  # 15-digit forms
    values = list(dict.fromkeys(ID_NUMBERS + generated))
    batch = _rows(personal.id_numbers(pl.Series(values, dtype=pl.String)))
    assert len(batch) == len(values)
    for value in values:
        assert batch[value] == personal.id_number(value), value
    statuses = {row[1] for row in batch.values()}
    assert statuses == {"valid", "bad_checksum", "invalid", "missing"}
    assert any(isinstance(row[2], dt.date) for row in batch.values())


def test_batch_names_equal_the_one_value_function(personal):
    values = [None, "", " 张三 ", "欧阳娜娜", "Ｌｉ Ｌｅｉ", "王", "阿卜杜·热合曼"]
    batch = _rows(personal.names(pl.Series(values, dtype=pl.String)))
    for value in values:
        assert batch[value] == personal.name(value), value


@pytest.mark.parametrize("key", [KEY, b"", b"k" * 64, b"k" * 65, "密钥".encode()])
def test_keyed_hashes_equal_keyed_hash_including_unicode(key):
    values = ["13912345670", "", "张三", "Ｘ", "a\\x41b", "é", "e\u0301", "\U0001f600", "x" * 200]
    assert keyed_hashes(values, key) == [keyed_hash(v, key) for v in values]


@pytest.mark.parametrize("key", [KEY, b"", b"k" * 64, b"k" * 65, "密钥".encode()])
def test_keyed_hash_in_duckdb_equals_keyed_hash(key):
    import duckdb

    values = ["13912345670", "", "张三", "Ｘ", "a\\x41b", "é", "e\u0301", "\U0001f600", "x" * 200]
    rows = (
        duckdb.connect()
        .execute(
            f"select v, {keyed_hash_sql('v')} from unnest($values::varchar[]) as t(v)",
            {"values": values, **keyed_hash_params(key)},
        )
        .fetchall()
    )
    assert dict(rows) == {v: keyed_hash(v, key) for v in values}


def test_vault_batch_functions_match_and_decrypt_back():
    vault = PiiVault(KEY)
    values = ["13912345670", "张三", "欧阳 娜娜"]
    assert vault.hash_many(values) == [vault.hash(v) for v in values]
    tokens = vault.encrypt_many(values)
    assert tokens == [vault.encrypt(v) for v in values]
    assert [vault.decrypt(t) for t in tokens] == values


def test_columns_are_derived_once_per_distinct_value_per_run(personal, monkeypatch):
    fresh = PersonalData(PiiVault(KEY))
    calls: list[int] = []
    original = fresh.vault.encrypt_many

    def counting(values):
        calls.append(len(values))
        return original(values)

    monkeypatch.setattr(fresh.vault, "encrypt_many", counting)
    first = pl.DataFrame({"m": ["13912345670", "13912345670", "13812345671", None]})
    out = fresh.mobile_columns(first, "m")
    assert out.get_column("m_status").to_list() == ["valid", "valid", "valid", "missing"]
    assert calls == [2]
    second = pl.DataFrame({"m": ["13812345671", "13712345672"]})
    out = fresh.mobile_columns(second, "m")
    assert calls == [2, 1]  # only the new number is encrypted
    assert out.get_column("m_hmac").to_list() == [keyed_hash(m, KEY) for m in second.get_column("m")]


def test_clean_values_take_the_vectorized_path(monkeypatch):
    """Only the odd values are derived one by one (else the batch functions would be no faster)."""
    fresh = PersonalData(PiiVault(KEY))
    one_by_one: list[str | None] = []
    for name in ("mobile", "id_number"):
        original = getattr(fresh, name)
        monkeypatch.setattr(fresh, name, lambda v, original=original: one_by_one.append(v) or original(v))
    rng = random.Random(3)
    fresh.mobiles(
        pl.Series([f"139{rng.randint(0, 10**8 - 1):08d}" for _ in range(500)] + ["+86 139 1234 5670"])
    )
    fresh.id_numbers(pl.Series([_id18(rng) for _ in range(500)] + [None]))
    assert one_by_one == []
    fresh.mobiles(pl.Series(["电话13912345670", "abc"]))
    assert one_by_one == ["电话13912345670", "abc"]


def test_a_forgotten_kind_is_derived_again_with_the_same_values():
    fresh = PersonalData(PiiVault(KEY))
    frame = pl.DataFrame({"id": ["11010519491231002X", None]})
    first = fresh.id_number_columns(frame, "id")
    fresh.forget("id_number")
    assert "id_number" not in fresh._known
    assert fresh.id_number_columns(frame, "id").equals(first)
