"""The dashboard bench's arithmetic and table (the bench itself runs by hand on a real database)."""

import pytest

from tests.bench.dashboard import Sample, markdown_table, p95, summarise


def test_p95_is_the_nearest_rank_sample():
    assert p95([1.0]) == 1.0
    # 20 values 1..20: 95 % of 20 is 19, the 19th smallest
    assert p95([float(v) for v in range(20, 0, -1)]) == 19.0
    # 21 values: ceil(19.95) = 20th smallest
    assert p95([float(v) for v in range(1, 22)]) == 20.0
    with pytest.raises(ValueError):
        p95([])


def test_summary_and_table_split_first_and_warm_loads():
    samples = [
        Sample("analyst", "overview", 0, 3.0),
        Sample("analyst", "overview", 1, 1.0),
        Sample("analyst", "overview", 2, 2.0),
        Sample("dealer_manager", "workspace", 0, 0.5),
        Sample("dealer_manager", "workspace", 1, 0.25),
    ]
    summary = summarise(samples)
    overview, workspace = summary["rows"]
    assert overview == {
        "role": "analyst",
        "page": "overview",
        "first_s": 3.0,
        "warm_median_s": 1.5,
        "max_s": 3.0,
        "samples": 3,
    }
    assert workspace["first_s"] == 0.5 and workspace["warm_median_s"] == 0.25
    # 5 samples: ceil(4.75) = 5th smallest, the slowest
    assert summary["p95_s"] == 3.0 and summary["p95_first_s"] == 3.0 and summary["p95_warm_s"] == 2.0
    assert summary["worst"] == {"role": "analyst", "page": "overview", "attempt": 0, "s": 3.0}
    assert summary["passed"] is False

    table = markdown_table(summary).splitlines()
    assert table[2] == "| analyst | overview | 3.00 | 1.50 | 3.00 | 3 |"  # slowest first
    assert table[3] == "| dealer_manager | workspace | 0.50 | 0.25 | 0.50 | 2 |"
    assert "p95 over 5 samples: **3.00 s**" in table[-1] and "NOT met" in table[-1]
