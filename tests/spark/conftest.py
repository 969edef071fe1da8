"""What every Spark test needs, and the one policy for when it is missing (docs/spark.md).

The Spark tests run whenever Java and the ``spark`` dependency group (pyspark, dbt-spark) are here:
``make test`` installs both where it can. Without one a test skips with a message naming what is
missing, except under CI (``CI`` set), where it fails instead. A developer may leave them out
with ``AFTERCARE_SKIP_SPARK=1`` (minutes of a local Spark session); CI may not.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def require_spark(what: str) -> None:
    """Skip (fail under CI) unless Java and the ``spark`` group are here, or when left out on purpose."""
    missing = []
    if not shutil.which("java"):
        missing.append("Java (a JRE 17: apt-get install openjdk-17-jre-headless)")
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        missing.append("pyspark and dbt-spark (uv sync --frozen --group spark)")
    if os.environ.get("CI"):
        if missing:
            pytest.fail(f"{what} needs {' and '.join(missing)}; docs/spark.md, and CI must not skip it")
        return
    if os.environ.get("AFTERCARE_SKIP_SPARK"):
        pytest.skip(f"{what} left out: AFTERCARE_SKIP_SPARK is set (docs/spark.md)")
    if not missing:
        return
    pytest.skip(f"{what} needs {' and '.join(missing)}; docs/spark.md")
