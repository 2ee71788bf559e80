"""The source layout: constructs/ is a source root, never a package."""

from __future__ import annotations

from pathlib import Path

import constructs

REPOSITORY = Path(__file__).resolve().parents[3]


def test_constructs_source_root_has_no_init() -> None:
    # A regular package named `constructs` would shadow the library aws-cdk-lib imports.
    assert not (REPOSITORY / "constructs" / "__init__.py").exists()


def test_constructs_is_the_library() -> None:
    assert hasattr(constructs, "Construct")
    assert constructs.__file__ is not None
    assert (REPOSITORY / "constructs") not in Path(constructs.__file__).resolve().parents
