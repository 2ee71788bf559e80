"""Shared fixtures of the end-to-end tests (the local emulation over real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import FAKE_ASSEMBLY, TEST_TIMELINE, TIME_SCALE

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly, publish_file_assets
from cdk_opensearch_packages.local.opensearch.api import Timeline


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the few slow end-to-end tests."""
    config.addinivalue_line("markers", "slow: an end-to-end test that takes more than 10 s")


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[LocalAws]:
    """A local AWS (no OpenSearch API) with the fake handler's asset published."""
    with LocalAws(time_scale=TIME_SCALE, opensearch=False) as aws:
        publish_file_assets(aws.s3, CloudAssembly.load(FAKE_ASSEMBLY).stacks[0].assets)
        yield aws


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    """A complete local AWS (moto and the local OpenSearch API) with short phases."""
    with LocalAws(
        time_scale=TIME_SCALE, opensearch_timeline=Timeline.from_mapping(TEST_TIMELINE)
    ) as aws:
        yield aws


@pytest.fixture
def aws(local_aws: LocalAws) -> Iterator[LocalAws]:
    """:func:`local_aws`, left clean for the next test whatever this one did: its knobs restored
    (timeline, faults, timeout), its stacks deleted, and whatever a failing handler left behind
    (packages, rules) removed, so one failure does not cascade into the next tests."""
    yield local_aws
    opensearch = local_aws.opensearch
    assert opensearch is not None
    opensearch.faults.clear()
    local_aws.events_faults.clear()
    local_aws.listener.clear_faults()
    opensearch.timeline = Timeline.from_mapping(TEST_TIMELINE)
    local_aws.runner.timeout_override = None
    cloudformation = local_aws.cloudformation
    for stack in cloudformation.stacks():
        result = cloudformation.delete(stack.name)
        if not result.succeeded:
            cloudformation.delete(stack.name, retain_resources=list(result.resources))
    local_aws.runner.wait_idle(30)
    if local_aws.inventory().orphans():
        for rule in local_aws.events.list_rules().get("Rules", []):
            targets = local_aws.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if targets:
                local_aws.events.remove_targets(
                    Rule=rule["Name"], Ids=[target["Id"] for target in targets]
                )
            local_aws.events.delete_rule(Name=rule["Name"])
        opensearch.reset()
        opensearch.timeline = Timeline.from_mapping(TEST_TIMELINE)
