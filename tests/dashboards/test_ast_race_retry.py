"""The AppTest guard against CPython 3.11's AST recursion-depth race (tests/dashboards/conftest.py):
a run failing with exactly that error is run once more; any other failure stands."""

from __future__ import annotations

from types import SimpleNamespace

from tests.dashboards.conftest import CPYTHON_AST_RACE, once_more_on_the_ast_race


def runs(*exceptions):
    """A stand-in for AppTest.run returning, call after call, a run with these exceptions."""
    results = iter(exceptions)
    calls = []

    def run(self):
        calls.append(1)
        return SimpleNamespace(exception=[SimpleNamespace(message=m) for m in next(results)])

    return run, calls


def test_a_run_lost_to_the_race_is_run_once_more():
    run, calls = runs([f"{CPYTHON_AST_RACE} (before=42, after=104)"], [])
    assert once_more_on_the_ast_race(run)(None).exception == []
    assert len(calls) == 2


def test_any_other_failure_stands_and_a_clean_run_is_not_repeated():
    run, calls = runs(["KeyError: 'dealer_code'", f"{CPYTHON_AST_RACE} (before=1, after=2)"])
    assert [e.message for e in once_more_on_the_ast_race(run)(None).exception][0] == "KeyError: 'dealer_code'"
    assert len(calls) == 1
    run, calls = runs([])
    assert once_more_on_the_ast_race(run)(None).exception == []
    assert len(calls) == 1
    # the race twice in a row: the second run's failure is the test's
    run, calls = runs([CPYTHON_AST_RACE], [CPYTHON_AST_RACE])
    assert once_more_on_the_ast_race(run)(None).exception[0].message == CPYTHON_AST_RACE
    assert len(calls) == 2


def test_the_app_runs_without_magic_in_the_suite_and_in_production():
    """No page is parsed into AST objects, the one step of Streamlit's that meets the race."""
    from streamlit import config

    from dashboards.launcher import streamlit_command

    assert config.get_option("runner.magicEnabled") is False
    command = streamlit_command("127.0.0.1", 8501)
    assert command[command.index("--runner.magicEnabled") + 1] == "false"
