"""Day arithmetic on numpy arrays: dates are int64 days since 1970-01-01, timestamps int64 seconds
(local time, +08:00 implied, as the exports carry it)."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
DAY_S = 86_400


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def month_start(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_end(days: np.ndarray) -> np.ndarray:
    m = days.astype("datetime64[D]").astype("datetime64[M]") + 1
    return m.astype("datetime64[D]").astype(np.int64) - 1


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (so month arithmetic is integer arithmetic)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_index_start(months: np.ndarray) -> np.ndarray:
    return np.asarray(months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Same day of month ``n`` months later, clipped to the month's last day."""
    days = np.asarray(days, dtype=np.int64)
    m = month_index(days)
    dom = days - month_index_start(m)
    target = m + n
    start = month_index_start(target)
    last = month_index_start(target + 1) - 1
    return np.minimum(start + dom, last)


def add_years(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    return add_months(days, np.asarray(n) * 12)


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    d = np.asarray(days).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + dom


def year_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def office_seconds(rng: np.random.Generator, days: np.ndarray, start_h=8.5, end_h=18.0) -> np.ndarray:
    """A timestamp within office hours on each day."""
    secs = rng.integers(int(start_h * 3600), int(end_h * 3600), size=np.asarray(days).size)
    return np.asarray(days, dtype=np.int64) * DAY_S + secs
