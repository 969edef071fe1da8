"""Beijing time, the one clock of the platform: every timestamp in the dealers' exports, the
warehouse, the WeChat/WeCom local fields and the dashboard's decisions is naive Beijing wall-clock
time (docs/architecture.md). China has one time zone and no daylight saving, so a fixed offset is
exact."""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def now_local() -> dt.datetime:
    """Beijing wall-clock time, naive and to the second, like every timestamp the platform stores."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def today_local() -> dt.date:
    """Beijing's date: what "today" means for cut-offs and file dates."""
    return dt.datetime.now(SHANGHAI).date()
