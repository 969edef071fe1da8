"""Candidate serving databases: each run builds its own before the quality gate, so two runs never
share one; a candidate left by a run that died before its swap is removed by the next run."""

from __future__ import annotations

from pathlib import Path

CANDIDATE_SUFFIX = ".next"


def candidate_path(serving: Path, run_id: str) -> Path:
    """The file a run builds its serving database in before the gate: one per run."""
    return serving.with_name(f"{serving.name}.{run_id}{CANDIDATE_SUFFIX}")


def remove_stale_candidates(serving: Path) -> list[Path]:
    """Candidate files (and their WALs) left by runs that died before their swap."""
    removed = []
    for path in serving.parent.glob(f"{serving.name}.*"):
        if path.name.endswith((CANDIDATE_SUFFIX, f"{CANDIDATE_SUFFIX}.wal")):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
