"""Layers only point down: sources ← assets ← pipelines, and the dashboard beside pipelines.

``sources/`` (connectors, rules, settings) imports nothing of the layers above it; ``assets/``
(Dagster assets and their resources) nothing of ``pipelines/`` or ``dashboards/``; the dashboard
nothing of ``pipelines/`` (it reads the published database and the settings). Imports inside
functions count too: a lazy import is still a dependency.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "sources": {"assets", "pipelines", "dashboards"},
    "assets": {"pipelines", "dashboards"},
    "dashboards": {"pipelines"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def upward_imports(layer: str) -> list[str]:
    forbidden = FORBIDDEN[layer]
    return [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for package, line in sorted(imported_packages(path))
        if package in forbidden
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    assert upward_imports(layer) == []


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pipelines.config import load_settings\n")
    assert ("pipelines", 2) in imported_packages(module)
