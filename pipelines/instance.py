"""The Dagster instance aftercare runs in: ``DAGSTER_HOME`` and its ``dagster.yaml``.

Runs launched by the Dagster daemon (the month-end schedule, the inbox sensor, the UI) wait in
Dagster's run queue; the queue lets one run that writes the warehouse go at a time (every job of
the code location carries the tag ``WAREHOUSE_TAG``, limited to 1). The run lock
(``pipelines.run_lock``) is the second line: it also covers ``aftercare run`` from a shell, which
does not pass through the queue.

``python -m pipelines.instance`` prepares the home (``make dagster`` uses it) and prints its path.
"""

from __future__ import annotations

import os
from pathlib import Path

from sources.settings import Settings, load_settings

WAREHOUSE_TAG = "aftercare/warehouse"
JOB_TAGS = {WAREHOUSE_TAG: "writer"}

DAGSTER_YAML = f"""\
# written by aftercare (pipelines/instance.py); keep the concurrency section if you edit it.
# One run that writes the warehouse at a time: every aftercare job carries the tag {WAREHOUSE_TAG}.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{WAREHOUSE_TAG}"
        limit: 1
"""


def dagster_home(settings: Settings) -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or Path(settings.paths.data) / "dagster_home")


def ensure_instance(home: Path) -> Path:
    """``home`` exists with a ``dagster.yaml`` that limits warehouse runs to one (an existing file
    without that limit gets it appended)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    elif WAREHOUSE_TAG not in config.read_text():
        text = config.read_text()
        if "concurrency:" in text:
            raise SystemExit(
                f"{config} has a concurrency section without the {WAREHOUSE_TAG} limit: add it (see "
                "pipelines/instance.py)"
            )
        config.write_text(text.rstrip() + "\n\n" + DAGSTER_YAML)
    return home


if __name__ == "__main__":
    print(ensure_instance(dagster_home(load_settings())))
