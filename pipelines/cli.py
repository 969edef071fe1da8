"""The ``aftercare`` command line.

Each subcommand parses its arguments here and hands over to the module that does the work, so
importing the CLI stays fast (Dagster, dbt and Streamlit load only for the commands that need them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sources.settings import ConfigError

Handler = Callable[[argparse.Namespace], int]


def _month(value: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(f"{value}-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month in the form YYYY-MM") from exc
    return value


def _day(value: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day in the form YYYY-MM-DD") from exc
    return value


def _cmd_generate(args: argparse.Namespace) -> int:
    from sources.sample_oem.cli import generate_command

    return generate_command(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.runner import run_command

    return run_command(args)


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboards.launcher import dashboard_command

    return dashboard_command(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo import demo_command

    return demo_command(args)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from sources.wechat_sim.cli import simulate_command

    return simulate_command(args)


def _cmd_callback(args: argparse.Namespace) -> int:
    from sources.wechat.callback_server import callback_command

    return callback_command(args)


def _cmd_users(args: argparse.Namespace) -> int:
    from dashboards.accounts import users_command

    return users_command(args)


def _cmd_check(args: argparse.Namespace) -> int:
    from pipelines.check import check_command

    return check_command(args)


def _cmd_tasks(args: argparse.Namespace) -> int:
    from pipelines.tasks import tasks_command

    return tasks_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftercare",
        description="After-sales customer data platform: ingest, OneID, customer 360, reminders, KPIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="write a synthetic OEM: export files, WeChat state, ground truth")
    p.add_argument("--out", required=True, help="output folder (gets inbox/, wechat/, truth/)")
    p.add_argument("--vehicles", type=int, default=20_000, help="number of vehicles (S=20000, M=1000000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--end", type=_month, default=None, help="last month of data, YYYY-MM (default: last month)"
    )
    p.add_argument("--months", type=int, default=24, help="months of service history")
    p.set_defaults(handler=_cmd_generate)

    p = sub.add_parser("run", help="materialize the asset graph for month M (as of the end of M-1)")
    p.add_argument("--month", required=True, type=_month, help="the month to prepare, YYYY-MM")
    p.add_argument("--config", default=None, help="aftercare.toml to use")
    p.add_argument(
        "--select", default=None, help="only these assets, in Dagster selection syntax (e.g. group:ingestion)"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when the run has warnings (it still publishes)"
    )
    p.add_argument(
        "--pulls-through",
        default=None,
        type=_day,
        metavar="YYYY-MM-DD",
        help=(
            "the daily WeCom pull instead: consultants' statistics and group-message results up to "
            "this day of M-1, and the contacts snapshot (what the nightly schedule runs; catches up "
            "after an outage)"
        ),
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="Dagster's and dbt's log on the console too (always in the run's log file)",
    )
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("check", help="validate configuration, secrets, paths, free disk and API reachability")
    p.add_argument("--config", default=None, help="aftercare.toml to use")
    p.set_defaults(handler=_cmd_check)

    p = sub.add_parser("dashboard", help="start the Streamlit dashboard on the serving database")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--config", default=None)
    p.set_defaults(handler=_cmd_dashboard)

    p = sub.add_parser("demo", help="generate a sample OEM, run the last 12 months, start the dashboard")
    p.add_argument("--vehicles", type=int, default=20_000)
    p.add_argument("--months", type=int, default=12, help="monthly runs to replay")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-dashboard", action="store_true", help="stop after the runs (CI, scripts)")
    p.add_argument("--config", default=None)
    p.add_argument(
        "-v", "--verbose", action="store_true", help="every run's Dagster and dbt log on the console too"
    )
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("simulate", help="serve the WeChat OA and WeCom APIs on loopback from generated state")
    p.add_argument("--data", required=True, help="folder with the generator's wechat/ state (or its parent)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8780)
    p.add_argument("--faults", type=float, default=0.0, help="share of answers that fail (0..1)")
    p.add_argument("--callback", default=None, help="URL to push WeChat events to")
    p.set_defaults(handler=_cmd_simulate)

    p = sub.add_parser("callback", help="receive WeChat event pushes and append them durably")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8790)
    p.add_argument("--config", default=None)
    p.set_defaults(handler=_cmd_callback)

    from dashboards.accounts import add_parser as add_users_parser

    add_users_parser(sub)
    sub.choices["users"].set_defaults(handler=_cmd_users)

    from pipelines.tasks import add_parser as add_tasks_parser

    add_tasks_parser(sub)
    sub.choices["tasks"].set_defaults(handler=_cmd_tasks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"aftercare: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
