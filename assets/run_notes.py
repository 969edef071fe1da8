"""What an asset tells the run summary: warnings (the run is complete but something needs a person)
and notices (worth knowing, nothing to fix).

An asset puts them in its materialization metadata under ``WARNINGS`` / ``NOTICES`` (JSON lists of
sentences); ``aftercare run`` prints them after the run, and ``--strict`` fails a run that has any
warning. In the Dagster UI they are on the asset's materialization like any other metadata.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

WARNINGS = "aftercare/warnings"
NOTICES = "aftercare/notices"


def notes_metadata(warnings: Iterable[str] = (), notices: Iterable[str] = ()) -> dict[str, dg.MetadataValue]:
    """Metadata entries for the warnings and notices given (none when both are empty)."""
    out: dict[str, dg.MetadataValue] = {}
    warnings, notices = list(warnings), list(notices)
    if warnings:
        out[WARNINGS] = dg.MetadataValue.json(warnings)
    if notices:
        out[NOTICES] = dg.MetadataValue.json(notices)
    return out


def collect_notes(materializations: Iterable) -> tuple[list[str], list[str]]:
    """(warnings, notices) of a run's ``AssetMaterialization`` events' metadata, in order, once each."""
    warnings: dict[str, None] = {}
    notices: dict[str, None] = {}
    for materialization in materializations:
        for key, target in ((WARNINGS, warnings), (NOTICES, notices)):
            value = materialization.metadata.get(key)
            if value is not None:
                target.update(dict.fromkeys(value.value))
    return list(warnings), list(notices)
