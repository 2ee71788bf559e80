"""tools/matrix.py (``make matrix``): what it reads from the project, the rows it plans, and the
README's statement of the tested matrix."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]


def _load_matrix() -> ModuleType:
    spec = importlib.util.spec_from_file_location("matrix", REPO / "tools" / "matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module's annotations
    spec.loader.exec_module(module)
    return module


matrix = _load_matrix()

PYPROJECT = """\
[project]
requires-python = "{requires}"
classifiers = [
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.12",
]
dependencies = {dependencies}
"""


DEPENDENCIES = '["a>=1.2,<2", "b==3.0", "c[x] >= 4.0.1"]'


def _project(root: Path, dependencies: str = DEPENDENCIES, requires: str = ">=3.10") -> Path:
    (root / "constructs" / "cdk_opensearch_packages").mkdir(parents=True)
    (root / "constructs" / "cdk_opensearch_packages" / "provider.py").write_text(
        "runtime=aws_lambda.Runtime.PYTHON_3_14,\n"
    )
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(requires=requires, dependencies=dependencies)
    )
    (root / "requirements.txt").write_text("boto3==1.2.3\nbotocore==1.2.4  # pinned\n")
    (root / "requirements-dev.txt").write_text("-r requirements.txt\npytest==9.0\ncdk_nag==3.0.2\n")
    return root


def test_reads_floors_pythons_runtime_and_pins(tmp_path: Path) -> None:
    project = matrix.Project.load(_project(tmp_path))
    assert project.floor_constraints() == ["a==1.2", "b==3.0", "c==4.0.1"]
    assert project.pythons == ("3.10", "3.11", "3.12")
    assert project.lambda_python == "3.14"
    assert project.pinned(["pytest", "cdk-nag", "boto3"]) == [
        "pytest==9.0",
        "cdk-nag==3.0.2",
        "boto3==1.2.3",
    ]


def test_a_dependency_without_a_floor_is_an_error(tmp_path: Path) -> None:
    project = matrix.Project.load(_project(tmp_path, dependencies='["a<2"]'))
    with pytest.raises(matrix.MatrixError, match="declares no floor"):
        project.floor_constraints()


def test_requires_python_must_be_the_lowest_classifier(tmp_path: Path) -> None:
    with pytest.raises(matrix.MatrixError, match="requires-python"):
        matrix.Project.load(_project(tmp_path, requires=">=3.9"))


def test_plans_every_python_and_skips_none_silently(tmp_path: Path) -> None:
    project = matrix.Project.load(_project(tmp_path))
    found = {
        "3.10": None,
        "3.11": matrix.Interpreter("3.11", Path("python3.11"), "3.11.7"),
        "3.12": matrix.Interpreter("3.12", Path("python3.12"), "3.12.1"),
        "3.14": None,
    }
    names = [row.name for row in matrix.plan(project, found, quick=False)]
    assert names == [
        # The declared floor Python (missing: a SKIPPED row), the oldest and newest found.
        "constructs-floor-py3.10",
        "constructs-floor-py3.11",
        "constructs-floor-py3.12",
        "constructs-latest-py3.10",
        "constructs-latest-py3.11",
        "constructs-latest-py3.12",
        "handler-lambda-py3.10",
        "handler-lambda-py3.11",
        "handler-lambda-py3.12",
        "handler-lambda-py3.14",
    ]
    quick = [row.name for row in matrix.plan(project, found, quick=True)]
    assert quick == ["constructs-floor-py3.11", "handler-lambda-py3.11", "handler-lambda-py3.12"]


def test_the_readme_states_the_tested_matrix() -> None:
    project = matrix.Project.load(REPO)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Supported versions\n(.*?)^## ", readme, re.S | re.M)
    assert section is not None, "README.md has no '## Supported versions' section"
    text = section.group(1)
    assert "make matrix" in text
    for constraint in project.floor_constraints():
        name, floor = constraint.split("==")
        assert re.search(rf"{re.escape(name)}\W[^\n]*\b{re.escape(floor)}\b", text), constraint
    assert f"Python {', '.join(project.pythons)}" in text
