"""The emulation's building blocks in process: content checks, clocks, timeline, faults, S3."""

from __future__ import annotations

import socket

import pytest
from local_api_helpers import plugin_zip

from cdk_opensearch_packages.local.opensearch.api import (
    Fault,
    FaultConfig,
    FaultInjector,
    ManualClock,
    S3SourceReader,
    SourceError,
    Timeline,
)
from cdk_opensearch_packages.local.opensearch.content import inspect_content


def test_accepted_content() -> None:
    assert inspect_content("TXT-DICTIONARY", "über, over\n".encode()).error_details is None
    assert inspect_content("PACKAGE-CONFIG", b"{}").error_details is None
    plugin = inspect_content(
        "ZIP-PLUGIN", plugin_zip(extra=b"x" * 100), engine_version="OpenSearch_2.19"
    )
    assert plugin.plugin_properties is not None
    assert plugin.plugin_properties["UncompressedSizeInBytes"] >= 100
    rejected = inspect_content("PACKAGE-LICENSE", b"")
    assert rejected.error_details == {
        "ErrorType": "EmptyFile",
        "ErrorMessage": "The PACKAGE-LICENSE file is empty.",
    }


def test_manual_clock() -> None:
    clock = ManualClock(start_wall=100.0)
    clock.advance(2.5)
    assert (clock.monotonic(), clock.time()) == (2.5, 102.5)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)


def test_timeline_helpers() -> None:
    timeline = Timeline.uniform(2.0)
    assert set(timeline.to_dict().values()) == {2.0}
    assert timeline.scaled(0.5).copying == 1.0
    updated = Timeline.from_mapping({"plugin_associating": 60}, timeline)
    assert (updated.plugin_associating, updated.copying) == (60, 2.0)
    assert updated.association_seconds("ZIP-PLUGIN") == 60
    assert updated.association_seconds("TXT-DICTIONARY") == 2.0
    assert updated.dissociation_seconds("ZIP-PLUGIN") == 2.0
    with pytest.raises(ValueError, match="unknown timeline phase"):
        Timeline.from_mapping({"copy": 1})


def test_fault_parsing_and_counts() -> None:
    assert Fault.parse(0.25) == Fault(0.25)
    assert Fault.parse({"probability": 1, "operations": ["A"], "count": 2}) == Fault(
        1.0, frozenset({"A"}), 2
    )
    with pytest.raises(ValueError):
        Fault.parse({"probability": 1, "ops": ["A"]})
    with pytest.raises(ValueError):
        Fault(-0.1)
    with pytest.raises(ValueError):
        FaultConfig(server_error_statuses=(404,))
    injector = FaultInjector(FaultConfig(drop=Fault(1.0, count=2), latency=Fault(1.0)))
    decisions = [injector.decide("DescribePackages") for _ in range(3)]
    assert [d.names for d in decisions] == [["latency", "drop"], ["latency", "drop"], ["latency"]]
    injector.reset()
    assert injector.decide("DescribePackages").action == "drop"
    config = injector.set(throttle={"probability": 0.5}, operations=["Ignored"])
    assert config.throttle.operations is None  # operations only apply to bare probabilities


def test_an_unreachable_s3_is_a_copy_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reader = S3SourceReader(f"http://127.0.0.1:{port}")
    with pytest.raises(SourceError) as excinfo:
        reader.read("bucket", "key")
    assert excinfo.value.error_type == "S3Unreachable"
