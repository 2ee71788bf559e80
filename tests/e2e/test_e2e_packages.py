"""Packages and associations end to end: the real constructs, synthesized in process, deployed
by the CloudFormation stand-in, served by the real provider handler in the local Lambda runtime,
against the local OpenSearch packages API, S3 and EventBridge over real HTTP.

After every scenario the stack ends in SUCCESS or a clear FAILED, and nothing the handler made
is left behind: no package, association, EventBridge rule or target, or permission statement.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from e2e_support import PackageStackSpec, synth_package_stack

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.model import StackResult
from cdk_opensearch_packages.local.opensearch.api import Timeline

SYNONYMS_V1 = "couch, sofa, settee\nlaptop, notebook\n"
SYNONYMS_V2 = SYNONYMS_V1 + "fridge, refrigerator\n"


def _stack_name() -> str:
    return f"Packages{uuid.uuid4().hex[:8]}"


def _dictionary(directory: Path, text: str, name: str = "synonyms.txt") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _deploy(aws: LocalAws, outdir: Path, stack: str, spec: PackageStackSpec) -> StackResult:
    assembly = synth_package_stack(outdir, stack, spec)
    return aws.cloudformation.deploy(assembly, stack)


def _package(aws: LocalAws, package_id: str) -> dict[str, object]:
    assert aws.opensearch is not None
    (found,) = [p for p in aws.opensearch.packages() if p["PackageID"] == package_id]
    return found


def _associations(aws: LocalAws) -> dict[str, dict[str, object]]:
    assert aws.opensearch is not None
    return {f"{a['DomainName']}|{a['PackageID']}": a for a in aws.opensearch.associations()}


def _delete_and_check_clean(aws: LocalAws, stack: str) -> None:
    result = aws.cloudformation.delete(stack)
    assert result.status == "DELETE_COMPLETE", result.describe()
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}


def _assert_no_leaked_signature(aws: LocalAws) -> None:
    aws.runner.wait_idle(30)
    for signature in aws.listener.signatures():
        assert not aws.logs.grep(signature), "a ResponseURL signature was logged"


def test_create_update_in_place_and_delete(aws: LocalAws, tmp_path: Path) -> None:
    stack = _stack_name()
    v1 = _dictionary(tmp_path / "v1", SYNONYMS_V1)
    v2 = _dictionary(tmp_path / "v2", SYNONYMS_V2)

    created = _deploy(aws, tmp_path / "out1", stack, PackageStackSpec(dictionary=v1))

    assert created.status == "CREATE_COMPLETE", created.describe()
    package_id = created.outputs["PackageId"]
    assert created.outputs["ReferencePath"] == f"analyzers/{package_id}"
    assert created.outputs["AssociatedVersion"] == "v1"
    package = _package(aws, package_id)
    assert package["PackageStatus"] == "AVAILABLE"
    assert package["PackageType"] == "TXT-DICTIONARY"
    assert str(package["PackageName"]) and len(str(package["PackageName"])) <= 28
    assert _associations(aws)[f"search|{package_id}"]["DomainPackageStatus"] == "ACTIVE"

    updated = _deploy(aws, tmp_path / "out2", stack, PackageStackSpec(dictionary=v2))

    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    # Same package (no replacement), a new version rolled out to the domain.
    assert updated.outputs["PackageId"] == package_id
    assert updated.outputs["AssociatedVersion"] == "v2"
    assert _package(aws, package_id)["AvailablePackageVersion"] == "v2"
    association = _associations(aws)[f"search|{package_id}"]
    assert association["DomainPackageStatus"] == "ACTIVE"
    assert association["PackageVersion"] == "v2"
    requests = aws.cloudformation.custom_requests(stack_name=stack)
    assert [r["RequestType"] for r in requests if r["ResourceType"].endswith("Package")] == [
        "Create",
        "Update",
    ]
    assert not [e for e in updated.events if e.status.startswith("DELETE")]

    _delete_and_check_clean(aws, stack)
    _assert_no_leaked_signature(aws)


def test_replacement_when_the_name_changes(aws: LocalAws, tmp_path: Path) -> None:
    stack = _stack_name()
    dictionary = _dictionary(tmp_path, SYNONYMS_V1)
    name = f"syn-{uuid.uuid4().hex[:8]}"
    created = _deploy(
        aws, tmp_path / "out1", stack, PackageStackSpec(dictionary=dictionary, package_name=name)
    )
    assert created.status == "CREATE_COMPLETE", created.describe()
    old_id = created.outputs["PackageId"]

    replaced = _deploy(
        aws,
        tmp_path / "out2",
        stack,
        PackageStackSpec(dictionary=dictionary, package_name=f"{name}-b"),
    )

    assert replaced.status == "UPDATE_COMPLETE", replaced.describe()
    new_id = replaced.outputs["PackageId"]
    assert new_id != old_id
    assert _package(aws, new_id)["PackageName"] == f"{name}-b"
    # The old package (and its association) went in the cleanup phase.
    aws.runner.wait_idle(30)
    inventory = aws.inventory()
    assert old_id not in inventory.packages
    assert list(inventory.associations) == [f"search|{new_id}"]
    assert replaced.outputs["ReferencePath"] == f"analyzers/{new_id}"

    _delete_and_check_clean(aws, stack)


def test_an_update_the_handler_refuses_rolls_back_cleanly(aws: LocalAws, tmp_path: Path) -> None:
    stack = _stack_name()
    dictionary = _dictionary(tmp_path, SYNONYMS_V1)
    name = f"syn-{uuid.uuid4().hex[:8]}"
    spec = PackageStackSpec(dictionary=dictionary, package_name=name, associate=False)
    created = _deploy(aws, tmp_path / "out1", stack, spec)
    assert created.status == "CREATE_COMPLETE", created.describe()
    package_id = created.outputs["PackageId"]

    # Vending needs a new package, which cannot have the same explicit name: the handler refuses
    # the update; CloudFormation then sends the rollback update (back to the old properties).
    refused = _deploy(
        aws,
        tmp_path / "out2",
        stack,
        PackageStackSpec(
            dictionary=dictionary, package_name=name, associate=False, vending_enabled=True
        ),
    )

    assert refused.status == "UPDATE_ROLLBACK_COMPLETE", refused.describe()
    assert name in refused.reason
    package_requests = aws.cloudformation.custom_requests(stack_name=stack)
    assert [r["RequestType"] for r in package_requests] == ["Create", "Update", "Update"]
    assert _package(aws, package_id)["PackageStatus"] == "AVAILABLE"
    _delete_and_check_clean(aws, stack)


def test_a_missing_source_object_fails_the_create_and_rolls_back(
    aws: LocalAws, tmp_path: Path
) -> None:
    stack = _stack_name()
    aws.s3.create_bucket(Bucket="e2e-sources-missing")

    result = _deploy(
        aws,
        tmp_path / "out",
        stack,
        PackageStackSpec(bucket_object=("e2e-sources-missing", "nothing-here.txt")),
    )

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    failed = {e.logical_id for e in result.failures()}
    assert any(logical_id.startswith("Synonyms") for logical_id in failed)
    assert "nothing-here.txt" in result.reason or "COPY_FAILED" in result.reason
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}


def test_a_file_the_service_rejects_fails_the_create(aws: LocalAws, tmp_path: Path) -> None:
    stack = _stack_name()
    aws.s3.create_bucket(Bucket="e2e-sources-bad")
    aws.s3.put_object(
        # A UTF-8 byte order mark: the emulation still rejects it (an UNVERIFIED rule; text in
        # another encoding is accepted, as binary dictionaries are TXT-DICTIONARY packages).
        Bucket="e2e-sources-bad",
        Key="bom.txt",
        Body="\ufeffcafé, coffee\n".encode(),
    )

    result = _deploy(
        aws,
        tmp_path / "out",
        stack,
        PackageStackSpec(bucket_object=("e2e-sources-bad", "bom.txt"), associate=False),
    )

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert "UTF-8" in result.reason or "VALIDATION_FAILED" in result.reason
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}


def test_a_failed_update_rolls_back_to_the_previous_file(aws: LocalAws, tmp_path: Path) -> None:
    stack = _stack_name()
    aws.s3.create_bucket(Bucket="e2e-sources-update")
    aws.s3.put_object(Bucket="e2e-sources-update", Key="good.txt", Body=SYNONYMS_V1.encode())
    good = PackageStackSpec(bucket_object=("e2e-sources-update", "good.txt"))
    created = _deploy(aws, tmp_path / "out1", stack, good)
    assert created.status == "CREATE_COMPLETE", created.describe()
    package_id = created.outputs["PackageId"]

    result = _deploy(
        aws,
        tmp_path / "out2",
        stack,
        PackageStackSpec(bucket_object=("e2e-sources-update", "missing.txt")),
    )

    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.describe()
    assert result.outputs == created.outputs
    package = _package(aws, package_id)
    assert package["PackageStatus"] == "AVAILABLE"
    association = _associations(aws)[f"search|{package_id}"]
    assert association["DomainPackageStatus"] == "ACTIVE"

    _delete_and_check_clean(aws, stack)


def test_throttling_and_server_errors_never_fail_a_resource(aws: LocalAws, tmp_path: Path) -> None:
    assert aws.opensearch is not None
    # A storm: every other call fails until 5 faults have been injected.
    aws.opensearch.faults.set(
        throttle={"probability": 0.5, "count": 3},
        server_error={"probability": 0.5, "count": 2},
        seed=7,
    )
    calls_before = len(aws.opensearch.calls())
    stack = _stack_name()
    dictionary = _dictionary(tmp_path, SYNONYMS_V1)

    created = _deploy(aws, tmp_path / "out", stack, PackageStackSpec(dictionary=dictionary))

    assert created.status == "CREATE_COMPLETE", created.describe()
    faulted = [call for call in aws.opensearch.calls()[calls_before:] if call.faults]
    assert {fault for call in faulted for fault in call.faults} == {"throttle", "server_error"}
    assert {call.status for call in faulted} <= {429, 500, 503}
    _delete_and_check_clean(aws, stack)


@pytest.mark.slow
def test_a_wait_longer_than_one_invocation_continues_through_eventbridge(
    aws: LocalAws, tmp_path: Path
) -> None:
    assert aws.opensearch is not None
    # The handler keeps 20 s for itself: with 25 s it waits ~5 s in process, then polls.
    aws.runner.timeout_override = 25
    aws.opensearch.timeline = Timeline.from_mapping({"copying": 6.0, "validating": 4.0})
    stack = _stack_name()
    dictionary = _dictionary(tmp_path, SYNONYMS_V1)

    created = _deploy(
        aws, tmp_path / "out", stack, PackageStackSpec(dictionary=dictionary, associate=False)
    )

    assert created.status == "CREATE_COMPLETE", created.describe()
    polls = [d for d in aws.scheduler.deliveries() if d.error is None]
    assert polls, "the handler never handed the wait over to EventBridge"
    assert not [e for e in aws.scheduler.errors() if "not allowed" in e]
    aws.opensearch.timeline = Timeline.uniform(0.3)
    _delete_and_check_clean(aws, stack)


def test_a_request_delivered_twice_creates_one_package(aws: LocalAws, tmp_path: Path) -> None:
    assert aws.opensearch is not None
    aws.opensearch.timeline = Timeline.from_mapping({"copying": 2.0, "validating": 1.0})
    service = aws.opensearch
    # Killed once the service has created the package: the redelivery must find it.
    rule = aws.runner.kill_invocation(
        after_seconds=60.0,
        until=lambda started: any(
            c.operation == "CreatePackage" and c.status == 200 and c.wall >= started
            for c in service.calls()
        ),
        when=lambda event: (
            event.get("ResourceType") == "Custom::OpenSearchPackage"
            and event.get("RequestType") == "Create"
        ),
    )
    stack = _stack_name()
    dictionary = _dictionary(tmp_path, SYNONYMS_V1)
    calls_before = len(aws.opensearch.calls())

    created = _deploy(
        aws, tmp_path / "out", stack, PackageStackSpec(dictionary=dictionary, associate=False)
    )

    assert created.status == "CREATE_COMPLETE", created.describe()
    assert rule.fired.is_set()
    aws.runner.wait_idle(30)
    attempts = [i for i in aws.runner.invocations() if i.request_id == rule.request_id]
    assert [i.outcome for i in attempts][:1] == ["killed"]
    assert len(attempts) >= 2
    creates = [c for c in aws.opensearch.calls()[calls_before:] if c.operation == "CreatePackage"]
    assert len({c.params["PackageName"] for c in creates if c.params}) == 1
    assert [c for c in creates if c.status == 200 and attempts[0].started <= c.wall]
    live = [p for p in aws.opensearch.packages() if p["PackageStatus"] not in ("DELETED",)]
    assert [p["PackageID"] for p in live] == [created.outputs["PackageId"]]
    _delete_and_check_clean(aws, stack)
