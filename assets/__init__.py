"""Dagster asset definitions, one subpackage per area.

Every asset and asset check defined in a module below is picked up by
``pipelines.definitions`` (``load_definitions_from_package_module``), so adding an area needs no
edit to a central list.
"""
