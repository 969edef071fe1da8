"""Run the simulator with uvicorn, in the foreground (CLI) or in a background thread (tests, demo)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from sources.wechat_sim.app import build_app
from sources.wechat_sim.simulator import Simulator
from sources.wechat_sim.state import load_state


class SimulatorHandle:
    """A simulator serving in a background thread. ``with start_simulator(...) as sim: sim.url``."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, simulator: Simulator, host: str):
        self._server = server
        self._thread = thread
        self.simulator = simulator
        self.host = host

    @property
    def port(self) -> int:
        return self._server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def make_server(simulator: Simulator, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(simulator),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,  # clients keep connections open between batches
    )
    return uvicorn.Server(config)


def start_simulator(
    state_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: float = 0.0,
    callback_url: str | None = None,
    seed: int = 0,
) -> SimulatorHandle:
    simulator = Simulator.build(load_state(state_dir), faults=faults, callback_url=callback_url, seed=seed)
    server = make_server(simulator, host, port)
    thread = threading.Thread(target=server.run, name="wechat-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the WeChat simulator could not start on {host}:{port} (port in use?)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the WeChat simulator did not start within 20 s")
        time.sleep(0.02)
    return SimulatorHandle(server, thread, simulator, host)
