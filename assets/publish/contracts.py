"""The published marts' contracts, read from the dbt manifest: the one home of their keys and columns.

A mart's key is the column of its ``unique`` data test or the columns of its ``unique_combination``
test; its columns are those of its dbt contract when the contract is enforced (``contract:
enforced: true`` with a ``data_type`` per column, so ``dbt build`` fails on a drift). The publish
gate checks the candidate database against these, so a key or a column is written once, in the
model's YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MartContract:
    name: str
    folder: str  # the folder under models/marts: core, service, engagement, reminders, kpis
    key: tuple[str, ...]  # () when the model has no uniqueness test
    columns: tuple[str, ...]  # the contract's columns; () when the contract is not enforced

    @property
    def enforced(self) -> bool:
        return bool(self.columns)


def _key_of(test: dict) -> tuple[str, ...] | None:
    meta = test.get("test_metadata") or {}
    if meta.get("name") == "unique" and test.get("column_name"):
        return (test["column_name"],)
    if meta.get("name") == "unique_combination":
        return tuple(meta.get("kwargs", {}).get("columns") or ())
    return None


def mart_contracts(manifest_path: Path | None = None) -> dict[str, MartContract]:
    """Every model under ``models/marts``, by name."""
    if manifest_path is None:
        from assets.transform.project import dbt_project

        manifest_path = Path(dbt_project.manifest_path)
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    marts = {
        node["unique_id"]: node
        for node in nodes
        if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
    }
    keys = {}
    for node in nodes:
        if node["resource_type"] == "test" and node.get("attached_node") in marts:
            key = _key_of(node)
            if key:
                keys[node["attached_node"]] = key
    return {
        node["name"]: MartContract(
            name=node["name"],
            folder=node["fqn"][2] if len(node["fqn"]) > 3 else "",
            key=keys.get(uid, ()),
            columns=tuple(node["columns"]) if node["config"].get("contract", {}).get("enforced") else (),
        )
        for uid, node in marts.items()
    }
