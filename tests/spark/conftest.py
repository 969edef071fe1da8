"""What every Spark test needs, and the one policy for when it is missing (docs/spark.md).

The Spark tests are opt-in (``AFTERCARE_TEST_SPARK=1``): a local session costs seconds to minutes
and the ``spark`` dependency group (pyspark) is optional. Asked for, a test skips with a message
naming what is missing (a JRE, pyspark), except under CI (``CI`` set), where it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def require_spark(what: str) -> None:
    """Skip (fail under CI) unless the Spark tests are asked for and Java and pyspark are here."""
    if not os.environ.get("AFTERCARE_TEST_SPARK"):
        pytest.skip(f"{what} runs with AFTERCARE_TEST_SPARK=1 (a local Spark session; docs/spark.md)")
    missing = []
    if not shutil.which("java"):
        missing.append("Java (a JRE 17: apt-get install openjdk-17-jre-headless)")
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (uv sync --frozen --group spark)")
    if not missing:
        return
    message = f"{what} needs {' and '.join(missing)}; docs/spark.md"
    if os.environ.get("CI"):
        pytest.fail(message + ", and CI must not skip it")
    pytest.skip(message)
