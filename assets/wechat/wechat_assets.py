"""Dagster assets of the WeChat Official Account and WeCom pulls, and the reminder dispatch.

Group "wechat"; keys ``["wechat", <table>]``; tables in the warehouse schema ``wechat``.
"""

import contextlib

import dagster as dg

from assets.wechat.callback_ingest import ingest_callback_events
from assets.wechat.dispatch import dispatch
from assets.wechat.feeds import optional_feed
from assets.wechat.followers import sync_followers
from assets.wechat.wecom_sync import sync_behavior, sync_contacts, sync_groupmsg_results
from pipelines.resources import AftercareSettings, RunMonth, WarehouseResource
from sources.pii import PiiVault
from sources.wechat import OfficialAccountClient, WechatError, WecomClient

GROUP = "wechat"


@contextlib.contextmanager
def api_errors(what: str):
    """Client errors become a Dagster failure whose message says what to do."""
    try:
        yield
    except WechatError as exc:
        raise dg.Failure(description=f"{what}: {exc}") from exc


@dg.asset(key=["wechat", "callback_events"], group_name=GROUP, compute_kind="python")
def callback_events(settings: AftercareSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Events WeChat pushed to `aftercare callback` (template delivery results, (un)subscribes)."""
    folder = settings.settings.paths.state / "callbacks"
    with warehouse.get_connection() as con:
        counts = ingest_callback_events(con, folder)
    return dg.MaterializeResult(metadata={**counts, "folder": str(folder)})


@dg.asset(
    key=["wechat", "oa_followers"],
    group_name=GROUP,
    compute_kind="python",
    deps=[dg.AssetKey(["wechat", "callback_events"])],
)
def oa_followers(
    context: dg.AssetExecutionContext, settings: AftercareSettings, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Followers of the Official Account: the full openid list, user info for new or changed ones."""
    with (
        optional_feed(context, warehouse, "WeChat follower sync") as feed,
        OfficialAccountClient.from_settings(settings.settings) as client,
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
        ),
        dg.AssetSpec(
            ["wechat", "wecom_external_contacts"],
            group_name=GROUP,
            description="Customer-consultant relations; remark mobiles only as HMACs",
        ),
    ],
    compute_kind="python",
)
def wecom_contacts(
    context: dg.AssetExecutionContext, settings: AftercareSettings, warehouse: WarehouseResource
):
    cfg = settings.settings
    vault = PiiVault(cfg.pii_key())
    keys = [dg.AssetKey(["wechat", "wecom_follow_users"]), dg.AssetKey(["wechat", "wecom_external_contacts"])]
    with (
        optional_feed(context, warehouse, "WeCom customer sync", keys) as feed,
        WecomClient.from_settings(cfg) as client,
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
    compute_kind="python",
    deps=[dg.AssetKey(["wechat", "wecom_follow_users"])],
)
def wecom_behavior_daily(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Consultant behaviour per day (new contacts, chats, messages, reply rate, reply time)."""
    with (
        optional_feed(context, warehouse, "WeCom behaviour sync") as feed,
        WecomClient.from_settings(settings.settings) as client,
        warehouse.get_connection() as con,
    ):
        counts = sync_behavior(client, con, run_month.as_of)
    if feed.outage is not None:
        return feed.unavailable()
    return dg.MaterializeResult(metadata={**counts, "as_of": run_month.as_of.isoformat(), **feed.metadata()})


@dg.asset(key=["wechat", "wecom_groupmsg_results"], group_name=GROUP, compute_kind="python")
def wecom_groupmsg_results(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Per-customer results of the consultants' mass messages of the last 90 days."""
    with (
        optional_feed(context, warehouse, "WeCom group-message sync") as feed,
        WecomClient.from_settings(settings.settings) as client,
        warehouse.get_connection() as con,
    ):
        counts = sync_groupmsg_results(client, con, run_month.as_of)
    if feed.outage is not None:
        return feed.unavailable()
    return dg.MaterializeResult(metadata={**counts, **feed.metadata()})


@dg.asset(
    key=["wechat", "template_send_log"],
    group_name=GROUP,
    compute_kind="python",
    deps=[
        dg.AssetKey(["wechat", "oa_followers"]),
        dg.AssetKey(["reminders"]),
        dg.AssetKey(["identity", "oneid_map"]),
    ],
)
def template_send_log(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
    run_month: RunMonth,
) -> dg.MaterializeResult:
    """Reminder template messages of the month: dry run unless wechat.dispatch_enabled; once per task."""
    cfg = settings.settings
    enabled = cfg.wechat.dispatch_enabled
    with api_errors("reminder dispatch"), contextlib.ExitStack() as stack:
        client = stack.enter_context(OfficialAccountClient.from_settings(cfg)) if enabled else None
        with warehouse.get_connection() as con:
            report = dispatch(con, run_month.month, client, cfg.wechat.reminder_template_id, enabled)
    for note in report.notes:
        context.log.info(note)
    return dg.MaterializeResult(
        metadata={
            "month": run_month.month,
            "dry_run": report.dry_run,
            "tasks": report.tasks,
            "no_openid": report.no_openid,
            "already_done": report.already_done,
            "to_send": report.to_send,
            "sent": report.sent,
            "failed": report.failed,
            "notes": "; ".join(report.notes) or "-",
        }
    )
