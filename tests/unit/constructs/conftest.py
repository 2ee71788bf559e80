"""Fixtures of the construct tests: stacks synthesized once per session (a synth costs seconds)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk
import pytest
from construct_stacks import SYNONYMS, FullStack, build_full_stack


@pytest.fixture(scope="session")
def synonyms_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dictionaries") / "synonyms.txt"
    path.write_text(SYNONYMS, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def full(synonyms_file: Path) -> FullStack:
    """Packages of every type and associations with a domain construct and a domain name."""
    return build_full_stack(synonyms_file)


@pytest.fixture
def stack() -> aws_cdk.Stack:
    """A fresh, never synthesized stack (for the failing cases raised at construction)."""
    return aws_cdk.Stack(aws_cdk.App(), "Fresh")
