"""Dagster assets of the WeChat Official Account and WeCom pulls, and the reminder dispatch.

Group "wechat"; keys ``["wechat", <table>]``; tables in the warehouse schema ``wechat``.
"""

import contextlib
from collections.abc import Callable

import dagster as dg

from assets.partitions import monthly_partitions, one_month_per_run
from assets.resources import AftercareSettings, OfficialAccountApi, RunMonth, WarehouseResource, WecomApi
from assets.wechat.callback_ingest import ingest_callback_events
from assets.wechat.dispatch import DispatchReport, DispatchStopped, dispatch
from assets.wechat.feeds import optional_feed
from assets.wechat.followers import sync_followers
from assets.wechat.settlement import STATUSES, settle_sends
from assets.wechat.wecom_behavior import sync_behavior
from assets.wechat.wecom_groupmsgs import sync_groupmsg_results
from assets.wechat.wecom_sync import sync_contacts
from sources.pii import PiiVault
from sources.wechat import WechatError

GROUP = "wechat"


def budgeted_wecom_pull(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
    what: str,
    sync: Callable[..., dict],
) -> dg.MaterializeResult:
    """One WeCom pull up to the run's cut-off within this run's call budget, as an optional feed
    (an outage is the run's warning, not its failure; docs/wechat.md)."""
    with (
        optional_feed(context, warehouse, f"{what} sync") as feed,
        wecom_api.client(budget=wecom_api.budget(what, context.log.info)) as client,
        warehouse.get_connection() as con,
    ):
        counts = sync(client, con, run_month.pull_cut_off, log=context.log.info)
    if feed.outage is not None:
        return feed.unavailable()
    return dg.MaterializeResult(
        metadata={**counts, "as_of": run_month.pull_cut_off.isoformat(), **feed.metadata()}
    )


@contextlib.contextmanager
def api_errors(what: str):
    """Client errors become a Dagster failure whose message says what to do."""
    try:
        yield
    except WechatError as exc:
        raise dg.Failure(description=f"{what}: {exc}") from exc


@dg.asset(key=["wechat", "callback_events"], group_name=GROUP, kinds={"python", "duckdb"})
def callback_events(settings: AftercareSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Events WeChat pushed to `aftercare callback` (template delivery results, (un)subscribes)."""
    folder = settings.settings.paths.state / "callbacks"
    with warehouse.get_connection() as con:
        counts = ingest_callback_events(con, folder)
    return dg.MaterializeResult(metadata={**counts, "folder": str(folder)})


@dg.asset(
    key=["wechat", "oa_followers"],
    group_name=GROUP,
    kinds={"python", "duckdb"},
    deps=[dg.AssetKey(["wechat", "callback_events"])],
)
def oa_followers(
    context: dg.AssetExecutionContext, wechat_api: OfficialAccountApi, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Followers of the Official Account: the full openid list, user info for new or changed ones."""
    with (
        optional_feed(context, warehouse, "WeChat follower sync") as feed,
        wechat_api.client() as client,
        warehouse.get_connection() as con,
    ):
        report = sync_followers(client, con, log=context.log.info)
        subscribed = con.execute("SELECT count(*) FROM wechat.oa_followers WHERE subscribe").fetchall()[0][0]
    if feed.outage is not None:
        return feed.unavailable()
    return dg.MaterializeResult(
        metadata={
            "listed": report.listed,
            "new": report.new,
            "gone": report.gone,
            "from_events": report.from_events,
            "user_info_calls": report.info_calls,
            "fetched": report.fetched,
            "resumed": report.resumed,
            "subscribed": subscribed,
            **feed.metadata(),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["wechat", "wecom_follow_users"],
            group_name=GROUP,
            description="Consultants with customer contact",
            kinds={"python", "duckdb"},
        ),
        dg.AssetSpec(
            ["wechat", "wecom_external_contacts"],
            group_name=GROUP,
            description="Customer-consultant relations; remark mobiles only as HMACs",
            kinds={"python", "duckdb"},
        ),
    ],
)
def wecom_contacts(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
):
    cfg = settings.settings
    vault = PiiVault(cfg.pii_key())
    keys = [dg.AssetKey(["wechat", "wecom_follow_users"]), dg.AssetKey(["wechat", "wecom_external_contacts"])]
    with (
        optional_feed(context, warehouse, "WeCom customer sync", keys) as feed,
        wecom_api.client() as client,
        warehouse.get_connection() as con,
    ):
        counts = sync_contacts(client, con, vault, cfg.oneid.placeholder_mobiles)
    if feed.outage is not None:
        yield from feed.unavailable_results()
        return
    yield dg.MaterializeResult(
        asset_key=["wechat", "wecom_follow_users"],
        metadata={"rows": counts["follow_users"], **feed.metadata()},
    )
    yield dg.MaterializeResult(
        asset_key=["wechat", "wecom_external_contacts"],
        metadata={"rows": counts["relations"], "customers": counts["customers"], **feed.metadata()},
    )


@dg.asset(
    key=["wechat", "wecom_behavior_daily"],
    group_name=GROUP,
    kinds={"python", "duckdb"},
    deps=[dg.AssetKey(["wechat", "wecom_follow_users"])],
)
def wecom_behavior_daily(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Consultant behaviour per day (new contacts, chats, messages, reply rate, reply time)."""
    return budgeted_wecom_pull(context, wecom_api, warehouse, run_month, "WeCom behaviour", sync_behavior)


@dg.asset(key=["wechat", "wecom_groupmsg_results"], group_name=GROUP, kinds={"python", "duckdb"})
def wecom_groupmsg_results(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Per-customer results of the consultants' mass messages of the last 90 days."""
    return budgeted_wecom_pull(
        context, wecom_api, warehouse, run_month, "WeCom group-message", sync_groupmsg_results
    )


# dagster-dbt's key of the `reminders` mart (models/marts/..., schema marts)
REMINDERS_MART = dg.AssetKey(["marts", "reminders"])


@dg.asset(
    key=["wechat", "template_send_results"],
    group_name=GROUP,
    kinds={"duckdb"},
    deps=[dg.AssetKey(["wechat", "callback_events"])],
    description=(
        "WeChat status of every reminder send (task, month) from the send log and the delivery events. "
        "Runs before dbt and reads the send log as the previous runs left it (this run's dispatch comes "
        "after the reminder list it sends); a lost reply is settled from its delivery event or left "
        "`unsettled` for review, never resent."
    ),
)
def template_send_results(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        counts = settle_sends(con)
    rows = sum(counts[s] for s in STATUSES)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **counts})


@dg.asset(
    key=["wechat", "template_send_log"],
    group_name=GROUP,
    kinds={"python", "duckdb"},
    partitions_def=monthly_partitions,
    backfill_policy=one_month_per_run,
    deps=[
        dg.AssetKey(["wechat", "oa_followers"]),
        REMINDERS_MART,
        dg.AssetKey(["identity", "oneid_map"]),
    ],
)
def template_send_log(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    wechat_api: OfficialAccountApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Reminder template messages of the month: dry run unless wechat.dispatch_enabled; at most once
    per task and month, a lost reply never resent."""
    cfg = settings.settings
    enabled = cfg.wechat.dispatch_enabled
    month = run_month.month
    assert month is not None
    with api_errors("reminder dispatch"), contextlib.ExitStack() as stack:
        client = stack.enter_context(wechat_api.client()) if enabled else None
        with warehouse.get_connection() as con:
            try:
                report = dispatch(con, month, client, cfg.wechat.reminder_template_id, enabled)
            except DispatchStopped as stopped:
                for note in stopped.report.notes:
                    context.log.warning(note)
                raise dg.Failure(
                    description=f"reminder dispatch stopped: {stopped}",
                    metadata=_metadata(month, stopped.report),
                ) from stopped
    for note in report.notes:
        context.log.info(note)
    return dg.MaterializeResult(metadata=_metadata(month, report))


def _metadata(month: str, report: DispatchReport) -> dict[str, object]:
    return {
        "month": month,
        "dry_run": report.dry_run,
        "tasks": report.tasks,
        "no_openid": report.no_openid,
        "already_done": report.already_done,
        "awaiting_settlement": report.awaiting_settlement,
        "to_send": report.to_send,
        "sent": report.sent,
        "failed": report.failed,
        "reply_lost": report.reply_lost,
        "notes": "; ".join(report.notes) or "-",
    }
