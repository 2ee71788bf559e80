"""Faults the provider survives, end to end on the local emulation.

Each scenario deploys stacks of the real constructs (the CloudFormation stand-in, the provider in
the local Lambda runtime, the local OpenSearch packages API, moto's EventBridge) and ends in
SUCCESS or a clear FAILED, with nothing left behind: no package, association, EventBridge rule or
target, no permission statement beyond the stack's one, and every response CloudFormation got
was one it accepts (at most 4096 bytes, a Reason of at most 256 characters).

- a storm of throttling, 5xx answers, slow answers, dropped connections and lost answers on
  every call the provider makes (OpenSearch, EventBridge through the fault proxy in front of
  moto, and the response PUTs answered S3's 503 SlowDown or dropped) while every wait outlives
  the Lambda invocation and continues through EventBridge polling: create, update and delete all
  succeed;
- the Lambda killed mid-operation and the same event delivered again (Lambda's asynchronous
  retry), at the create of an association, the update and the delete of a package: one package,
  one new version, one association;
- CloudFormation's ServiceTimeout reached while polling: the resource fails with a reason naming
  the timeout (before CloudFormation gives up on it), the package it made is deleted and the
  polling rule removed; a package the service rejects after the hand-over fails clearly too;
- the Lambda's deadline reached in the middle of a slow call: the request continues by polling,
  and Lambda's redelivery of the timed-out event adopts the same package.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import TIME_SCALE

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly
from cdk_opensearch_packages.local.opensearch.api import CallRecord, Timeline

PACKAGE = "Custom::OpenSearchPackage"
ASSOCIATION = "Custom::OpenSearchDomainPackages"
DOMAIN = "search"
#: With this Lambda timeout the handler waits ~1 s in process (it keeps 20 s), then polls.
HAND_OVER_QUICKLY = 21.0
SYNONYMS = {
    "A": ("couch, sofa\n", "couch, sofa, settee\n"),
    "B": ("laptop, notebook\n", "laptop, notebook, portable\n"),
}


@dataclass(frozen=True)
class Pkg:
    """A package of a test stack.

    :param logical: the construct id (and output name prefix).
    :param source: a dictionary file (an asset) or ``(bucket, key)`` of an existing object.
    :param associate: whether to associate it with the stack's domain.
    :param timeout_seconds: the custom resource's ServiceTimeout. Default: the construct's.
    """

    logical: str
    source: Path | tuple[str, str]
    associate: bool = False
    timeout_seconds: int | None = None


def synth(outdir: Path, stack_name: str, packages: Sequence[Pkg]) -> CloudAssembly:
    """A stack of the real constructs: a domain and the packages (generated names)."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice, aws_s3

    from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=DOMAIN,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    for spec in packages:
        if isinstance(spec.source, Path):
            source = PackageSource.from_asset(str(spec.source))
        else:
            bucket = aws_s3.Bucket.from_bucket_name(stack, f"{spec.logical}Bucket", spec.source[0])
            source = PackageSource.from_bucket(bucket, spec.source[1])
        package = OpenSearchPackage(
            stack,
            spec.logical,
            package_type=PackageType.TXT_DICTIONARY,
            source=source,
            timeout=(
                aws_cdk.Duration.seconds(spec.timeout_seconds)
                if spec.timeout_seconds is not None
                else None
            ),
        )
        aws_cdk.CfnOutput(stack, f"{spec.logical}Id", value=package.package_id)
        if spec.associate:
            association = package.associate(domain)
            aws_cdk.CfnOutput(stack, f"{spec.logical}Version", value=association.package_version)
    app.synth()
    return CloudAssembly.load(outdir)


def dictionaries(directory: Path, version: int) -> dict[str, Path]:
    """The ``SYNONYMS`` files of one version (0 or 1), by package."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, texts in SYNONYMS.items():
        path = directory / f"{name.lower()}.txt"
        path.write_text(texts[version], encoding="utf-8")
        files[name] = path
    return files


def stack_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def assert_nothing_left(aws: LocalAws, stack: str) -> None:
    """No package, association, rule, target or extra permission; every response acceptable."""
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}
    request_ids = {r["RequestId"] for r in aws.cloudformation.custom_requests(stack_name=stack)}
    responses = [r for r in aws.listener.responses() if r.request_id in request_ids]
    assert responses
    for response in responses:
        assert response.valid, response.problem
        assert len(response.body.encode("utf-8")) <= 4096
        assert len(response.reason) <= 256
    assert not aws.listener.rejected()


def successful(calls: Sequence[CallRecord], operation: str) -> list[CallRecord]:
    return [c for c in calls if c.operation == operation and c.status == 200]


def polled_request_types(aws: LocalAws, since: int) -> Counter[str]:
    """Request types of the events EventBridge's polling rules delivered since ``since``."""
    ids = {d.request_id for d in aws.scheduler.deliveries()[since:] if d.request_id}
    return Counter(
        str(i.event.get("RequestType"))
        for i in aws.runner.invocations()
        if i.request_id in ids and isinstance(i.event, dict)
    )


@pytest.fixture
def knobs(aws: LocalAws) -> Iterator[LocalAws]:
    """:func:`aws`, also restoring the stand-in's ServiceTimeout scale."""
    yield aws
    aws.cloudformation.services.time_scale = TIME_SCALE


def test_a_storm_on_every_call_while_every_wait_continues_through_eventbridge(
    knobs: LocalAws, tmp_path: Path
) -> None:
    aws = knobs
    assert aws.opensearch is not None
    aws.runner.timeout_override = HAND_OVER_QUICKLY
    aws.opensearch.timeline = Timeline.from_mapping(
        {
            "copying": 1.0,
            "validating": 1.0,
            "associating": 1.5,
            "dissociating": 1.5,
            "deleting": 1.0,
        }
    )
    aws.opensearch.faults.set(
        latency=0.2,
        latency_seconds=0.2,
        drop=0.1,
        throttle=0.25,
        server_error=0.15,
        seed=11,
    )
    # EventBridge: every kind of fault, the lost answers included (PutRule, PutTargets,
    # RemoveTargets and DeleteRule are idempotent: a retry meets what the lost call did). Each
    # fault costs botocore's backoff (up to 1 s, then 2 s...): counts keep the test short.
    setup, teardown = ["PutRule", "PutTargets"], ["RemoveTargets", "DeleteRule"]
    aws.events_faults.set(
        latency={"probability": 0.2},
        latency_seconds=0.1,
        drop={"probability": 0.1, "count": 1},
        throttle={"probability": 0.3, "operations": setup, "count": 2},
        server_error={"probability": 0.3, "operations": teardown, "count": 2},
        drop_after={"probability": 0.1, "count": 1},
        error_after={"probability": 0.1, "count": 1},
        seed=7,
    )
    # Response PUTs: at most one failure per response (the sender tries 3 times, 1 s then 2 s
    # apart: each failure costs a second).
    aws.listener.set_faults(slow_down=0.3, drop=0.15, per_request=1, count=2, seed=3)
    calls_before = len(aws.opensearch.calls())
    events_before = len(aws.events_calls())
    faults_before = len(aws.listener.injected_faults())
    polls_before = len(aws.scheduler.deliveries())
    stack = stack_name("Storm")
    v1, v2 = dictionaries(tmp_path / "v1", 0), dictionaries(tmp_path / "v2", 1)
    layout = [("A", True), ("B", False)]

    try:
        created = aws.cloudformation.deploy(
            synth(tmp_path / "o1", stack, [Pkg(n, v1[n], a) for n, a in layout]), stack
        )
        assert created.status == "CREATE_COMPLETE", created.describe()
        updated = aws.cloudformation.deploy(
            synth(tmp_path / "o2", stack, [Pkg(n, v2[n], a) for n, a in layout]), stack
        )
        assert updated.status == "UPDATE_COMPLETE", updated.describe()
        assert updated.outputs["AId"] == created.outputs["AId"]
        assert updated.outputs["BId"] == created.outputs["BId"]
        assert (created.outputs["AVersion"], updated.outputs["AVersion"]) == ("v1", "v2")
        deleted = aws.cloudformation.delete(stack)
        assert deleted.status == "DELETE_COMPLETE", deleted.describe()
        aws.runner.wait_idle(30)
    finally:
        aws.events_faults.clear()
        aws.listener.clear_faults()

    calls = aws.opensearch.calls()[calls_before:]
    faulted = [c for c in calls if c.faults]
    assert {f for c in faulted for f in c.faults} == {"latency", "drop", "throttle", "server_error"}
    assert len(faulted) >= len(calls) / 4
    mutating = {"CreatePackage", "UpdatePackage", "DeletePackage", "AssociatePackages"}
    assert mutating & {c.operation for c in faulted if c.faults != ("latency",)}
    # Retried calls never did the work twice.
    created_names = Counter(
        c.params["PackageName"] for c in successful(calls, "CreatePackage") if c.params
    )
    assert sorted(created_names.values()) == [1, 1]
    assert len(successful(calls, "UpdatePackage")) == 2
    assert len(successful(calls, "DeletePackage")) == 2
    assert len(successful(calls, "DissociatePackages")) == 1
    # The faults reached the polling rules' calls: set up and removed through refusals and
    # lost answers alike.
    polling_calls = aws.events_calls()[events_before:]
    refused = {
        c.operation for c in polling_calls if {"drop", "throttle", "server_error"} & set(c.faults)
    }
    assert set(setup) & refused and set(teardown) & refused, refused
    assert [c for c in polling_calls if c.lost_status == 200], "no EventBridge answer was lost"
    rules = {c.params["Name"] for c in polling_calls if c.operation == "PutRule" and c.params}
    deleted_rules = {
        c.params["Name"]
        for c in polling_calls
        if c.operation == "DeleteRule" and c.applied and c.params
    }
    assert rules and rules <= deleted_rules
    # ... and the response PUTs: each faulted response still arrived, once as the first answer.
    request_ids = {r["RequestId"] for r in aws.cloudformation.custom_requests(stack_name=stack)}
    response_faults = [
        f for f in aws.listener.injected_faults()[faults_before:] if f.request_id in request_ids
    ]
    assert response_faults, "no response PUT met a fault"
    assert Counter(f.request_id for f in response_faults).most_common(1)[0][1] == 1
    for fault in response_faults:
        first = [r for r in aws.listener.responses(fault.request_id) if not r.late]
        assert len(first) == 1 and first[0].status == "SUCCESS", (fault, first)
    # Every kind of request outlived its first invocation and went on through EventBridge.
    polled = polled_request_types(aws, polls_before)
    assert set(polled) == {"Create", "Update", "Delete"}, polled
    assert not [e for e in aws.scheduler.errors() if "not allowed" in e]
    assert_nothing_left(aws, stack)


def _first_request(aws: LocalAws, stack: str, resource_type: str, request_type: str) -> str:
    (request_id,) = [
        r["RequestId"]
        for r in aws.cloudformation.custom_requests(stack_name=stack)
        if r["ResourceType"] == resource_type and r["RequestType"] == request_type
    ]
    return str(request_id)


def test_a_lambda_killed_mid_operation_gets_the_same_event_again(
    knobs: LocalAws, tmp_path: Path
) -> None:
    aws = knobs
    assert aws.opensearch is not None
    # The kills come right after the service accepted each change: the operations need only
    # outlast that, so the redelivery (a scaled minute later) may find them running or done.
    aws.opensearch.timeline = Timeline.from_mapping(
        {
            "copying": 1.0,
            "validating": 1.0,
            "associating": 2.0,
            "dissociating": 1.0,
            "deleting": 2.0,
        }
    )

    operations = {
        (ASSOCIATION, "Create"): "AssociatePackages",
        (PACKAGE, "Update"): "UpdatePackage",
        (PACKAGE, "Delete"): "DeletePackage",
    }
    service = aws.opensearch

    # Killed as soon as the service has answered the invocation's change, whatever the load
    # on the machine: mid-operation.
    def kill(resource_type: str, request_type: str) -> Any:
        operation = operations[(resource_type, request_type)]
        return aws.runner.kill_invocation(
            after_seconds=60.0,
            until=lambda started: any(
                c.wall >= started for c in successful(service.calls(), operation)
            ),
            when=lambda event: (
                event.get("ResourceType") == resource_type
                and event.get("RequestType") == request_type
                and "CrHelperPoll" not in event
            ),
        )

    kills = {key: kill(*key) for key in operations}
    calls_before = len(aws.opensearch.calls())
    stack = stack_name("Killed")
    v1, v2 = dictionaries(tmp_path / "v1", 0), dictionaries(tmp_path / "v2", 1)

    created = aws.cloudformation.deploy(
        synth(tmp_path / "o1", stack, [Pkg("A", v1["A"], True)]), stack
    )
    assert created.status == "CREATE_COMPLETE", created.describe()
    updated = aws.cloudformation.deploy(
        synth(tmp_path / "o2", stack, [Pkg("A", v2["A"], True)]), stack
    )
    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    assert updated.outputs["AId"] == created.outputs["AId"]
    assert updated.outputs["AVersion"] == "v2"
    assert [
        p["AvailablePackageVersion"]
        for p in aws.opensearch.packages()
        if p["PackageID"] == created.outputs["AId"]
    ] == ["v2"]
    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()

    aws.runner.wait_idle(30)
    calls = aws.opensearch.calls()[calls_before:]
    for (resource_type, request_type), rule in kills.items():
        assert rule.fired.is_set(), (resource_type, request_type)
        request_id = _first_request(aws, stack, resource_type, request_type)
        attempts = [
            i
            for i in aws.runner.invocations()
            if isinstance(i.event, dict) and i.event.get("RequestId") == request_id
        ]
        assert [i.outcome for i in attempts][:1] == ["killed"], (resource_type, request_type)
        assert attempts[-1].outcome == "success"
        killed = attempts[0]
        # The kill came mid-operation: the killed invocation had already asked for the change.
        operation = operations[(resource_type, request_type)]
        assert [
            c for c in successful(calls, operation) if killed.started <= c.wall <= killed.ended
        ], operation
    # One package, one new version, one association, each made once.
    assert len(successful(calls, "CreatePackage")) == 1
    assert len(successful(calls, "UpdatePackage")) == 1
    assert len(successful(calls, "DeletePackage")) == 1
    assert len(successful(calls, "AssociatePackages")) == 2  # create, and the new version
    assert len(successful(calls, "DissociatePackages")) == 1
    assert_nothing_left(aws, stack)


def test_service_timeout_and_rejected_file_after_the_hand_over_fail_clearly(
    knobs: LocalAws, tmp_path: Path
) -> None:
    aws = knobs
    assert aws.opensearch is not None
    # CloudFormation waits the real ServiceTimeout here (polling minutes stay scaled).
    aws.cloudformation.services.time_scale = 1.0
    aws.runner.timeout_override = HAND_OVER_QUICKLY
    aws.opensearch.timeline = Timeline.from_mapping(
        {"copying": 3.0, "validating": 3.0, "deleting": 0.5}
    )
    aws.s3.create_bucket(Bucket="reliability-sources")
    aws.s3.put_object(
        # A UTF-8 byte order mark: the emulation still rejects it (an UNVERIFIED rule; text in
        # another encoding is accepted, as binary dictionaries are TXT-DICTIONARY packages).
        Bucket="reliability-sources",
        Key="bom.txt",
        Body="\ufeffcafé, coffee\n".encode(),
    )
    calls_before = len(aws.opensearch.calls())
    polls_before = len(aws.scheduler.deliveries())
    stack = stack_name("Deadline")
    files = dictionaries(tmp_path / "v1", 0)
    packages = [
        # 8 s: the handler's deadline is at 4 s (half of it kept in reserve), mid-VALIDATING.
        Pkg("Slow", files["A"], timeout_seconds=8),
        # AVAILABLE would come at 6 s: VALIDATION_FAILED (a BOM) comes then instead.
        Pkg("Rejected", ("reliability-sources", "bom.txt")),
    ]

    result = aws.cloudformation.deploy(synth(tmp_path / "o1", stack, packages), stack)

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    reasons = {e.logical_id: e.reason for e in result.failures() if e.status == "CREATE_FAILED"}
    (slow,) = [reason for logical_id, reason in reasons.items() if logical_id.startswith("Slow")]
    assert "ServiceTimeout is 8 s" in slow and "timed out after" in slow, slow
    assert "did not receive a response" not in slow, "CloudFormation timed out, not the handler"
    (rejected,) = [r for logical_id, r in reasons.items() if logical_id.startswith("Rejected")]
    assert "UTF-8" in rejected or "VALIDATION_FAILED" in rejected, rejected
    # Both waits had been handed over to EventBridge before they failed.
    assert polled_request_types(aws, polls_before)["Create"] >= 2
    aws.runner.wait_idle(30)
    calls = aws.opensearch.calls()[calls_before:]
    made = {
        str(c.params and c.params.get("PackageName")): c for c in successful(calls, "CreatePackage")
    }
    assert len(made) == 2
    # Each failed create deleted the package it made before answering, i.e. before the
    # rollback's Delete request (which then finds it deleting or gone).
    for logical_id in reasons:
        (rollback,) = [
            e.timestamp
            for e in result.events
            if e.logical_id == logical_id and e.status == "DELETE_IN_PROGRESS"
        ]
        (physical_id,) = {
            e.physical_id for e in result.events if e.logical_id == logical_id and e.physical_id
        }
        assert [
            c
            for c in successful(calls, "DeletePackage")
            if c.params and c.params.get("PackageID") == physical_id and c.wall < rollback
        ], f"{logical_id}: package {physical_id} not deleted before the rollback"
    assert_nothing_left(aws, stack)


def test_a_call_outliving_the_lambda_invocation_hands_over_instead_of_failing(
    knobs: LocalAws, tmp_path: Path
) -> None:
    """A slow answer across the Lambda deadline: the first invocation times out in the middle
    of a call. It hands the request over to polling (answering FAILED would roll the stack back
    while Lambda's redelivery of the timed-out event creates the package again, an orphan);
    the polling and the redelivery both end on the one package."""
    aws = knobs
    assert aws.opensearch is not None
    # Every invocation has 4 s: it probes once and hands over (it keeps 20 s in hand); the first
    # probe answers after 5 s, past the invocation's deadline.
    aws.runner.timeout_override = 4.0
    aws.opensearch.timeline = Timeline.from_mapping(
        {"copying": 0.5, "validating": 0.5, "deleting": 0.3}
    )
    aws.opensearch.faults.set(
        latency={"probability": 1.0, "operations": ["DescribePackages"], "count": 1},
        latency_seconds=5.0,
    )
    calls_before = len(aws.opensearch.calls())
    polls_before = len(aws.scheduler.deliveries())
    stack = stack_name("SlowAnswer")
    files = dictionaries(tmp_path / "v1", 0)

    created = aws.cloudformation.deploy(
        synth(tmp_path / "o1", stack, [Pkg("A", files["A"])]), stack
    )

    assert created.status == "CREATE_COMPLETE", created.describe()
    aws.runner.wait_idle(30)
    request_id = _first_request(aws, stack, PACKAGE, "Create")
    attempts = [
        i.outcome
        for i in aws.runner.invocations()
        if isinstance(i.event, dict)
        and i.event.get("RequestId") == request_id
        and "CrHelperPoll" not in i.event
    ]
    assert attempts[0] == "timeout", attempts  # then Lambda delivered the event again
    assert polled_request_types(aws, polls_before)["Create"] >= 1
    assert {r.status for r in aws.listener.responses(request_id)} == {"SUCCESS"}
    calls = aws.opensearch.calls()[calls_before:]
    assert len(successful(calls, "CreatePackage")) == 1
    live = [p["PackageID"] for p in aws.opensearch.packages() if p["PackageStatus"] == "AVAILABLE"]
    assert live == [created.outputs["AId"]]
    aws.runner.timeout_override = None
    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    assert_nothing_left(aws, stack)


def test_a_create_delivered_again_after_the_rollback_makes_nothing(
    knobs: LocalAws, tmp_path: Path
) -> None:
    aws = knobs
    assert aws.opensearch is not None
    aws.cloudformation.services.time_scale = 1.0  # CloudFormation waits the real ServiceTimeout
    stack = stack_name("Late")
    files = dictionaries(tmp_path / "v1", 0)
    created = aws.cloudformation.deploy(
        synth(tmp_path / "o1", stack, [Pkg("A", files["A"])]), stack
    )
    assert created.status == "CREATE_COMPLETE", created.describe()

    # An update adds package B. The first two deliveries of its Create crash at once; Lambda
    # retries after one and two (scaled) minutes, here 1 s and 2 s. CloudFormation gives up
    # after B's 2 s ServiceTimeout and rolls the update back; the third delivery arrives after
    # that, when a package it made would belong to no stack.
    def create_of_b(event: Any) -> bool:
        return bool(
            event.get("ResourceType") == PACKAGE
            and event.get("RequestType") == "Create"
            and str(event.get("LogicalResourceId", "")).startswith("B")
            and "CrHelperPoll" not in event
        )

    crashes = [aws.runner.kill_invocation(after_seconds=0.0, when=create_of_b) for _ in "12"]
    calls_before = len(aws.opensearch.calls())

    updated = aws.cloudformation.deploy(
        synth(
            tmp_path / "o2",
            stack,
            [Pkg("A", files["A"]), Pkg("B", files["B"], timeout_seconds=2)],
        ),
        stack,
    )

    assert updated.status == "UPDATE_ROLLBACK_COMPLETE", updated.describe()
    assert "within its ServiceTimeout (2 seconds)" in (updated.reason or ""), updated.describe()
    aws.runner.wait_idle(30)
    assert all(crash.fired.is_set() for crash in crashes)
    (request_id,) = [
        r["RequestId"]
        for r in aws.cloudformation.custom_requests(stack_name=stack)
        if create_of_b(r)
    ]
    attempts = [
        i
        for i in aws.runner.invocations()
        if isinstance(i.event, dict) and i.event.get("RequestId") == request_id
    ]
    assert [i.outcome for i in attempts] == ["killed", "killed", "success"]
    assert not [c for c in aws.opensearch.calls()[calls_before:] if c.operation == "CreatePackage"]
    assert aws.logs.grep("CloudFormation no longer waits for it, so nothing was changed")
    assert [p["PackageID"] for p in aws.opensearch.packages()] == [created.outputs["AId"]]
    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    assert_nothing_left(aws, stack)
