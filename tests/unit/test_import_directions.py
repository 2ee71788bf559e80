"""The folders' import directions (docs/DESIGN.md, "Where code lives").

- the handler (``lambda/``) imports nothing from the library: it ships alone in the Lambda asset;
- the constructs (the top level of ``cdk_opensearch_packages``) never import ``local/``;
- ``checks/`` imports neither the constructs, ``local/`` nor aws_cdk: it runs without jsii.

Imports are read from the source (every ``import`` and ``from ... import``, also those inside
functions and ``TYPE_CHECKING`` blocks), so a violation is named with its file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LIBRARY = REPOSITORY / "constructs" / "cdk_opensearch_packages"
HANDLER = REPOSITORY / "lambda"
PACKAGE = "cdk_opensearch_packages"


def _module_name(path: Path) -> str:
    relative = path.relative_to(LIBRARY.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, absolute, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path) if path.is_relative_to(LIBRARY) else ""
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found: dict[tuple[str, int], str] = {}
    for path in files:
        for line, module in imports_of(path):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                # One report a line: the module itself rather than each name taken from it.
                key = (str(path.relative_to(REPOSITORY)), line)
                if key not in found or len(module) < len(found[key]):
                    found[key] = module
    return [f"{file}:{line} imports {module}" for (file, line), module in sorted(found.items())]


def _top_level_constructs() -> list[Path]:
    return sorted(LIBRARY.glob("*.py"))


CONSTRUCT_MODULES = tuple(
    f"{PACKAGE}.{path.stem}" for path in _top_level_constructs() if path.stem != "__init__"
)

RULES = {
    "handler": (sorted(HANDLER.rglob("*.py")), (PACKAGE,)),
    "constructs": (_top_level_constructs(), (f"{PACKAGE}.local",)),
    "checks": (
        sorted((LIBRARY / "checks").rglob("*.py")),
        ("aws_cdk", "constructs", "jsii", f"{PACKAGE}.local", *CONSTRUCT_MODULES),
    ),
}


@pytest.mark.parametrize("folder", sorted(RULES))
def test_import_direction(folder: str) -> None:
    files, forbidden = RULES[folder]
    assert files, f"no source files found for {folder}"
    assert violations(files, forbidden) == []


def test_the_rule_names_the_offending_import(tmp_path: Path) -> None:
    # The checker itself: a forbidden import (also a relative one, inside a function) is named.
    module = LIBRARY / "checks" / "_probe_for_test.py"
    module.write_text("def f():\n    from ..package import OpenSearchPackage\n", encoding="utf-8")
    try:
        found = violations([module], (f"{PACKAGE}.package",))
    finally:
        module.unlink()
    assert found == [
        "constructs/cdk_opensearch_packages/checks/_probe_for_test.py:2 imports "
        "cdk_opensearch_packages.package"
    ]


def test_checks_run_without_aws_cdk() -> None:
    # Imported in a fresh interpreter where aws_cdk cannot be found, the checks still work.
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['aws_cdk'] = None; sys.modules['jsii'] = None\n"
        "from cdk_opensearch_packages.checks import files, props, synonyms, text\n"
        "assert props.is_unresolved('${Token[X.1]}') and not props.is_unresolved('x')\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(LIBRARY.parent)},
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr
