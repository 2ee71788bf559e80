"""Lost answers end to end: the service applies a change, then its answer is lost.

AWS sometimes carries a call out and then fails to answer it (the connection is reset after the
work, or a front end answers 500). botocore retries the same call, which meets the state the
first one made: CreatePackage answers ResourceAlreadyExistsException, UpdatePackage and
AssociatePackages a ConflictException (the operation they started is still running),
DissociatePackages a ConflictException then ResourceNotFoundException, DeletePackage the details
of the package it is deleting. The provider must treat each as the success it is.

A stack of the real constructs (a domain and one associated dictionary package) is created,
updated to a new dictionary version in place, and deleted, with ``drop_after`` and
``error_after`` faults (:mod:`cdk_opensearch_packages.local.faults`) on CreatePackage,
UpdatePackage, AssociatePackages, DissociatePackages and DeletePackage, one per operation and
phase. Each stack operation must succeed, each change must be made exactly once, and nothing
must be left behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from e2e_support import TEST_TIMELINE, PackageStackSpec, synth_package_stack
from test_e2e_reliability import assert_nothing_left

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.opensearch.api import CallRecord, Timeline

SYNONYMS_V1 = "couch, sofa\n"
SYNONYMS_V2 = "couch, sofa, settee\n"
LOST = ("drop_after", "error_after")
#: The faults of each stack operation: (kind, operation) pairs, each met by the first call.
PHASES: dict[str, list[tuple[str, str]]] = {
    "create": [("drop_after", "CreatePackage"), ("error_after", "AssociatePackages")],
    "update": [("error_after", "UpdatePackage"), ("drop_after", "AssociatePackages")],
    "delete": [("drop_after", "DissociatePackages"), ("error_after", "DeletePackage")],
}
SWAPPED = {"drop_after": "error_after", "error_after": "drop_after"}


def _lose_answers(aws: LocalAws, faults: Sequence[tuple[str, str]]) -> None:
    """Lose the answer of the next call of each operation (and only that one)."""
    assert aws.opensearch is not None
    aws.opensearch.faults.clear()
    settings: dict[str, Any] = {
        kind: {"probability": 1.0, "operations": [operation], "count": 1}
        for kind, operation in faults
    }
    aws.opensearch.faults.set(**settings)


def _dictionary(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "synonyms.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _applied(calls: Sequence[CallRecord], operation: str) -> list[CallRecord]:
    return [c for c in calls if c.operation == operation and c.applied]


def _lost(calls: Sequence[CallRecord]) -> set[tuple[str, str]]:
    """(kind, operation) of the calls that were applied and whose answer was lost."""
    return {
        (fault, c.operation)
        for c in calls
        for fault in c.faults
        if fault in LOST and c.lost_status == 200
    }


@pytest.mark.parametrize("swap", [False, True], ids=["as-listed", "kinds-swapped"])
def test_lost_answers_on_every_change_are_each_applied_once(
    aws: LocalAws, tmp_path: Path, swap: bool
) -> None:
    assert aws.opensearch is not None
    # Copying outlasts botocore's first retry backoff (at most 1 s), as on AWS where it takes
    # far longer: the retry of an UpdatePackage whose answer was lost meets the package still
    # busy with it. (A retry after the copy would make another version: a real risk botocore's
    # retries take, too rare on AWS to guard against.) The other operations are idempotent.
    aws.opensearch.timeline = Timeline.from_mapping({**TEST_TIMELINE, "copying": 1.5})
    phases = {
        name: [(SWAPPED[kind] if swap else kind, op) for kind, op in faults]
        for name, faults in PHASES.items()
    }
    stack = f"LostAnswers{uuid.uuid4().hex[:8]}"
    v1 = _dictionary(tmp_path / "v1", SYNONYMS_V1)
    v2 = _dictionary(tmp_path / "v2", SYNONYMS_V2)
    calls_before = len(aws.opensearch.calls())
    transitions_before = len(aws.opensearch.transitions())

    _lose_answers(aws, phases["create"])
    created = aws.cloudformation.deploy(
        synth_package_stack(tmp_path / "o1", stack, PackageStackSpec(dictionary=v1)), stack
    )
    assert created.status == "CREATE_COMPLETE", created.describe()
    package_id = created.outputs["PackageId"]
    assert created.outputs["AssociatedVersion"] == "v1"

    _lose_answers(aws, phases["update"])
    updated = aws.cloudformation.deploy(
        synth_package_stack(tmp_path / "o2", stack, PackageStackSpec(dictionary=v2)), stack
    )
    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    assert updated.outputs["PackageId"] == package_id
    assert updated.outputs["AssociatedVersion"] == "v2"
    [package] = [p for p in aws.opensearch.packages() if p["PackageID"] == package_id]
    assert (package["PackageStatus"], package["AvailablePackageVersion"]) == ("AVAILABLE", "v2")
    assert [v["PackageVersion"] for v in aws.opensearch.versions(package_id)] == ["v1", "v2"]
    [association] = aws.opensearch.associations()
    assert (association["PackageID"], association["DomainName"]) == (package_id, "search")
    assert (association["DomainPackageStatus"], association["PackageVersion"]) == ("ACTIVE", "v2")

    _lose_answers(aws, phases["delete"])
    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()

    aws.runner.wait_idle(30)
    calls = aws.opensearch.calls()[calls_before:]
    # Every operation met its lost answer, and every such call had been carried out.
    assert _lost(calls) == {pair for faults in phases.values() for pair in faults}
    # Each change was made exactly once, whatever botocore and the handler retried.
    assert len(_applied(calls, "CreatePackage")) == 1
    assert len(_applied(calls, "UpdatePackage")) == 1
    assert len(_applied(calls, "DissociatePackages")) == 1
    transitions = [
        (t.kind, t.from_status, t.to_status, t.package_version)
        for t in aws.opensearch.transitions()[transitions_before:]
        if t.package_id == package_id
    ]
    assert transitions.count(("package", None, "COPYING", "v1")) == 1
    assert transitions.count(("package", "AVAILABLE", "COPYING", "v2")) == 1
    assert [t for t in transitions if t[:3] == ("package", "AVAILABLE", "DELETING")] == [
        ("package", "AVAILABLE", "DELETING", None)
    ]
    assert [t[3] for t in transitions if t[0] == "association" and t[2] == "ASSOCIATING"] == [
        "v1",
        "v2",
    ]
    assert [t for t in transitions if t[0] == "association" and t[2] == "DISSOCIATING"] == [
        ("association", "ACTIVE", "DISSOCIATING", "v2")
    ]
    assert aws.opensearch.packages() == []
    assert_nothing_left(aws, stack)
