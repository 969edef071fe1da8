"""Vectorized makers of people's identifiers: mobiles, ID numbers, VINs, WeChat ids and names.

Everything here works on whole arrays (numpy / polars), never one value at a time, so a million
people take well under a second. The rules mirror ``sources.identifiers`` (which the tests use to
check the output): a generated mobile is never a placeholder, an ID number passes MOD 11-2, a VIN
carries its GB 16735 check digit.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per (seed, table/purpose), so tables do not shift each other."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def _as_strings(codes: np.ndarray) -> pl.Series:
    """An (n, L) uint8 matrix of ASCII codes as a polars string Series."""
    n, width = codes.shape
    raw = np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{width}").reshape(n)
    return pl.Series(raw.astype(f"U{width}"))


# ------------------------------------------------------------------------------------------ mobiles

# Common mainland prefixes (China Mobile / Unicom / Telecom), see reference/domain-research.md §3.2.
MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159]
    + [166, 173, 175, 176, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199],
    dtype=np.int64,
)


def _placeholder_tail(tails: np.ndarray) -> np.ndarray:
    """True where the 8-digit tail is one repeated digit or a +1/-1 run (sources.identifiers rule)."""
    digits = np.stack([(tails // 10**k) % 10 for k in range(7, -1, -1)], axis=1)
    steps = np.diff(digits, axis=1)
    same = (steps == 0).all(axis=1)
    up = (steps == 1).all(axis=1)
    down = (steps == -1).all(axis=1)
    return same | up | down


def mobiles(rng: np.random.Generator, n: int, taken: np.ndarray | None = None) -> np.ndarray:
    """``n`` distinct 11-digit mobiles (int64), none a placeholder and none in ``taken``."""
    out = np.empty(0, dtype=np.int64)
    taken = np.empty(0, dtype=np.int64) if taken is None else taken
    while out.size < n:
        want = int((n - out.size) * 1.05) + 16
        prefix = rng.choice(MOBILE_PREFIXES, size=want)
        tail = rng.integers(0, 100_000_000, size=want, dtype=np.int64)
        cand = prefix * 100_000_000 + tail
        cand = cand[~_placeholder_tail(tail)]
        cand = np.concatenate([out, cand])
        _, first = np.unique(cand, return_index=True)
        cand = cand[np.sort(first)]
        out = cand[~np.isin(cand, taken)]
    return out[:n]


# ---------------------------------------------------------------------------------------- ID numbers

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return np.stack([(values // 10**k) % 10 for k in range(width - 1, -1, -1)], axis=1)


def id_check_codes(body17: np.ndarray) -> np.ndarray:
    """ASCII code of the MOD 11-2 check character for each 17-digit body (int64)."""
    total = _digits(body17, 17) @ _ID_WEIGHTS
    return _ID_CHECK[total % 11]


def id_numbers(
    rng: np.random.Generator, area: np.ndarray, birth_yyyymmdd: np.ndarray, male: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct valid 18-character ID numbers: returns (17-digit body int64, check char code uint8).

    ``area`` is the 6-digit address code; the sequence code's last digit is odd for men.
    """
    n = area.size
    base = area.astype(np.int64) * 100_000_000_000 + birth_yyyymmdd.astype(np.int64) * 1000
    seq = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    while todo.size:
        s = rng.integers(0, 500, size=todo.size) * 2 + np.where(male[todo], 1, 0)
        seq[todo] = s
        body = base + seq
        _, first = np.unique(body, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    body = base + seq
    return body, id_check_codes(body)


def id_strings(body: np.ndarray, check: np.ndarray) -> pl.Series:
    codes = np.concatenate([_digits(body, 17).astype(np.uint8) + 48, check[:, None]], axis=1)
    return _as_strings(codes)


# ------------------------------------------------------------------------------------------------ VIN

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_VIN_LUT = np.zeros(128, dtype=np.int64)
for _ch, _v in _VIN_VALUES.items():
    _VIN_LUT[ord(_ch)] = _v
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model year 2010 + index


def vins(wmi_vds: np.ndarray, year: np.ndarray, plant: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """VIN character matrix (n, 17) with a correct check digit at position 9.

    ``wmi_vds`` is an (n, 8) uint8 matrix (positions 1-8), ``plant`` a uint8 letter code,
    ``serial`` the 6-digit production number.
    """
    n = year.size
    codes = np.empty((n, 17), dtype=np.uint8)
    codes[:, :8] = wmi_vds
    codes[:, 8] = ord("0")
    year_codes = np.frombuffer(YEAR_CODES.encode(), dtype=np.uint8)
    codes[:, 9] = year_codes[np.clip(year - 2010, 0, len(YEAR_CODES) - 1)]
    codes[:, 10] = plant
    codes[:, 11:] = _digits(serial, 6).astype(np.uint8) + 48
    total = _VIN_LUT[codes] @ _VIN_WEIGHTS
    check = total % 11
    codes[:, 8] = np.where(check == 10, ord("X"), check + 48).astype(np.uint8)
    return codes


# ------------------------------------------------------------------------------------- WeChat ids

_URLSAFE = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)


def wechat_ids(rng: np.random.Generator, n: int, prefix: str, length: int) -> pl.Series:
    """``prefix`` + url-safe random characters, ``length`` in total (openid "o"+27, external "wm"+30)."""
    body = _URLSAFE[rng.integers(0, 64, size=(n, length - len(prefix)))]
    head = np.tile(np.frombuffer(prefix.encode(), dtype=np.uint8), (n, 1))
    return _as_strings(np.concatenate([head, body], axis=1))


def hex_string(rng: np.random.Generator, n_chars: int) -> str:
    return "".join("0123456789abcdef"[i] for i in rng.integers(0, 16, size=n_chars))


# ------------------------------------------------------------------------------------------- names

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_MALE_GIVEN = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成东文志海晨博")
_FEMALE_GIVEN = list("芳娜敏静丽艳娟霞秀玲桂英慧巧美淑惠珠翠雅芝玉萍红娥琴云莲真雪荣爱燕婷倩颖洁琳晶")


def names(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    """Chinese names: a surname (skewed to the common ones) and one or two given characters."""
    n = male.size
    weights = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surname = rng.choice(len(SURNAMES), size=n, p=weights / weights.sum())
    g1 = rng.integers(0, len(_MALE_GIVEN), size=n)
    g2 = rng.integers(0, len(_MALE_GIVEN), size=n)
    two = rng.random(n) < 0.65
    male_s = pl.Series(male)
    first = pl.select(
        pl.when(male_s)
        .then(pl.Series(_MALE_GIVEN).gather(g1))
        .otherwise(pl.Series(_FEMALE_GIVEN).gather(g1 % len(_FEMALE_GIVEN)))
    ).to_series()
    second = pl.select(
        pl.when(~pl.Series(two))
        .then(pl.lit(""))
        .when(male_s)
        .then(pl.Series(_MALE_GIVEN).gather(g2))
        .otherwise(pl.Series(_FEMALE_GIVEN).gather(g2 % len(_FEMALE_GIVEN)))
    ).to_series()
    return pl.Series(SURNAMES).gather(surname) + first + second
