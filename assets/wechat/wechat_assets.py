"""Dagster assets of the WeChat Official Account and WeCom pulls, and the reminder dispatch.

Group "wechat"; keys ``["wechat", <table>]``; tables in the warehouse schema ``wechat``.
"""

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait

import dagster as dg

from assets.partitions import monthly_partitions, one_month_per_run
from assets.resources import AftercareSettings, OfficialAccountApi, RunMonth, WarehouseResource, WecomApi
from assets.wechat import prefetch
from assets.wechat.callback_ingest import ingest_callback_events
from assets.wechat.dispatch import DispatchReport, DispatchStopped, dispatch
from assets.wechat.feeds import optional_feed
from assets.wechat.followers import sync_followers
from assets.wechat.settlement import STATUSES, settle_sends
from assets.wechat.tables import ensure_tables
from assets.wechat.wecom_behavior import sync_behavior
from assets.wechat.wecom_groupmsgs import sync_groupmsg_results
from assets.wechat.wecom_sync import (
    DAILY_PULL,
    MONTH_END_RUN,
    reusable_snapshot,
    stored_snapshot,
    sync_contacts,
)
from sources.pii import PiiVault
from sources.wechat import WechatError

GROUP = "wechat"


def budgeted_wecom_pull(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
    what: str,
    key: dg.AssetKey,
    sync: Callable[..., dict],
) -> list[dg.MaterializeResult]:
    """One WeCom pull up to the run's cut-off within this run's call budget, as an optional feed
    (an outage is the run's warning, not its failure; docs/wechat.md)."""
    with (
        optional_feed(context, warehouse, f"{what} sync", [key]) as feed,
        wecom_api.client(budget=wecom_api.budget(what, context.log.info)) as client,
        warehouse.get_connection() as con,
    ):
        counts = sync(client, con, run_month.pull_cut_off, log=context.log.info)
    if feed.outage is not None:
        return list(feed.unavailable_results())
    metadata = {**counts, "as_of": run_month.pull_cut_off.isoformat(), **feed.metadata()}
    return [dg.MaterializeResult(asset_key=key, metadata=metadata)]


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


OA_FOLLOWERS = dg.AssetKey(["wechat", "oa_followers"])
FOLLOW_USERS = dg.AssetKey(["wechat", "wecom_follow_users"])
EXTERNAL_CONTACTS = dg.AssetKey(["wechat", "wecom_external_contacts"])
BEHAVIOR_DAILY = dg.AssetKey(["wechat", "wecom_behavior_daily"])
GROUPMSG_RESULTS = dg.AssetKey(["wechat", "wecom_groupmsg_results"])
CALLBACK_EVENTS = dg.AssetKey(["wechat", "callback_events"])


def _oa_followers(
    context: dg.AssetExecutionContext, wechat_api: OfficialAccountApi, warehouse: WarehouseResource
) -> list[dg.MaterializeResult]:
    with (
        optional_feed(context, warehouse, "WeChat follower sync", [OA_FOLLOWERS]) as feed,
        wechat_api.client() as client,
        warehouse.get_connection() as con,
    ):
        report = sync_followers(client, con, log=context.log.info)
        subscribed = con.execute("SELECT count(*) FROM wechat.oa_followers WHERE subscribe").fetchall()[0][0]
    if feed.outage is not None:
        return list(feed.unavailable_results())
    metadata = {
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
    return [dg.MaterializeResult(asset_key=OA_FOLLOWERS, metadata=metadata)]


def _wecom_contacts(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
    consultants: Future,
) -> list[dg.MaterializeResult]:
    """The contacts snapshot of the selected tables, or the last night's when the month-end run may
    reuse it; hands the consultant list to the behaviour pull as soon as it has it."""
    cfg = settings.settings
    vault = PiiVault(cfg.pii_key())
    selected = context.selected_asset_keys
    keys = [key for key in (FOLLOW_USERS, EXTERNAL_CONTACTS) if key in selected]
    daily_pull = bool(run_month.pulls_through)
    try:
        with warehouse.get_connection() as con:  # the tables exist: wechat_pulls made them
            stored = stored_snapshot(con)
            if reusable_snapshot(
                stored, run_month.pull_cut_off, cfg.wecom.contacts_max_age_days, daily_pull=daily_pull
            ):
                consultants.set_result(None)  # the behaviour pull reads the stored list
                return _reused_snapshot(context, keys, stored, run_month, cfg.wecom.contacts_max_age_days)
        with (
            optional_feed(context, warehouse, "WeCom customer sync", keys) as feed,
            wecom_api.client() as client,
            warehouse.get_connection() as con,
        ):
            counts = sync_contacts(
                client,
                con,
                vault,
                cfg.oneid.placeholder_mobiles,
                on_follow_users=consultants.set_result,
                follow_users=FOLLOW_USERS in selected,
                external_contacts=EXTERNAL_CONTACTS in selected,
                through=run_month.pull_cut_off,
                taken_by=DAILY_PULL if daily_pull else MONTH_END_RUN,
            )
    except Exception as exc:
        if not consultants.done():  # a failed pull: the behaviour pull does not run, as a downstream step
            consultants.set_exception(exc)
        raise
    finally:
        if not consultants.done():  # an unavailable feed: the behaviour pull reads the stored list
            consultants.set_result(None)
    if feed.outage is not None:
        return list(feed.unavailable_results())
    metadata = {
        FOLLOW_USERS: {"rows": counts["follow_users"]},
        EXTERNAL_CONTACTS: {"rows": counts["relations"], "customers": counts["customers"]},
    }
    snapshot = {"snapshot_through": run_month.pull_cut_off.isoformat(), "snapshot_reused": False}
    return [
        dg.MaterializeResult(asset_key=key, metadata={**metadata[key], **snapshot, **feed.metadata()})
        for key in keys
    ]


def _reused_snapshot(context, keys, stored, run_month: RunMonth, max_age: int):
    """The results of a month-end run that took the last night's snapshot: no call to WeCom."""
    context.log.info(
        f"WeCom customer sync: the snapshot the nightly pull took through {stored.through} "
        f"(at {stored.fetched_at:%Y-%m-%d %H:%M}; {stored.follow_users} consultants, "
        f"{stored.relations} relations) is within wecom.contacts_max_age_days = {max_age} of the "
        f"cut-off {run_month.pull_cut_off}: reused, no call to WeCom"
    )
    metadata = {
        FOLLOW_USERS: {"rows": stored.follow_users},
        EXTERNAL_CONTACTS: {"rows": stored.relations, "customers": stored.customers},
    }
    snapshot = {
        "snapshot_through": stored.through.isoformat(),
        "snapshot_reused": True,
        "snapshot_fetched_at": stored.fetched_at.isoformat(sep=" "),
        "feed_status": "available",
    }
    return [dg.MaterializeResult(asset_key=key, metadata={**metadata[key], **snapshot}) for key in keys]


def _wecom_behavior(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
    consultants: Future,
) -> list[dg.MaterializeResult]:
    try:
        userids = consultants.result()  # the contacts pull's list of this run, None: the stored one
    except Exception:  # noqa: BLE001 - the contacts pull's failure fails the step; nothing to add
        context.log.warning("WeCom behaviour not pulled: the consultants' pull failed")
        return []
    sync = functools.partial(sync_behavior, userids=userids)
    return budgeted_wecom_pull(
        context, wecom_api, warehouse, run_month, "WeCom behaviour", BEHAVIOR_DAILY, sync
    )


def _wecom_groupmsgs(
    context: dg.AssetExecutionContext, wecom_api: WecomApi, warehouse: WarehouseResource, run_month: RunMonth
) -> list[dg.MaterializeResult]:
    return budgeted_wecom_pull(
        context,
        wecom_api,
        warehouse,
        run_month,
        "WeCom group-message",
        GROUPMSG_RESULTS,
        sync_groupmsg_results,
    )


def _timed(
    context: dg.AssetExecutionContext, what: str, pull: Callable[[], list[dg.MaterializeResult]]
) -> list[dg.MaterializeResult]:
    """Run one pull and log how long it took: the longest sets the step's time (docs/wechat.md)."""
    started = time.monotonic()
    try:
        return pull()
    finally:
        context.log.info(f"{what}: finished in {time.monotonic() - started:.1f} s")


def _pulled(key: dg.AssetKey, description: str, deps: tuple[dg.AssetKey, ...] = ()) -> dg.AssetSpec:
    """A table one of the pulls writes: selectable on its own (``skippable``)."""
    return dg.AssetSpec(key, description=description, deps=deps, kinds={"python", "duckdb"}, skippable=True)


def _start(context, pulls: dict[str, Callable[[], list[dg.MaterializeResult]]]) -> list[Future]:
    """Each pull in a thread of its own, its time logged when it ends."""
    if not pulls:
        return []
    pool = ThreadPoolExecutor(max_workers=len(pulls), thread_name_prefix="wechat-pull")
    futures = [pool.submit(_timed, context, what, pull) for what, pull in pulls.items()]
    pool.shutdown(wait=False)
    return futures


def _reported(futures: list[Future], selected) -> Iterator[dg.MaterializeResult]:
    """Wait for every pull; the results of the selected assets, then the first failure, if any."""
    wait(futures)
    failures = []
    for future in futures:
        if future.exception() is not None:
            failures.append(future.exception())
            continue
        for result in future.result():
            if result.asset_key in selected:
                yield result
    if failures:
        raise failures[0]


ACTIVITY_STEP = "wecom_activity"


def _activity_pulls(
    context, wecom_api: WecomApi, warehouse: WarehouseResource, run_month: RunMonth, keys, consultants: Future
) -> dict[str, Callable[[], list[dg.MaterializeResult]]]:
    """The pulls of ``wecom_activity`` for ``keys`` (name: function)."""
    pulls: dict[str, Callable[[], list[dg.MaterializeResult]]] = {}
    if BEHAVIOR_DAILY in keys:
        pulls["WeCom behaviour"] = functools.partial(
            _wecom_behavior, context, wecom_api, warehouse, run_month, consultants
        )
    if GROUPMSG_RESULTS in keys:
        pulls["WeCom group-message"] = functools.partial(
            _wecom_groupmsgs, context, wecom_api, warehouse, run_month
        )
    return pulls


def _activity_in_this_run(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    """The tables of ``wecom_activity`` this run materializes, when its step runs in this process."""
    plan_steps = context.run.step_keys_to_execute  # None: every step of the run's job
    if plan_steps is not None and ACTIVITY_STEP not in plan_steps:
        return set()
    if ACTIVITY_STEP not in context.job_def.graph.node_dict:  # a job without the step
        return set()
    return {BEHAVIOR_DAILY, GROUPMSG_RESULTS} & set(context.job_def.asset_layer.selected_asset_keys)


@dg.multi_asset(
    name="wechat_pulls",
    group_name=GROUP,
    can_subset=True,
    specs=[
        _pulled(
            OA_FOLLOWERS,
            "Official Account followers: the openid list, user info for new or changed ones",
            (CALLBACK_EVENTS,),
        ),
        _pulled(FOLLOW_USERS, "Consultants with customer contact"),
        _pulled(EXTERNAL_CONTACTS, "Customer-consultant relations; remark mobiles only as HMACs"),
    ],
)
def wechat_pulls(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    wechat_api: OfficialAccountApi,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
):
    """The Official Account's and WeCom's pulls OneID reads, side by side, and the start of the
    activity pulls of ``wecom_activity`` when this run has it.

    Each pull spends most of its time waiting on its API: WeCom allows 10,000 calls a minute per
    corp and API (docs/wechat.md "The assets"), and the limits are per API, so the pulls run in threads
    of this one step, each with its own client and its own DuckDB connection to the warehouse (one
    process, the one writer the in-process executor allows; the pulls write disjoint tables). One
    after the other they took the sum of their waits (~190 s a month at M), side by side the longest.
    The behaviour pull starts with the consultant list the contacts pull has just fetched, and goes on
    after this step, while OneID runs (``assets/wechat/prefetch.py``).

    Every pull of this step ends before the step reports: the ones that succeeded (or found their feed
    unavailable, a warning) are materialized, then the first failure fails the step.
    """
    selected = context.selected_asset_keys
    with warehouse.get_connection() as con:
        ensure_tables(con)  # once, before the threads: their DDL would race each other
    consultants: Future = Future()
    pulls: dict[str, Callable[[], list[dg.MaterializeResult]]] = {}
    if OA_FOLLOWERS in selected:
        pulls["WeChat follower sync"] = functools.partial(_oa_followers, context, wechat_api, warehouse)
    if selected & {FOLLOW_USERS, EXTERNAL_CONTACTS}:
        pulls["WeCom customer sync"] = functools.partial(
            _wecom_contacts, context, settings, wecom_api, warehouse, run_month, consultants
        )
    else:
        consultants.set_result(None)
    activity = _activity_in_this_run(context)
    if activity:
        relay = prefetch.RelayLog()
        later = prefetch.LogOnly(relay)
        activity_pulls = _activity_pulls(later, wecom_api, warehouse, run_month, activity, consultants)
        if prefetch.start(
            context.run_id,
            {what: functools.partial(_timed, later, what, pull) for what, pull in activity_pulls.items()},
            relay,
        ):
            context.log.info(f"started ahead of their step: {', '.join(activity_pulls)}")
    yield from _reported(_start(context, pulls), selected)


@dg.multi_asset(
    name=ACTIVITY_STEP,
    group_name=GROUP,
    can_subset=True,
    specs=[
        _pulled(
            BEHAVIOR_DAILY,
            "Consultant behaviour per day (new contacts, chats, messages, reply rate and time)",
            (FOLLOW_USERS,),
        ),
        _pulled(
            GROUPMSG_RESULTS, "Per-customer results of the consultants' mass messages of the last 90 days"
        ),
    ],
    # the last of the steps ready with it (OneID and its checks come first): the pulls that
    # wechat_pulls started run meanwhile (the in-process executor runs the highest priority first)
    op_tags={"dagster/priority": "-1"},
)
def wecom_activity(
    context: dg.AssetExecutionContext,
    wecom_api: WecomApi,
    warehouse: WarehouseResource,
    run_month: RunMonth,
):
    """WeCom's behaviour statistics and group-message results: only the communication KPIs read them.

    When ``wechat_pulls`` of this run started them (``assets/wechat/prefetch.py``) this step waits for
    them and reports what they did, their log lines included; else it pulls them here, side by side.
    Every pull ends before the step reports; then the first failure fails the step.
    """
    selected = context.selected_asset_keys
    started = prefetch.take(context.run_id)
    if started is not None:
        futures, relay = started
        relay.attach(context.log)
        yield from _reported(list(futures.values()), selected)
        return
    with warehouse.get_connection() as con:
        ensure_tables(con)
    consultants: Future = Future()
    consultants.set_result(None)  # the stored consultant list
    yield from _reported(
        _start(context, _activity_pulls(context, wecom_api, warehouse, run_month, selected, consultants)),
        selected,
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
