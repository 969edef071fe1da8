"""Who answers for each asset group: the one place owners are set (``with_owners``).

Dagster shows an asset's owners in the UI and lets a catalog be filtered by them. Every group has
an entry; a group without one fails the code location's load (a new group must say who owns it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

# teams, not people: the platform team runs the pipeline (files in, WeChat feeds, OneID, the
# published database); analytics engineering owns the dbt layers; dealer operations owns what goes
# back to dealers (their reminder files) and the managers' decisions on tasks
DATA_PLATFORM = "team:data-platform"
ANALYTICS_ENGINEERING = "team:analytics-engineering"
DEALER_OPERATIONS = "team:dealer-operations"

OWNERS: dict[str, list[str]] = {
    "ingestion": [DATA_PLATFORM],
    "wechat": [DATA_PLATFORM],
    "identity": [DATA_PLATFORM],
    "seeds": [ANALYTICS_ENGINEERING],
    "staging": [ANALYTICS_ENGINEERING],
    "intermediate": [ANALYTICS_ENGINEERING],
    "marts": [ANALYTICS_ENGINEERING],
    "publish": [DATA_PLATFORM],
    "exports": [DEALER_OPERATIONS],
    "decisions": [DEALER_OPERATIONS],
}


class OwnerMissing(Exception):
    """An asset group with no entry in ``OWNERS``."""


def _owned(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.group_name not in OWNERS:
        raise OwnerMissing(
            f"asset {spec.key.to_user_string()} is in group {spec.group_name!r}, which has no owners: "
            "add the group to OWNERS in assets/owners.py"
        )
    return spec.replace_attributes(owners=OWNERS[spec.group_name])


def with_owners(definitions: Iterable[dg.AssetsDefinition]) -> Sequence[dg.AssetsDefinition]:
    """Every asset of ``definitions`` with its group's owners."""
    return dg.map_asset_specs(_owned, definitions)
