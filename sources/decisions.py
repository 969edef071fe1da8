"""Dealer managers' decisions on reminder tasks: a small append-only store under ``paths.state``.

A manager closes a task with a reason (the customer sold the car, moved, refuses contact, ...) or
reopens it. The dashboard and ``aftercare tasks close|reopen`` write here; the pipeline reads the
store as a source (asset ``["decisions", "task_decisions"]``), so neither the dashboard nor the CLI
ever writes the pipeline's database (SOURCES.md "Dashboard decisions").

The store is SQLite because it is written by several short-lived processes (dashboard sessions, the
CLI) while a run may be reading it; SQLite's file locking serialises those writers, DuckDB's
single-writer lock would not let them coexist with a run. Rows are never updated or deleted: the
decision in force for a task at a cut-off is its latest row decided on or before that cut-off, so a
rerun of an old month sees exactly the decisions it saw the first time.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sources.clock import now_local
from sources.state_store import open_state_store

STORE_NAME = "decisions.sqlite"
ACTIONS = ("close", "reopen")
# RULES.md "Carry-over": the reasons a dealer manager may close a task with; codes, Chinese and
# English labels live in one seed that dbt and Python both read
CLOSE_REASONS_SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "task_close_reasons.csv"

_DDL = """
create table if not exists task_decisions (
    decision_id integer primary key autoincrement,
    task_id text not null,
    action text not null check (action in ('close', 'reopen')),
    reason text,
    decided_by text not null,
    decided_at text not null,
    dealer_code text,
    month text,
    note text
)
"""


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class CloseReason:
    code: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class TaskDecision:
    decision_id: int
    task_id: str
    action: str
    reason: str | None
    decided_by: str
    decided_at: dt.datetime
    dealer_code: str | None
    month: str | None
    note: str | None


@cache
def close_reasons() -> tuple[CloseReason, ...]:
    with CLOSE_REASONS_SEED.open(encoding="utf-8", newline="") as handle:
        return tuple(CloseReason(r["code"], r["label_zh"], r["label_en"]) for r in csv.DictReader(handle))


def store_path(state_dir: Path) -> Path:
    return Path(state_dir) / STORE_NAME


def connect(state_dir: Path) -> sqlite3.Connection:
    """Open (and create if needed) the store (``sources.state_store``)."""
    con = open_state_store(store_path(state_dir))
    con.execute(_DDL)
    return con


def record_decision(
    state_dir: Path,
    task_id: str,
    action: str,
    decided_by: str,
    reason: str | None = None,
    decided_at: dt.datetime | None = None,
    dealer_code: str | None = None,
    month: str | None = None,
    note: str | None = None,
) -> TaskDecision:
    """Append one decision. ``close`` needs a reason from ``close_reasons()``; ``reopen`` takes none."""
    task_id = (task_id or "").strip()
    decided_by = (decided_by or "").strip()
    if not task_id:
        raise DecisionError("a task id is required")
    if not decided_by:
        raise DecisionError("who decided is required (--by USER)")
    if action not in ACTIONS:
        raise DecisionError(f"unknown action {action!r}; use close or reopen")
    codes = [r.code for r in close_reasons()]
    if action == "close" and reason not in codes:
        raise DecisionError(f"closing needs a reason, one of: {', '.join(codes)} (got {reason!r})")
    if action == "reopen":
        reason = None
    decided_at = decided_at or now_local()
    con = connect(state_dir)
    try:
        with con:
            cursor = con.execute(
                "insert into task_decisions "
                "(task_id, action, reason, decided_by, decided_at, dealer_code, month, note) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    action,
                    reason,
                    decided_by,
                    decided_at.isoformat(sep=" "),
                    dealer_code,
                    month,
                    note,
                ),
            )
        decision_id = int(cursor.lastrowid or 0)
    finally:
        con.close()
    return TaskDecision(
        decision_id, task_id, action, reason, decided_by, decided_at, dealer_code, month, note
    )


def _row(row: tuple) -> TaskDecision:
    decision_id, task_id, action, reason, by, at, dealer, month, note = row
    return TaskDecision(
        decision_id, task_id, action, reason, by, dt.datetime.fromisoformat(at), dealer, month, note
    )


def read_decisions(state_dir: Path) -> list[TaskDecision]:
    """Every decision ever recorded, oldest first (empty when the store does not exist yet)."""
    if not store_path(state_dir).exists():
        return []
    con = connect(state_dir)
    try:
        rows = con.execute(
            "select decision_id, task_id, action, reason, decided_by, decided_at, dealer_code, month, note "
            "from task_decisions order by decided_at, decision_id"
        ).fetchall()
    finally:
        con.close()
    return [_row(r) for r in rows]


def decisions_in_force(decisions: list[TaskDecision], cutoff: dt.datetime) -> dict[str, TaskDecision]:
    """Per task, its latest decision made at or before ``cutoff`` (what a run with that cut-off honours)."""
    in_force: dict[str, TaskDecision] = {}
    for decision in sorted(decisions, key=lambda d: (d.decided_at, d.decision_id)):
        if decision.decided_at <= cutoff:
            in_force[decision.task_id] = decision
    return in_force
