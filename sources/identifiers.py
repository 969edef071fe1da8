"""Person identifiers: normalization, validation, keyed hashing and masking.

The one implementation shared by ingestion (every export column that holds a mobile or an ID
number) and by OneID. Pure functions over single values; ``keyed_hash`` and friends are applied to
the distinct values of a column, never row by row, so they stay cheap at scale.

Rules (the shared spec's RULES.md, docs/identity.md): mobiles become 11 digits (``+86``/``0086``,
spaces, dashes and full-width digits removed); ID numbers become 18 upper-case characters,
15-digit numbers upgraded per GB 11643, and an ID number is usable only when its MOD 11-2 check passes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# ---------------------------------------------------------------------------- text folding

_NON_DIGIT = re.compile(r"\D")


def fold_width(value: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms (``１３８`` → ``138``)."""
    return unicodedata.normalize("NFKC", value)


# ---------------------------------------------------------------------------- mobiles

DEFAULT_PLACEHOLDER_MOBILES = frozenset({"13800138000", "13888888888", "11111111111"})
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class MobileStatus(StrEnum):
    VALID = "valid"
    PLACEHOLDER = "placeholder"  # a real-looking number nobody owns: never an identity
    INVALID = "invalid"
    MISSING = "missing"


def normalize_mobile(raw: str | None) -> str | None:
    """The 11-digit mainland mobile in ``raw``, or None when there is none.

    >>> normalize_mobile("+86 138-0013-8001")
    '13800138001'
    """
    if raw is None:
        return None
    text = fold_width(str(raw)).strip()
    if not text:
        return None
    digits = _NON_DIGIT.sub("", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    return digits if _MOBILE.match(digits) else None


_ASCENDING, _DESCENDING = "0123456789", "9876543210"


def is_placeholder_mobile(mobile: str, placeholders: Iterable[str] = DEFAULT_PLACEHOLDER_MOBILES) -> bool:
    """A number typed to fill a mandatory field: listed, or its last 8 digits repeated or sequential."""
    pool = placeholders if isinstance(placeholders, (set, frozenset)) else set(placeholders)
    if mobile in pool:
        return True
    tail = mobile[3:]
    if tail and tail == tail[0] * len(tail):
        return True
    # digits each one up (or down) from the one before: a run of "0123456789" (or of its reverse);
    # a substring test, not a set of steps per number (ingestion and the WeCom snapshot call this
    # for every mobile: ~2 s of a month's contacts pull at M went to the set)
    return len(tail) > 1 and (tail in _ASCENDING or tail in _DESCENDING)


def classify_mobile(
    raw: str | None, placeholders: Iterable[str] = DEFAULT_PLACEHOLDER_MOBILES
) -> tuple[str | None, MobileStatus]:
    """Normalized mobile and its status. A placeholder keeps its normalized value (for reports)."""
    if raw is None or not fold_width(str(raw)).strip():
        return None, MobileStatus.MISSING
    mobile = normalize_mobile(raw)
    if mobile is None:
        return None, MobileStatus.INVALID
    if is_placeholder_mobile(mobile, placeholders):
        return mobile, MobileStatus.PLACEHOLDER
    return mobile, MobileStatus.VALID


def mask_mobile(mobile: str | None) -> str | None:
    """``138****5678``: first 3 and last 4 characters kept, by position."""
    if not mobile:
        return None
    if len(mobile) <= 7:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]


# ---------------------------------------------------------------------------- ID numbers

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


class IdNumberStatus(StrEnum):
    VALID = "valid"
    BAD_CHECKSUM = "bad_checksum"  # well-formed but the check character is wrong: not an identifier
    INVALID = "invalid"  # not an ID number at all (length, characters, impossible birth date)
    MISSING = "missing"


@dataclass(frozen=True)
class IdNumber:
    """What an ID number says, with the number itself only in ``normalized``."""

    normalized: str | None  # 18 characters, upper-case X; None when invalid or missing
    status: IdNumberStatus
    birth_date: dt.date | None = None
    gender: str | None = None  # "M" / "F" from the 17th digit
    province_code: str | None = None  # first two digits (GB/T 2260)

    @property
    def usable(self) -> bool:
        return self.status is IdNumberStatus.VALID


def id_check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def upgrade_id15(id15: str) -> str:
    """A 15-digit (1989) number as 18 characters: insert the century ``19``, add the check."""
    body = id15[:6] + "19" + id15[6:]
    return body + id_check_char(body)


def parse_id_number(raw: str | None) -> IdNumber:
    """Normalize and validate a resident ID number.

    Full-width characters and a lower-case ``x`` are folded, a 15-digit number is upgraded; the
    examples live in ``tests/unit/test_identifiers.py`` (no ID-shaped text outside tests).
    """
    if raw is None:
        return IdNumber(None, IdNumberStatus.MISSING)
    text = fold_width(str(raw)).strip().replace(" ", "").replace("-", "").upper()
    if not text:
        return IdNumber(None, IdNumberStatus.MISSING)
    if _ID15.match(text):
        text = upgrade_id15(text)
    if not _ID18.match(text):
        return IdNumber(None, IdNumberStatus.INVALID)
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return IdNumber(None, IdNumberStatus.INVALID)
    if not (1800 <= birth.year <= 2100):
        return IdNumber(None, IdNumberStatus.INVALID)
    gender = "M" if int(text[16]) % 2 == 1 else "F"
    status = IdNumberStatus.VALID if id_check_char(text[:17]) == text[17] else IdNumberStatus.BAD_CHECKSUM
    # a number failing its checksum keeps its derived facts for reporting but is not an identifier
    return IdNumber(
        normalized=text if status is IdNumberStatus.VALID else None,
        status=status,
        birth_date=birth,
        gender=gender,
        province_code=text[:2],
    )


def mask_id_number(id_number: str | None) -> str | None:
    """First and last character kept, the rest starred, by position (an ``X`` is masked like a digit)."""
    if not id_number:
        return None
    if len(id_number) <= 2:
        return "*" * len(id_number)
    return id_number[0] + "*" * (len(id_number) - 2) + id_number[-1]


# ---------------------------------------------------------------------------- inside free text
#
# The rules above read a cell that *is* a mobile or an ID number. These find one written *inside*
# free text (a complaint's close reason, a remark, a quarantined raw row), in every form the
# exports use: ``+86``/``0086``/``86`` prefixes, spaces and dashes between digits, full-width
# digits, 15- and 18-digit ID numbers with a lower-case ``x``. The patterns are plain regular
# expressions that Python, polars (Rust ``regex``) and DuckDB (RE2) all run the same way, over
# text first passed through ``fold_in_place`` (full-width forms to ASCII, one character for one, so
# a match's positions are the original text's positions).
#
# A number glued to Latin letters or digits is not one (``RO13912345678`` is an order number, and
# digit runs inside hex HMACs or base64 ciphertexts must not count), nor is one glued to a decimal
# point after a digit (``0.13912345678`` is a rate, ``13912345678.50`` an amount).

_FOLD_FROM = "０１２３４５６７８９＋－‐‑‒–—―−\u3000\u00a0"
_FOLD_TO = "0123456789+--------  "
_FOLD = str.maketrans(_FOLD_FROM, _FOLD_TO)
FOLD_IN_PLACE_PAIRS = tuple(zip(_FOLD_FROM, _FOLD_TO, strict=True))


def fold_in_place(text: str) -> str:
    """Full-width digits, ``＋``, dashes and wide spaces to ASCII, one character for one."""
    return text.translate(_FOLD)


_SEP = "[ -]"
# country prefix (kept visible), then 1[3-9] and nine more digits, up to two separators between digits
MOBILE_IN_TEXT = rf"(?:(?:\+|00)?86{_SEP}*)?1[3-9](?:{_SEP}{{0,2}}[0-9]){{9}}"
_MONTH_DAY = "(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
ID_NUMBER18_IN_TEXT = rf"[1-9][0-9]{{5}}{_SEP}?(?:18|19|20)[0-9]{{2}}{_MONTH_DAY}{_SEP}?[0-9]{{3}}[0-9Xx]"
ID_NUMBER15_IN_TEXT = rf"[1-9][0-9]{{5}}{_SEP}?[0-9]{{2}}{_MONTH_DAY}{_SEP}?[0-9]{{3}}"
_ANY = f"(?:{MOBILE_IN_TEXT}|{ID_NUMBER18_IN_TEXT}|{ID_NUMBER15_IN_TEXT})"
# "does this (folded) text hold one?": the boundaries consume a character because RE2 and Rust
# have no look-around; use it for filters and counts (polars ``str.contains``, DuckDB
# ``regexp_matches``), never to locate matches (``sources.scrub`` does that with look-arounds)
PERSONAL_NUMBER_IN_TEXT = rf"(?:^|^\.|[^0-9A-Za-z.]|[^0-9]\.){_ANY}(?:$|\.$|[^0-9A-Za-z.]|\.[^0-9])"
# the same boundaries as look-arounds, for locating every match in Python
PERSONAL_NUMBER_SPANS = re.compile(
    rf"(?<![0-9A-Za-z])(?<![0-9]\.)(?:(?P<mobile>{MOBILE_IN_TEXT})|(?P<id_number>{ID_NUMBER18_IN_TEXT}"
    rf"|{ID_NUMBER15_IN_TEXT}))(?![0-9A-Za-z])(?!\.[0-9])"
)


# ---------------------------------------------------------------------------- names


def mask_name(name: str | None) -> str | None:
    """``张*``, ``欧阳**``: the first character kept, every other character starred."""
    if not name:
        return None
    name = name.strip()
    if not name:
        return None
    return name[0] + "*" * max(len(name) - 1, 1)


# ---------------------------------------------------------------------------- keyed hashing


def keyed_hash(value: str, key: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the normalized value (message UTF-8): the published key."""
    inner, outer = _hmac_states(key)
    step = inner.copy()
    step.update(value.encode("utf-8"))
    final = outer.copy()
    final.update(step.digest())
    return final.hexdigest()


@functools.lru_cache(maxsize=8)
def _hmac_states(key: bytes):
    """SHA-256 states after the inner and outer padded keys, copied per value, never updated.

    Why not ``hmac.digest`` (OpenSSL's one-shot HMAC): it lets go of the GIL for every value, and
    with other threads busy (the pulls parse JSON on four) each value then waits to get it back:
    1.6 ms a value against 2 us on an idle process. The WeCom contacts snapshot at M (372k remark
    mobiles) took 27.9 s alone instead of 21.0, and its month's pulls 58 s instead of 46
    (docs/benchmarks.md). ``hashlib`` keeps the GIL for messages this short."""
    inner_pad, outer_pad = _hmac_pads(key)
    return hashlib.sha256(inner_pad), hashlib.sha256(outer_pad)


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104's inner and outer padded keys for HMAC-SHA256."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def keyed_hash_sql(value_sql: str) -> str:
    """``keyed_hash`` as a DuckDB expression over ``value_sql`` (varchar), vectorized and parallel.

    The padded keys come in as query parameters ``$hmac_inner`` and ``$hmac_outer`` (hex), so the
    key never appears in the query text: pass ``keyed_hash_params(key)``. Equality with
    ``keyed_hash`` is tested.
    """
    return f"sha256(unhex($hmac_outer) || unhex(sha256(unhex($hmac_inner) || encode({value_sql}))))"


def keyed_hash_params(key: bytes) -> dict[str, str]:
    inner, outer = _hmac_pads(key)
    return {"hmac_inner": inner.hex(), "hmac_outer": outer.hex()}


def keyed_hashes(values: Iterable[str], key: bytes) -> list[str]:
    """``keyed_hash`` of many values (the same hex strings) without a call and a cache lookup each.

    HMAC (RFC 2104) is ``H((K ^ opad) || H((K ^ ipad) || m))`` with ``K`` the key zero-padded to the
    64-byte SHA-256 block (hashed first when longer): the two padded-key states are copied per value.
    """
    inner, outer = _hmac_states(key)
    hashes = []
    for value in values:
        step = inner.copy()
        step.update(value.encode("utf-8"))
        final = outer.copy()
        final.update(step.digest())
        hashes.append(final.hexdigest())
    return hashes
