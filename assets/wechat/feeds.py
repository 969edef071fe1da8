"""A WeChat or WeCom feed the account cannot read is a warning, not a failed month.

The reminder list, the customer 360 and the KPIs are built from the dealer exports; the OA and WeCom
feeds enrich them. When a feed cannot be pulled (the account lacks the API's privilege, this
machine's IP is not on the allowlist, the API stays down through the client's retries, or it is not
configured at all) its asset succeeds with ``feed_status = unavailable``, the errcode and the reason
in its metadata and a warning for the run summary, and its tables keep what earlier runs stored
(created empty if there were none, so dbt never meets a missing table). The run goes on, publishes
and exits 0; ``aftercare run --strict`` turns the warning into a failed exit.

A pull that stops at its per-run call budget (``wecom.call_budget``) with its progress saved is
neither: ``feed_status = backfill in progress`` and a notice; the next run continues from the cursor.

Not a warning, still a failure: credentials the API refuses (a wrong appid, corpid or secret: a
person must fix the configuration), and answers that make no sense (a pagination loop).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from assets.run_notes import notes_metadata
from assets.wechat.tables import ensure_tables
from sources.wechat import WechatError
from sources.wechat.errors import (
    ApiError,
    ApiUnreachable,
    BackfillInProgress,
    MissingSecret,
    QuotaExhausted,
    RateLimited,
    TokenRejected,
    Transient,
)

# the account or this machine may not call the API: privilege and IP-allowlist errcodes
# (reference/wechat-api.md: OA 48001, 40164; WeCom 48002, 48009, 60011, 60020, 84074, 301042)
NO_PRIVILEGE = frozenset({40164, 48001, 48002, 48009, 60011, 60020, 84074, 301042})
BACKFILL = "backfill in progress"


@dataclass(frozen=True)
class FeedOutage:
    feed: str
    status: str  # unavailable / partial / backfill in progress
    errcode: int | None
    reason: str

    @property
    def is_notice(self) -> bool:
        """Nothing for a person to do: the feed is being backfilled over several runs."""
        return self.status == BACKFILL

    @property
    def warning(self) -> str:
        code = f" (errcode {self.errcode})" if self.errcode is not None else ""
        if self.status == BACKFILL:
            return f"{self.feed}: backfill in progress: {self.reason}"
        if self.status == "partial":
            return f"{self.feed} incomplete{code}: {self.reason}"
        return f"{self.feed} unavailable{code}: {self.reason}; the run went on without it"


def outage_of(feed: str, exc: WechatError) -> FeedOutage | None:
    """The outage an error means for a feed, or None when it must fail the run."""
    if isinstance(exc, BackfillInProgress):  # the call budget ended the run; progress is saved
        return FeedOutage(feed, BACKFILL, None, str(exc))
    if isinstance(exc, MissingSecret):
        return FeedOutage(feed, "unavailable", None, f"not configured: {exc}")
    if isinstance(exc, ApiUnreachable):
        return FeedOutage(feed, "unavailable", None, str(exc))
    if isinstance(exc, QuotaExhausted):  # progress is saved; the next run resumes
        return FeedOutage(feed, "partial", exc.errcode, str(exc))
    if isinstance(exc, (Transient, RateLimited, TokenRejected)):  # down through the retries
        return FeedOutage(feed, "unavailable", exc.errcode, f"the API stayed down through the retries: {exc}")
    if isinstance(exc, ApiError) and exc.errcode in NO_PRIVILEGE:
        return FeedOutage(feed, "unavailable", exc.errcode, str(exc))
    return None


class FeedGuard:
    """What ``optional_feed`` learnt: the outage, if any, and the results to report for it."""

    def __init__(self, feed: str, keys: Sequence[dg.AssetKey]):
        self.feed, self.keys = feed, list(keys)
        self.outage: FeedOutage | None = None

    def metadata(self) -> dict:
        """Metadata of an available feed."""
        return {"feed_status": "available"}

    def outage_metadata(self) -> dict:
        assert self.outage is not None
        return {
            "feed_status": self.outage.status,
            "errcode": self.outage.errcode if self.outage.errcode is not None else "-",
            "reason": self.outage.reason,
            **(
                notes_metadata(notices=[self.outage.warning])
                if self.outage.is_notice
                else notes_metadata(warnings=[self.outage.warning])
            ),
        }

    def unavailable_results(self) -> Iterator[dg.MaterializeResult]:
        """One result per asset of a multi-asset feed that could not be pulled."""
        for key in self.keys:
            yield dg.MaterializeResult(asset_key=key, metadata=self.outage_metadata())


@contextmanager
def optional_feed(context, warehouse, feed: str, keys: Sequence[dg.AssetKey] = ()):
    """Run a feed's pull; an outage is recorded on the guard (and logged) instead of raised.

    The feed's tables exist afterwards whatever happened. After the ``with`` block the caller returns
    ``guard.unavailable_results()`` (one result per asset) when ``guard.outage`` is set.
    """
    guard = FeedGuard(feed, keys)
    with warehouse.get_connection() as con:
        ensure_tables(con)
    try:
        yield guard
    except WechatError as exc:
        outage = outage_of(feed, exc)
        if outage is None:
            raise dg.Failure(description=f"{feed}: {exc}") from exc
        guard.outage = outage
        (context.log.info if outage.is_notice else context.log.warning)(outage.warning)
