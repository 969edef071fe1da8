"""The asset graph as a Dagster user sees it, compared with a checked-in snapshot.

``tests/snapshots/asset_graph.json`` lists every asset of the code location: its key, group, kinds,
owners and upstream keys. A change to the graph (a new asset, a moved dependency, another group)
fails here until the snapshot is rewritten on purpose, so the diff of a pull request shows the
graph's change next to the code's. To rewrite it after a deliberate change:

    AFTERCARE_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_asset_graph.py

Besides the snapshot, rules every asset keeps: a layer group (never ``default``), owners, kinds, a
description, no deprecated ``compute_kind``, upstream keys that are assets of the location, and
each resource key typed one way in every asset and check that asks for it.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"
UPDATE = os.environ.get("AFTERCARE_UPDATE_SNAPSHOT") == "1"


@pytest.fixture(scope="module")
def graph():
    return defs.get_repository_def().asset_graph


def describe(graph) -> list[dict]:
    """One entry per asset, sorted by key: what the snapshot holds."""
    entries = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        entries.append(
            {
                "key": key.to_user_string(),
                "group": node.group_name,
                "kinds": sorted(node.kinds),
                "owners": sorted(node.owners),
                "deps": sorted(p.to_user_string() for p in node.parent_keys),
            }
        )
    return entries


def test_the_graph_matches_its_snapshot(graph):
    current = describe(graph)
    if UPDATE:
        # one asset per line: a change to the graph is a one-line diff
        lines = ",\n".join(" " + json.dumps(entry, ensure_ascii=False) for entry in current)
        SNAPSHOT.write_text(f"[\n{lines}\n]\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert [e["key"] for e in current] == [e["key"] for e in expected], (
        "the set of assets changed; rewrite the snapshot if that is intended "
        "(AFTERCARE_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_asset_graph.py)"
    )
    changed = [(e, c) for e, c in zip(expected, current, strict=True) if e != c]
    assert not changed, f"assets whose group, kinds, owners or deps changed (expected, now): {changed[:5]}"


def test_every_asset_is_grouped_owned_kinded_and_described(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name and node.group_name != "default", f"{name} is in no group"
        assert node.owners, f"{name} has no owners (assets/owners.py)"
        assert node.kinds, f"{name} has no kinds"
        assert node.description, f"{name} has no description"
        assert "dagster/compute_kind" not in node.tags, f"{name} uses the deprecated compute_kind"


def test_dbt_assets_are_grouped_by_layer(graph):
    by_prefix = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if "dbt" in node.kinds:
            by_prefix.setdefault(node.group_name, set()).add(key.path[0])
    # a model's schema is its layer; the seeds land in staging's schema but are their own group
    assert by_prefix == {
        "staging": {"staging"},
        "intermediate": {"intermediate"},
        "marts": {"marts"},
        "seeds": {"staging"},
    }


def test_no_asset_depends_on_a_key_that_is_not_an_asset(graph):
    keys = set(graph.get_all_asset_keys())
    dangling = {
        (key.to_user_string(), parent.to_user_string())
        for key in keys
        for parent in graph.get(key).parent_keys
        if parent not in keys or not graph.get(parent).is_materializable
    }
    assert not dangling


def _resource_types(definition) -> dict[str, type]:
    fn = definition.op.compute_fn
    fn = getattr(fn, "decorated_fn", fn)
    return {
        name: param.annotation
        for name, param in inspect.signature(fn, eval_str=True).parameters.items()
        if name in definition.required_resource_keys
    }


def test_each_resource_key_is_typed_one_way():
    types: dict[str, set[str]] = {}
    for definition in [*defs.assets, *(defs.asset_checks or [])]:
        for key, annotation in _resource_types(definition).items():
            types.setdefault(key, set()).add(getattr(annotation, "__qualname__", str(annotation)))
    assert types["warehouse"] == {"WarehouseResource"}
    assert {key: len(names) for key, names in types.items() if len(names) > 1} == {}
    # and the code location binds each key to an instance of that type
    for key, names in types.items():
        (name,) = names
        assert name in {cls.__qualname__ for cls in type(defs.resources[key]).__mro__}, key


def test_the_schedules_are_stopped_until_turned_on():
    assert {s.name for s in defs.schedules} == {"month_end_reminder_run", "wecom_daily_pull_schedule"}
    for schedule in defs.schedules:
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
