"""Fixtures of the provider stack tests: synthesized once per session (a synth costs seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from provider_stack_support import ProviderTemplate, build_provider_template, load_provider_app


@pytest.fixture(scope="session")
def provider() -> ProviderTemplate:
    """The provider stack with its defaults."""
    return build_provider_template()


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``make provider-template`` writes: ``provider_app.py --publish`` (cdk-nag checked)."""
    directory = tmp_path_factory.mktemp("dist") / "provider"
    assert load_provider_app().main(["--publish", str(directory)]) == 0
    return directory
