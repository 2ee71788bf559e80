"""``make docs``: the API reference pdoc generates from the docstrings.

The test runs the Makefile's own ``docs`` recipe, writing into a temporary directory instead of
``docs/api``, so the command checked is the command people run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import cdk_opensearch_packages

# One pdoc run: keep this module's tests on one xdist worker (with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("packaging-docs")

REPO = Path(__file__).resolve().parents[3]
LIBRARY = REPO / "constructs" / "cdk_opensearch_packages"


def _docs_recipe() -> str:
    """The shell line of the Makefile's ``docs`` target (exactly one)."""
    lines = (REPO / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("docs:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    assert len(recipe) == 1, recipe
    return recipe[0]


@pytest.fixture(scope="module")
def api_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "api"
    recipe = _docs_recipe()
    assert "docs/api" in recipe
    command = recipe.replace("$(BIN)", shlex.quote(str(Path(sys.executable).parent)))
    command = command.replace("docs/api", shlex.quote(str(out)))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "constructs")  # as the Makefile exports it
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    result = subprocess.run(
        command,
        shell=True,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_docs_cover_every_public_name(api_docs: Path) -> None:
    page = (api_docs / "cdk_opensearch_packages.html").read_text(encoding="utf-8")
    for name in cdk_opensearch_packages.__all__:
        assert f'id="{name}"' in page, f"{name} is missing from the API reference"
    for name in ("OpenSearchPackage", "PackageSource", "OpenSearchPackageAssociation"):
        assert name in cdk_opensearch_packages.__all__


def test_docs_render_rest_field_lists(api_docs: Path) -> None:
    """``:param x:`` lines become a Parameters list (pdoc reads the docstrings as reST)."""
    page = (api_docs / "cdk_opensearch_packages.html").read_text(encoding="utf-8")
    assert '<h6 id="parameters">Parameters</h6>' in page
    assert "<li><strong>package_type</strong>:" in page


@pytest.mark.parametrize("folder", ["checks", "local"])
def test_docs_cover_the_checks_and_local_emulator_modules(api_docs: Path, folder: str) -> None:
    root = LIBRARY / folder
    modules = sorted(
        path.relative_to(LIBRARY).with_suffix("")
        for path in root.rglob("*.py")
        if not path.stem.startswith("_")
    )
    assert len(modules) > 5
    missing = [
        str(module)
        for module in modules
        if not (api_docs / "cdk_opensearch_packages" / f"{module}.html").is_file()
    ]
    assert missing == []
