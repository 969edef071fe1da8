"""Time a full follower pull through the simulator: ``python -m tests.bench.wechat_sim --followers 600000``.

The simulator runs as its own process (``aftercare simulate``), as in the demo, so the client and
the server do not share one interpreter lock. The pull is the real asset logic
(``assets.wechat.followers.sync_followers``) into a scratch DuckDB file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=600_000)
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--faults", type=float, default=0.0)
    args = parser.parse_args()

    from assets.wechat.followers import sync_followers
    from sources.wechat import OfficialAccountClient
    from sources.wechat_sim.synthetic import APPID, OA_SECRET, write_state

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        state = write_state(Path(tmp) / "wechat", followers=args.followers, members=4)
        print(
            f"state with {args.followers} followers written in {time.perf_counter() - t0:.1f} s", flush=True
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "simulate",
                "--data",
                str(state),
                "--port",
                str(args.port),
                "--faults",
                str(args.faults),
            ],
        )
        try:
            url = f"http://127.0.0.1:{args.port}"
            t0 = time.perf_counter()
            while True:
                try:
                    httpx.get(url + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.perf_counter() - t0 > 120:
                        raise SystemExit("the simulator did not start") from None
                    time.sleep(0.2)
            print(f"simulator up in {time.perf_counter() - t0:.1f} s", flush=True)
            con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
            with OfficialAccountClient(url, APPID, OA_SECRET, max_concurrency=args.concurrency) as client:
                t0 = time.perf_counter()
                report = sync_followers(client, con)
                elapsed = time.perf_counter() - t0
            counters = httpx.get(url + "/__sim/counters").json()["calls"]
            print(
                f"full pull: {report.listed} followers listed in {report.list_pages} pages, "
                f"{report.fetched} user infos in {report.info_calls} batchget calls: {elapsed:.1f} s "
                f"(concurrency {args.concurrency}; simulator counted {counters})",
                flush=True,
            )
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
