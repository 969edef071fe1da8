"""``aftercare`` refuses malformed arguments before a run starts (argparse exits 2 with a message)."""

from __future__ import annotations

import pytest

from pipelines.cli import build_parser


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--month", "2026-13"], "'2026-13' is not a month in the form YYYY-MM"),
        (
            ["run", "--month", "2026-11", "--pulls-through", "2026-10"],
            "'2026-10' is not a day in the form YYYY-MM-DD",
        ),
        (
            ["run", "--month", "2026-11", "--pulls-through", "2026-10-32"],
            "is not a day in the form YYYY-MM-DD",
        ),
    ],
)
def test_a_malformed_month_or_day_is_refused_before_the_run(argv, message, capsys):
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(argv)
    assert refused.value.code == 2
    assert message in capsys.readouterr().err


def test_a_well_formed_day_reaches_the_run():
    args = build_parser().parse_args(["run", "--month", "2026-11", "--pulls-through", "2026-10-30"])
    assert (args.month, args.pulls_through) == ("2026-11", "2026-10-30")
