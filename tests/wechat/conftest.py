"""Fixtures: a small simulator state in the generator's format, a live simulator per test, and
the environment that points the platform at it (real HTTP on loopback, no mocks)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from sources.wechat import FAST_RETRIES, OfficialAccountClient, WecomClient
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET, write_state

FOLLOWERS = 3000


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


def materialize(assets, data: Path, month: str = "2026-11"):
    import dagster as dg

    from pipelines.resources import AftercareSettings, RunMonth, WarehouseResource

    data.mkdir(parents=True, exist_ok=True)
    return dg.materialize(
        assets,
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
            "run_month": RunMonth(month=month),
        },
        raise_on_error=False,
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
