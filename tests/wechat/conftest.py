"""Fixtures: a small simulator state in the generator's format, a live simulator per test, and
the environment that points the platform at it (real HTTP on loopback, no mocks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import httpx
import pytest

from sources.wechat import FAST_RETRIES, OfficialAccountClient, WecomClient
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET, write_state

FOLLOWERS = 3000
SEND = "/cgi-bin/message/template/send"
MONTH = "2026-11"


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory) -> Path:
    return write_state(tmp_path_factory.mktemp("wechat_state") / "wechat", followers=FOLLOWERS, members=8)


@pytest.fixture
def sim(state_dir):
    with start_simulator(state_dir, seed=11) as handle:
        yield handle


class Control:
    """The simulator's /__sim control plane."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=30)

    def get(self, path: str, **params):
        response = self.http.get(f"/__sim/{path}", params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict | None = None, **params):
        response = self.http.post(f"/__sim/{path}", json=body or {}, params=params)
        response.raise_for_status()
        return response.json()

    def calls(self, path: str) -> int:
        return int(self.get("counters")["calls"].get(path, 0))


@pytest.fixture
def control(sim) -> Control:
    return Control(sim.url)


@pytest.fixture
def oa_client(sim):
    with OfficialAccountClient(sim.url, APPID, OA_SECRET, retry=FAST_RETRIES) as client:
        yield client


@pytest.fixture
def wecom_client(sim):
    with WecomClient(sim.url, CORPID, WECOM_SECRET, retry=FAST_RETRIES) as client:
        yield client


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield con
    con.close()


@pytest.fixture
def platform_env(sim, tmp_path, monkeypatch):
    """AFTERCARE_* pointing at the simulator and a fresh data folder; returns the data folder."""
    data = tmp_path / "data"
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "AFTERCARE_PATHS_DATA": str(data),
        "AFTERCARE_WECHAT_BASE_URL": sim.url,
        "AFTERCARE_WECHAT_APPID": APPID,
        "AFTERCARE_WECHAT_SECRET": OA_SECRET,
        "AFTERCARE_WECOM_BASE_URL": sim.url,
        "AFTERCARE_WECOM_CORPID": CORPID,
        "AFTERCARE_WECOM_SECRET": WECOM_SECRET,
        "AFTERCARE_PII_KEY": "test-pii-key-0123456789abcdefghijklmnop",
        # the receiver has no default token; the simulator signs its pushes with the same variable
        "AFTERCARE_WECHAT_CALLBACK_TOKEN": "test-callback-token-0123456789",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AFTERCARE_CONFIG", raising=False)
    monkeypatch.delenv("AFTERCARE_WECHAT_DISPATCH_ENABLED", raising=False)
    return data


def materialize(assets, data: Path, month: str = "2026-11", selection=None, instance=None):
    """``assets`` materialized (``selection``: only those keys of them) with the test's settings
    (``instance``: a Dagster instance whose event log the test reads; default an ephemeral one)."""
    import dagster as dg

    from assets.resources import AftercareSettings, RunMonth, WarehouseResource, api_resources
    from sources.settings import load_settings

    data.mkdir(parents=True, exist_ok=True)
    # a month-partitioned asset (the dispatch) runs as the partition of the month, as the schedule
    # launches it; the others get the month in the run config
    partitioned = any(a.partitions_def is not None for a in assets)
    return dg.materialize(
        assets,
        partition_key=month if partitioned else None,
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
            "run_month": RunMonth() if partitioned else RunMonth(month=month),
            **api_resources(load_settings()),  # the simulator's address and secrets, as set above
        },
        selection=selection,
        raise_on_error=False,
        instance=instance,
    )


def failure_message(result) -> str:
    return "\n".join(
        str(event.event_specific_data.error.message)
        + str(getattr(event.event_specific_data, "user_failure_data", ""))
        for event in result.all_events
        if event.is_step_failure
    )


def asset_metadata(result, *key: str) -> dict:
    """Metadata values of the materialization of ``key`` in a materialize() result."""
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path == list(key):
            return {name: value.value for name, value in materialization.metadata.items()}
    raise KeyError(key)


@pytest.fixture
def reminders(sim, control, platform_env):
    """Followers synced, then a reminders mart and a OneID map as the other areas will write them."""
    from assets.wechat.wechat_assets import OA_FOLLOWERS, wechat_pulls

    assert materialize([wechat_pulls], platform_env, selection=[OA_FOLLOWERS]).success
    followers = sim.simulator.state.oa.followers
    subscribed = [o for o, f in followers.items() if f.subscribe]
    blocked = next(o for o in subscribed if followers[o].blocks_template)
    reachable = [o for o in subscribed if not followers[o].blocks_template][:6]
    leaving = reachable.pop()  # unsubscribes after the sync: WeChat answers 43004
    tasks = [
        (f"T{i:03d}", MONTH, f"OID{i:012d}", "wechat", openid)
        for i, openid in enumerate([*reachable, blocked, leaving])
    ]
    tasks += [
        ("T900", MONTH, "OID000000000900", "wechat", None),  # no openid known for this OneID
        ("T901", MONTH, "OID000000000901", "phone", subscribed[-1]),
        ("T902", "2026-10", "OID000000000902", "wechat", subscribed[-2]),
    ]
    with duckdb.connect(str(platform_env / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA identity")
        con.execute(
            "CREATE TABLE marts.reminders (task_id VARCHAR, month DATE, oneid VARCHAR, vin VARCHAR, "
            "dealer_code VARCHAR, reminder_type VARCHAR, due_date DATE, channel VARCHAR)"
        )
        con.execute(
            "CREATE TABLE identity.oneid_map (identifier_type VARCHAR, identifier_key VARCHAR, oneid "
            "VARCHAR, first_seen_at TIMESTAMP, last_seen_at TIMESTAMP)"
        )
        for task_id, month, oneid, channel, openid in tasks:
            con.execute(
                "INSERT INTO marts.reminders VALUES (?, ?, ?, ?, 'D001', 'maintenance', DATE '2026-11-20', "
                "?)",
                [
                    task_id,
                    dt.date.fromisoformat(month + "-01"),
                    oneid,
                    f"LSVAB4BG5NN{task_id[1:]:0>6}",
                    channel,
                ],
            )
            if openid:
                con.execute(
                    "INSERT INTO identity.oneid_map VALUES ('oa_openid', ?, ?, now(), now())", [openid, oneid]
                )
            con.execute(
                "INSERT INTO identity.oneid_map VALUES ('mobile', ?, ?, now(), now())",
                [f"hmac{task_id}", oneid],
            )
    control.post("followers/unsubscribe", {"openids": [leaving], "push": False})
    return {"reachable": reachable, "blocked": blocked, "leaving": leaving}


def send_log(data) -> dict[str, tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        rows = con.execute(
            "SELECT task_id, client_msg_id, msgid, result FROM wechat.template_send_log"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}
