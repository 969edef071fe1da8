"""The WeCom client's pacer under the minute limit (sources/wechat/http.py ``MinutePacer``): WeCom
blocks an API for 60 s once a corp passes 10,000 calls a minute, so the client waits for its own
window to slide instead. A fake clock: no test waits a minute."""

from __future__ import annotations

import threading

import pytest

from sources.wechat import FAST_RETRIES, WecomClient
from sources.wechat.http import MinutePacer
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import CORPID, WECOM_SECRET, write_state


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_the_call_over_the_limit_waits_until_the_first_of_the_window_is_a_minute_old():
    clock = FakeClock()
    pacer = MinutePacer(3, clock=clock, sleep=clock.sleep)
    at = []
    for step in (0.0, 5.0, 5.0, 0.0, 0.0):  # three calls at 1000, 1005, 1010, then two more
        clock.now += step
        pacer.acquire()
        at.append(clock.now)
    assert at == [1000.0, 1005.0, 1010.0, 1060.0, 1065.0]
    assert clock.sleeps == [50.0, 5.0]
    assert pacer.waited_s == 55.0


def test_calls_spread_over_more_than_a_minute_never_wait():
    clock = FakeClock()
    pacer = MinutePacer(2, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        pacer.acquire()
        clock.now += 30.0
    assert clock.sleeps == []


def test_no_sixty_seconds_hold_more_calls_than_the_limit_across_threads():
    clock = FakeClock()
    pacer = MinutePacer(50, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def calls():
        for _ in range(40):
            pacer.acquire()
            with lock:
                stamps.append(clock())

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 160
    stamps.sort()
    # every call's window (the 60 s before and including it) holds at most 50 calls
    assert max(sum(1 for s in stamps if t - 60 < s <= t) for t in stamps) <= 50
    assert clock.now >= 1000.0 + 3 * 60  # 160 calls at 50 a minute: at least three windows on


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    state = write_state(tmp_path_factory.mktemp("pacer") / "wechat", followers=50, members=3)
    with start_simulator(state, seed=3) as handle:
        yield handle


def test_the_wecom_clients_of_one_corp_share_one_pacer_per_api(sim):
    path = "/cgi-bin/externalcontact/get_follow_user_list"
    with (
        WecomClient(sim.url, CORPID, WECOM_SECRET, calls_per_minute=2, retry=FAST_RETRIES) as first,
        WecomClient(sim.url, CORPID, WECOM_SECRET, calls_per_minute=2, retry=FAST_RETRIES) as second,
    ):
        pacer = first._pacer(path)
        assert pacer is second._pacer(path)  # WeCom counts per corp and API, not per client
        assert pacer is not first._pacer("/cgi-bin/externalcontact/list")
        clock = FakeClock()
        pacer._clock, pacer._sleep = clock, clock.sleep
        users = first.follow_users()
        assert second.follow_users() == users
        assert clock.sleeps == []
        assert first.follow_users() == users  # the third call of the minute waits for the window
        assert clock.sleeps == [60.0]
    with WecomClient(sim.url, CORPID, WECOM_SECRET, retry=FAST_RETRIES) as unpaced:
        assert unpaced._pacer(path) is None
