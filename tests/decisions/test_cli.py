"""``aftercare tasks close|reopen|list|reasons``: the command line a dealer manager or ops uses."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from sources.decisions import read_decisions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    """A configuration whose paths.state is a fresh folder; returns that folder."""
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    monkeypatch.delenv("AFTERCARE_PATHS_STATE", raising=False)
    return tmp_path / "data" / "state"


def test_close_with_a_reason_then_list_it(state, capsys):
    code = main(
        [
            "tasks",
            "close",
            "a1b2c3d4e5f60718",
            "--reason",
            "sold",
            "--by",
            "wang.li",
            "--at",
            "2026-11-12 10:00",
            "--note",
            "sold to a neighbour",
        ]
    )
    assert code == 0
    assert (
        capsys.readouterr().out.strip()
        == "task a1b2c3d4e5f60718 closed (sold) by wang.li at 2026-11-12 10:00"
    )
    (decision,) = read_decisions(state)
    assert (decision.action, decision.reason, decision.note) == ("close", "sold", "sold to a neighbour")
    assert decision.decided_at == dt.datetime(2026, 11, 12, 10, 0)

    assert main(["tasks", "list"]) == 0
    assert capsys.readouterr().out.split() == [
        "2026-11-12",
        "10:00",
        "a1b2c3d4e5f60718",
        "close",
        "sold",
        "by",
        "wang.li",
    ]


def test_close_with_an_unknown_reason_is_refused_with_the_codes(state, capsys):
    assert main(["tasks", "close", "t1", "--reason", "lost", "--by", "wang.li"]) == 2
    out = capsys.readouterr().out
    assert "closing needs a reason" in out and "refuses_contact" in out
    assert read_decisions(state) == []


def test_close_without_a_reason_does_not_parse(state, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["tasks", "close", "t1", "--by", "wang.li"])
    assert exit_.value.code == 2
    assert "--reason" in capsys.readouterr().err
    assert read_decisions(state) == []


def test_reopen_then_the_list_of_one_task(state, capsys):
    assert main(["tasks", "close", "t1", "--reason", "moved", "--by", "a", "--at", "2026-10-02"]) == 0
    assert main(["tasks", "close", "t2", "--reason", "duplicate", "--by", "a", "--at", "2026-10-03"]) == 0
    assert main(["tasks", "reopen", "t1", "--by", "b", "--at", "2026-10-20 16:30"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "task t1 reopened by b at 2026-10-20 16:30"
    assert main(["tasks", "list", "--task", "t1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[3] for line in lines] == ["close", "reopen"]
    assert [d.task_id for d in read_decisions(state)] == ["t1", "t2", "t1"]


def test_a_bad_at_is_refused(state, capsys):
    assert main(["tasks", "reopen", "t1", "--by", "a", "--at", "12/11/2026"]) == 2
    assert "--at '12/11/2026' is not a date" in capsys.readouterr().out
    assert read_decisions(state) == []


def test_reasons_lists_codes_with_chinese_and_english_labels(state, capsys):
    assert main(["tasks", "reasons"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    assert lines[0].split() == ["sold", "车辆已出售", "(Vehicle", "sold)"]


def test_the_installed_command_writes_the_store(state, tmp_path):
    """As ops type it: a separate process, configuration from the environment."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "tasks",
            "close",
            "t9",
            "--reason",
            "wrong_number",
            "--by",
            "ops",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert [(d.task_id, d.reason, d.decided_by) for d in read_decisions(state)] == [
        ("t9", "wrong_number", "ops")
    ]
