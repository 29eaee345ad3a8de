"""The repository's layout must not shadow graphql-core (DESIGN §3)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_from_root(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_graphene_imports_from_the_repository_root() -> None:
    location = run_from_root("import graphene, graphql; print(graphql.__file__)")

    assert "site-packages" in location
    assert not location.startswith(str(ROOT / "graphql"))


def test_the_graphql_folder_is_a_namespace_portion_of_accountability() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()
    assert (
        run_from_root("import accountability.graphql.schema as s; print(s.__name__)")
        == "accountability.graphql.schema"
    )
