"""What a monthly run says on the console: a line per stage as it finishes, then a short summary.

Dagster's and dbt's own log lines go to the run's log file (``pipelines.run_log``); the console gets
what an operator acts on: rows landed and quarantined, OneIDs, the dbt build, the quality gate, the
month's reminder tasks (new and carried over), and where the dealer files, the run report and the
full log are.

``RunProgress`` is fed the run's Dagster events as they happen (``DagsterInstance.add_event_listener``)
and tallies them into a ``RunSummary``; the ``*_line(s)`` functions turn a summary into text. The
stage of a step is the Dagster group of the assets it materializes (``assets/owners.py`` names them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # the console's module loads without Dagster
    from dagster._utils.error import SerializableErrorInfo

# Dagster asset groups -> the stage an operator knows; the dbt layers are one stage, "dbt"
STAGE_OF_GROUP = {
    "ingestion": "ingestion",
    "identity": "identity",
    "seeds": "dbt",
    "staging": "dbt",
    "intermediate": "dbt",
    "marts": "dbt",
    "publish": "publish",
    "exports": "exports",
    "wechat": "wechat",
    "decisions": "decisions",
}
# the stages that get a line of their own when they finish (the others speak only when they fail)
TALKING_STAGES = ("ingestion", "identity", "dbt", "publish", "exports")


@dataclass
class RunSummary:
    """What the console says about a run, tallied from its materializations and check results."""

    files_ingested: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    oneids: int | None = None
    models_built: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    # a dbt test of severity warn that found rows (dbt's WARN): the run goes on, the console says so
    tests_warned: int = 0
    gate_passed: bool | None = None
    tables_published: int | None = None
    serving: str | None = None
    dealers: int | None = None
    exports_folder: str | None = None
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, step, message)
    # the month's reminder tasks (reminder_type, new, carried over), read from serving after the run
    tasks: list[tuple[str, int, int]] = field(default_factory=list)

    def record_materialization(self, stage: str, key: tuple[str, ...], metadata: Mapping[str, object]):
        """Add one asset materialization's metadata (plain values) to the tally."""
        if stage == "ingestion":
            if key == ("landing", "quarantine"):
                self.rows_quarantined += int(metadata.get("rows_quarantined_this_run", 0))
            elif key == ("landing", "file_manifest"):
                self.files_ingested += int(metadata.get("files_ingested", 0))
            elif "rows_typed" in metadata:
                self.rows_landed += int(metadata["rows_typed"])
        elif stage == "identity" and key == ("identity", "oneid_map"):
            self.oneids = int(metadata["oneids"])
        elif stage == "dbt":
            self.models_built += 1
        elif stage == "publish" and key == ("serving", "database"):
            self.gate_passed = True
            tables = metadata.get("tables")
            self.tables_published = len(tables) if isinstance(tables, Mapping) else None
            self.serving = str(metadata.get("path")) if metadata.get("path") else None
        elif stage == "exports" and key == ("exports", "dealer_files"):
            self.dealers = int(metadata.get("dealers", 0))
            self.exports_folder = str(metadata.get("folder")) if metadata.get("folder") else None

    def record_check(self, stage: str, passed: bool, warning: bool = False) -> None:
        """One check's result; ``warning``: its severity is warn (a dbt test with
        ``severity: warn``), so not passing it is a warning, not a failure."""
        if stage == "dbt":
            if passed:
                self.tests_passed += 1
            elif warning:
                self.tests_warned += 1
            else:
                self.tests_failed += 1

    def record_failure(self, stage: str, step: str, message: str) -> None:
        if stage == "publish" and "quality gate failed" in message:
            self.gate_passed = False
        self.failures.append((stage, step, message))

    @property
    def tasks_new(self) -> int:
        return sum(new for _, new, _ in self.tasks)

    @property
    def tasks_carried(self) -> int:
        return sum(carried for _, _, carried in self.tasks)


def stage_line(stage: str, summary: RunSummary) -> str | None:
    """The console line of a stage that just finished (``None``: this stage says nothing)."""
    if stage == "ingestion":
        text = (
            f"{summary.files_ingested:,} new files, {summary.rows_landed:,} rows landed, "
            f"{summary.rows_quarantined:,} quarantined"
        )
    elif stage == "identity" and summary.oneids is not None:
        text = f"{summary.oneids:,} OneIDs"
    elif stage == "dbt":
        warned = f", {summary.tests_warned:,} warned" if summary.tests_warned else ""
        failed = f", {summary.tests_failed:,} failed" if summary.tests_failed else ""
        text = f"{summary.models_built:,} models built, {summary.tests_passed:,} tests passed{warned}{failed}"
    elif stage == "publish" and summary.gate_passed:
        text = f"quality gate passed; {summary.tables_published or 0} tables published to {summary.serving}"
    elif stage == "exports" and summary.dealers is not None:
        text = f"files for {summary.dealers:,} dealers in {summary.exports_folder}"
    else:
        return None
    return f"  {stage:<10} {text}"


FAILURE_PREFIX = "dagster._core.definitions.events.Failure: "  # an asset's dg.Failure: its text says it


def readable(message: str) -> str:
    message = message.strip()
    return message.removeprefix(FAILURE_PREFIX)


# what Dagster wraps an exception raised in an asset's code in: its own message only names the op
# ("Error occurred while executing op ..."); what the asset raised is its cause
STEP_ERROR_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}


def failure_message(error: SerializableErrorInfo) -> str:
    """The message of a step's failure (a ``SerializableErrorInfo``) as the asset raised it: the
    wrappers Dagster puts around it followed down to their cause, so the console names the error
    itself (``ValueError: ...``) and not the op it happened in."""
    while error.cls_name in STEP_ERROR_WRAPPERS and error.cause is not None:
        error = error.cause
    return error.message


def first_line(message: str) -> str:
    lines = [line.strip() for line in readable(message).splitlines() if line.strip()]
    return lines[0] if lines else "failed"


def gate_text(summary: RunSummary) -> str:
    return {True: "gate passed", False: "gate FAILED", None: "not published"}[summary.gate_passed]


def totals_text(summary: RunSummary) -> str:
    """The run in one phrase: rows landed and quarantined, OneIDs, gate, tasks."""
    parts = [f"{summary.rows_landed:,} rows landed ({summary.rows_quarantined:,} quarantined)"]
    if summary.oneids is not None:
        parts.append(f"{summary.oneids:,} OneIDs")
    parts.append(gate_text(summary))
    if summary.gate_passed:
        parts.append(
            f"{summary.tasks_new + summary.tasks_carried:,} tasks ({summary.tasks_new:,} new, "
            f"{summary.tasks_carried:,} carried over)"
        )
    return ", ".join(parts)


def where_lines(summary: RunSummary, report_dir: Path, log_file: Path) -> list[str]:
    lines = []
    if summary.exports_folder:
        lines.append(f"  dealer files: {summary.exports_folder}/<dealer_code>/")
    lines.append(f"  run report:   {report_dir}/")
    lines.append(f"  full log:     {log_file}")
    return lines


@dataclass(frozen=True)
class RunPlan:
    """Which stage each selected asset and step belongs to, from the asset graph (see ``plan_of``)."""

    stage_of_key: Mapping[tuple[str, ...], str]
    stage_of_step: Mapping[str, str]

    def steps_of(self, stage: str) -> set[str]:
        return {step for step, s in self.stage_of_step.items() if s == stage}


def plan_of(asset_graph, keys: Iterable) -> RunPlan:
    """The ``RunPlan`` of a run materializing ``keys`` (Dagster ``AssetKey``s) of ``asset_graph``.

    A step is an asset's op: the dbt models are two ops (the current-state models, the monthly ones)."""
    stage_of_key: dict[tuple[str, ...], str] = {}
    stage_of_step: dict[str, str] = {}
    for key in keys:
        node = asset_graph.get(key)
        stage = STAGE_OF_GROUP.get(node.group_name or "", "other")
        stage_of_key[tuple(key.path)] = stage
        stage_of_step[node.assets_def.op.name] = stage
    return RunPlan(stage_of_key, stage_of_step)


class RunProgress:
    """Listens to a run's events: tallies them into ``summary`` and, when the last step of a stage
    has succeeded, says the stage's line; a failed step is said at once. ``say`` writes a line to the
    console (``None``: only tally)."""

    def __init__(self, plan: RunPlan, say: Callable[[str], None] | None = None):
        self.summary = RunSummary()
        self._plan = plan
        self._say = say
        self._done: set[str] = set()

    def _stage(self, key: Iterable[str]) -> str:
        return self._plan.stage_of_key.get(tuple(key), "other")

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            key = tuple(materialization.asset_key.path)
            metadata = {name: value.value for name, value in materialization.metadata.items()}
            self.summary.record_materialization(self._stage(key), key, metadata)
        elif kind == "ASSET_CHECK_EVALUATION":
            from dagster import AssetCheckSeverity  # here: the console's module loads without Dagster

            evaluation = event.event_specific_data
            self.summary.record_check(
                self._stage(evaluation.asset_key.path),
                evaluation.passed,
                warning=evaluation.severity == AssetCheckSeverity.WARN,
            )
        elif kind == "STEP_FAILURE":
            stage = self._plan.stage_of_step.get(step) or self._stage_of_check(step)
            error = event.event_specific_data.error if event.event_specific_data else None
            message = failure_message(error) if error is not None else "failed"
            self.summary.record_failure(stage, step, message)
            self._emit(f"  {stage:<10} FAILED ({step}): {first_line(message)}")
        elif kind == "STEP_SUCCESS":
            self._done.add(step)
            stage = self._plan.stage_of_step.get(step)
            if stage in TALKING_STAGES and self._plan.steps_of(stage) <= self._done:
                line = stage_line(stage, self.summary)
                if line:
                    self._emit(line)

    def _stage_of_check(self, step: str) -> str:
        """The stage of a step outside the plan (an asset check's): the asset its key starts with."""
        for key, stage in self._plan.stage_of_key.items():
            if step.startswith("__".join(key)):
                return stage
        return "other"

    def _emit(self, line: str) -> None:
        if self._say is not None:
            self._say(line)


def month_tasks(serving: Path, month: str) -> list[tuple[str, int, int]]:
    """(reminder_type, new, carried) of month ``month``'s published list, in the types' order."""
    from assets.exports.lists import REMINDER_TYPES

    if not serving.exists():
        return []
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows = con.execute(
            "select reminder_type, count(*) filter (where not is_carried_over), count(*) filter (where "
            "is_carried_over) from reminders where month = ? group by 1",
            [dt.date.fromisoformat(f"{month}-01")],
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()
    order = list(REMINDER_TYPES)
    return sorted(rows, key=lambda r: order.index(r[0]) if r[0] in order else len(order))
