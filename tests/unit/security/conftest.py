"""Fixtures of the security checks: the every-feature stack, synthesized once per session."""

from __future__ import annotations

import pytest
from security_stacks import EveryFeature, synth_every_feature


@pytest.fixture(scope="session")
def every_feature(tmp_path_factory: pytest.TempPathFactory) -> EveryFeature:
    """The every-feature stack, synthesized with cdk-nag's AwsSolutions pack (env-agnostic)."""
    work = tmp_path_factory.mktemp("every-feature")
    return synth_every_feature(work / "cdk.out", work)
