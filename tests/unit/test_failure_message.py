"""The console's FAILED line names the error the asset raised, not Dagster's wrapper around it."""

from __future__ import annotations

import dagster as dg

from pipelines.progress import RunPlan, RunProgress, failure_message


@dg.asset(group_name="wechat")
def pulls_that_break():
    raise ValueError("the consultants' answer has no 'userid' (WeCom /cgi-bin/user/list)")


@dg.asset(group_name="wechat")
def pulls_that_fail_on_purpose():
    raise dg.Failure(description="WeCom customer sync: 60011 no privilege to access/modify contact")


def _step_failure(asset) -> dg.DagsterEvent:
    result = dg.materialize([asset], raise_on_error=False)
    (event,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return event


def test_an_exception_raised_in_an_asset_is_named_not_dagsters_wrapper():
    error = _step_failure(pulls_that_break).event_specific_data.error
    assert error.cls_name == "DagsterExecutionStepExecutionError"  # what the console used to show
    assert failure_message(error).startswith(
        "ValueError: the consultants' answer has no 'userid' (WeCom /cgi-bin/user/list)"
    )


def test_a_failure_keeps_its_own_description():
    error = _step_failure(pulls_that_fail_on_purpose).event_specific_data.error
    assert "60011 no privilege" in failure_message(error)


def test_the_failed_stage_line_carries_the_cause():
    said = []
    event = _step_failure(pulls_that_break)
    progress = RunProgress(
        RunPlan({("pulls_that_break",): "wechat"}, {event.step_key: "wechat"}), said.append
    )

    class Entry:
        dagster_event = event

    progress(Entry())
    assert said == [
        "  wechat     FAILED (pulls_that_break): ValueError: the consultants' answer has no 'userid' "
        "(WeCom /cgi-bin/user/list)"
    ]
