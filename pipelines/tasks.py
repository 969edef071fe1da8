"""``aftercare tasks close|reopen|list``: a manager's decision on a reminder task, from the shell.

Writes the same decisions store as the dashboard (``sources/decisions.py``); the next run honours
it. ``--at`` records a decision taken earlier (on paper, by phone) at the time it was taken.
"""

from __future__ import annotations

import argparse
import datetime as dt

from sources.decisions import DecisionError, close_reasons, read_decisions, record_decision
from sources.settings import load_settings


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise DecisionError(f"--at {value!r} is not a date or date-time (YYYY-MM-DD[ HH:MM])") from exc


def tasks_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    state = settings.paths.state
    try:
        if args.tasks_command == "reasons":
            for reason in close_reasons():
                print(f"{reason.code:20} {reason.label_zh}  ({reason.label_en})")
            return 0
        if args.tasks_command == "list":
            for d in read_decisions(state):
                if args.task and d.task_id != args.task:
                    continue
                print(
                    f"{d.decided_at:%Y-%m-%d %H:%M}  {d.task_id}  {d.action:6}  {d.reason or '-':20} by "
                    f"{d.decided_by}"
                )
            return 0
        decision = record_decision(
            state,
            args.task_id,
            args.tasks_command,
            args.by,
            reason=getattr(args, "reason", None),
            decided_at=_when(args.at),
            note=args.note,
        )
    except DecisionError as exc:
        print(f"aftercare tasks: {exc}")
        return 2
    what = f"closed ({decision.reason})" if decision.action == "close" else "reopened"
    print(f"task {decision.task_id} {what} by {decision.decided_by} at {decision.decided_at:%Y-%m-%d %H:%M}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("tasks", help="close or reopen a reminder task (a dealer manager's decision)")
    tasks = p.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    close = tasks.add_parser("close", help="close a task with a reason; it no longer carries over")
    close.add_argument("task_id")
    close.add_argument("--reason", required=True, help="a reason code (aftercare tasks reasons)")
    reopen = tasks.add_parser("reopen", help="reopen a closed task; the carry-over rules apply again")
    reopen.add_argument("task_id")
    for action in (close, reopen):
        action.add_argument("--by", required=True, help="who decided (dashboard user name)")
        action.add_argument("--at", default=None, help="when it was decided (default: now, Beijing time)")
        action.add_argument("--note", default=None)
        action.add_argument("--config", default=None)
    listing = tasks.add_parser("list", help="the decisions recorded so far")
    listing.add_argument("--task", default=None)
    listing.add_argument("--config", default=None)
    tasks.add_parser("reasons", help="the reason codes a task may be closed with").add_argument(
        "--config", default=None
    )
