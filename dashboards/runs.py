"""The last runs' reports under ``paths.runs/<run_id>/``: the quality gate and its Data Docs.

The publish step writes ``quality_gate.json`` (``passed``, ``checks``: name, table, passed,
detail; ``data_docs``: the GX site's index) next to ``quality_gate.md`` for every run that reached
the gate; ``server.py`` serves a run's ``data_docs/`` folder to admins.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunReport:
    run_id: str
    finished_at: dt.datetime
    passed: bool | None  # None: the report cannot be read
    checks: list[dict]
    has_data_docs: bool
    error: str | None = None

    @property
    def failed_checks(self) -> list[dict]:
        return [c for c in self.checks if not c.get("passed")]

    @property
    def data_docs_url(self) -> str | None:
        return f"/admin/runs/{self.run_id}/data_docs/index.html" if self.has_data_docs else None


def read_run(folder: Path) -> RunReport | None:
    gate = folder / "quality_gate.json"
    if not gate.is_file():
        return None
    finished = dt.datetime.fromtimestamp(gate.stat().st_mtime)
    has_docs = (folder / "data_docs" / "index.html").is_file()
    try:
        report = json.loads(gate.read_text(encoding="utf-8"))
        return RunReport(
            folder.name, finished, bool(report.get("passed")), list(report.get("checks", [])), has_docs
        )
    except (OSError, ValueError) as exc:
        return RunReport(folder.name, finished, None, [], has_docs, f"unreadable quality_gate.json: {exc}")


def last_runs(runs_dir: Path, limit: int = 12) -> list[RunReport]:
    """The runs that reached the quality gate, newest first."""
    if not runs_dir.is_dir():
        return []
    reports = [r for folder in runs_dir.iterdir() if folder.is_dir() and (r := read_run(folder)) is not None]
    return sorted(reports, key=lambda r: r.finished_at, reverse=True)[:limit]
