# aftercare: every task a newcomer, CI and the scheduler need, over uv.
# `make demo` and `make test` work on a fresh machine: they install uv and the locked packages first.

PYTHON ?= python3
# uv: the one on PATH, else the one installed as a module of $(PYTHON), else a private copy in
# .tools/ (a venv, which a PEP 668 "externally managed" system Python such as Debian 12's accepts)
UV := $(shell if command -v uv >/dev/null 2>&1; then echo uv; \
	elif $(PYTHON) -m uv --version >/dev/null 2>&1; then echo "$(PYTHON) -m uv"; \
	else echo "$(CURDIR)/.tools/bin/uv"; fi)
RUN := $(UV) run --frozen
SCALE ?= S
# `make test` runs on this many pytest-xdist workers: the suite waits on dbt, Dagster and JVM
# subprocesses (~140 % of two cores with two workers), so a third worker fills the gaps (17:55 of
# pytest against 19:55, docs/benchmarks.md "The test suite's time"); TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 3

.PHONY: help install demo test bench bench-dashboard lint format dagster dashboard clean

help:
	@echo "make demo    - generate a sample OEM, run the last 12 months, open the dashboard"
	@echo "make test    - the test suite"
	@echo "make bench   - time and memory per stage (SCALE=S|M|L, ENGINE=duckdb|spark)"
	@echo "make bench-dashboard - page load times per role in Chromium (SERVING=path, default data/bench/\$$SCALE)"
	@echo "make lint    - ruff and sqlfluff"
	@echo "make dagster - the Dagster UI on this project"

.uv-ready:
	@$(UV) --version >/dev/null 2>&1 || { $(PYTHON) -m venv .tools && \
		.tools/bin/pip install --quiet --disable-pip-version-check uv; }
	@touch .uv-ready

# --compile-bytecode: the packages' .pyc are written once here. Where PYTHONDONTWRITEBYTECODE is
# set (as on this project's machines) nothing would ever write them, and every process (each
# `aftercare run`, Dagster step, dashboard, test subprocess) compiled dagster, Great Expectations
# and the rest again: ~6 s of CPU per process
install: .uv-ready
	$(UV) sync --frozen --compile-bytecode
	$(RUN) python -c "from assets.transform.project import ensure_manifest; ensure_manifest()"

demo: install
	$(RUN) aftercare demo

# the dashboard's browser tests need Chromium: installed when possible, else they skip (fail under CI)
# the Spark engine's sameness test needs Java (installed when possible, else it skips; fails under
# CI) and the optional `spark` dependency group (pyspark, dbt-spark), synced here for the tests
# only: `make install` and `make demo` stay without it (docs/spark.md)
test: install
	@./.ci/install-chromium || echo "make test: no Chromium, the real-browser dashboard tests will skip"
	@./.ci/install-java || echo "make test: no Java, the Spark engine's sameness test will skip"
	$(UV) sync --frozen --compile-bytecode --group spark
	$(RUN) --group spark pytest -n $(TEST_WORKERS)

# ENGINE=spark: dbt on a local Spark session (needs Java and the spark group, docs/spark.md)
ENGINE ?= duckdb
bench: install
	@if [ "$(ENGINE)" = spark ]; then $(UV) sync --frozen --compile-bytecode --group spark; fi
	$(RUN) $(if $(filter spark,$(ENGINE)),--group spark) python -m tests.bench.run --scale $(SCALE) --engine $(ENGINE)

# the dashboard on a copy of a published database (by default the one `make bench` left), every
# page of every role opened in Chromium; see docs/benchmarks.md
SERVING ?= data/bench/$(SCALE)/serving.duckdb
bench-dashboard: install
	@./.ci/install-chromium || echo "make bench-dashboard: no Chromium"
	$(RUN) python -m tests.bench.dashboard --serving $(SERVING) --json bench/results/dashboard-$(SCALE).json

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	cd dbt_project && AFTERCARE_PATHS_WAREHOUSE=$(CURDIR)/data/lint.duckdb $(RUN) sqlfluff lint models

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# the instance under <paths.data>/dagster_home, its run queue letting one warehouse run go at a time
dagster: install
	DAGSTER_HOME="$$($(RUN) python -m pipelines.instance)" $(RUN) dagster dev -w workspace.yaml

dashboard: install
	$(RUN) aftercare dashboard

clean:
	rm -rf data dbt_project/target .pytest_cache .uv-ready .tools
