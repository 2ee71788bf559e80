"""index.handler end to end, in process: the crhelper adapter with a fake context, stubbed
clients and a local HTTP server as the ResponseURL."""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import ANY, Stubber

from osp_handler.cfn_response import send_response
from osp_handler.crhelper_adapter import OspResource
from osp_handler.names import generated_package_name, polling_rule_name

from .handler_fakes import (
    FUNCTION_ARN,
    RULE_PREFIX,
    START,
    FakeClock,
    FakeContext,
    FakeTimers,
    ResponseServer,
    domain_package,
    expect_describe,
    expect_history,
    expect_list,
    load_event,
    package,
)

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_opensearch.client import OpenSearchServiceClient

BODY_KEYS = {
    "Status",
    "Reason",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "NoEcho",
    "Data",
}


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the sender slept {seconds} s")


@dataclass
class Provider:
    """index.handler wired to fakes."""

    handler: Callable[[dict[str, Any], Any], None]
    helper: OspResource
    server: ResponseServer
    clock: FakeClock
    timers: FakeTimers
    logs: io.StringIO
    targets: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any], seconds: float = 900.0) -> None:
        """Invoke the handler with a context that has ``seconds`` left."""
        self.handler(event, FakeContext(self.clock, seconds))

    def bodies(self) -> list[dict[str, Any]]:
        """The responses CloudFormation received."""
        bodies = self.server.bodies()
        for body in bodies:
            assert set(body) == BODY_KEYS
            assert body["PhysicalResourceId"]
        return bodies

    def poll_event(self) -> dict[str, Any]:
        """The event the polling rule re-invokes the function with (its latest target input)."""
        return dict(self.targets[-1])


@pytest.fixture
def provider(
    monkeypatch: pytest.MonkeyPatch,
    opensearch: OpenSearchServiceClient,
    events: EventBridgeClient,
    clock: FakeClock,
    response_server: ResponseServer,
) -> Iterator[Provider]:
    """``index.handler`` with stubbed clients, a fake clock and fake timers."""
    import index

    timers = FakeTimers()
    helper = index.helper
    monkeypatch.setattr(helper, "_opensearch_factory", lambda: opensearch)
    monkeypatch.setattr(helper, "_events_factory", lambda: events)
    monkeypatch.setattr(helper, "_clock", clock)
    monkeypatch.setattr(helper, "_sender", functools.partial(send_response, sleep=_no_sleep))
    monkeypatch.setattr(helper, "_timer_factory", timers)
    logs = io.StringIO()
    log_handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(log_handler)
    wired = Provider(index.handler, helper, response_server, clock, timers, logs)

    def capture(params: dict[str, Any], **_: Any) -> None:
        wired.targets.append(json.loads(params["Targets"][0]["Input"]))

    events.meta.events.register("provide-client-params.eventbridge.PutTargets", capture)
    try:
        yield wired
    finally:
        logging.getLogger().removeHandler(log_handler)


def _event(name: str, server: ResponseServer) -> dict[str, Any]:
    event = load_event(name)
    event["ResponseURL"] = server.url
    return event


def _rule_name(event: dict[str, Any]) -> str:
    return polling_rule_name(
        RULE_PREFIX,
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        request_id=event["RequestId"],
    )


def _expect_polling_setup(events_stub: Stubber, event: dict[str, Any]) -> str:
    name = _rule_name(event)
    events_stub.add_response(
        "put_rule",
        {"RuleArn": f"arn:aws:events:eu-west-1:123456789012:rule/{name}"},
        {
            "Name": name,
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Description": ANY,
        },
    )
    _expect_put_targets(events_stub, name)
    return name


def _expect_put_targets(events_stub: Stubber, name: str) -> None:
    events_stub.add_response(
        "put_targets",
        {"FailedEntryCount": 0, "FailedEntries": []},
        {"Rule": name, "Targets": [{"Id": "1", "Arn": FUNCTION_ARN, "Input": ANY}]},
    )


def _expect_polling_removal(events_stub: Stubber, name: str) -> None:
    events_stub.add_response(
        "remove_targets", {"FailedEntryCount": 0, "FailedEntries": []}, {"Rule": name, "Ids": ["1"]}
    )
    events_stub.add_response("delete_rule", {}, {"Name": name})


def _generated_name(event: dict[str, Any]) -> str:
    return generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=False,
    )


def _expect_create(stub: Stubber, event: dict[str, Any], package_id: str = "F111") -> None:
    props = event["ResourceProperties"]
    stub.add_response(
        "create_package",
        {"PackageDetails": package(package_id, "COPYING")},
        {
            "PackageName": _generated_name(event),
            "PackageType": "TXT-DICTIONARY",
            "PackageDescription": props["PackageDescription"],
            "PackageSource": props["PackageSource"],
        },
    )


def test_done_in_the_first_invocation_answers_at_once_without_polling(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(
        stub, "F111", package("F111", "VALIDATING"), package("F111", "AVAILABLE", version="v1")
    )

    provider.invoke(event)

    (body,) = provider.bodies()  # and no EventBridge call: events_stub has no answer queued
    assert body == {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": "F111",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": {
            "PackageID": "F111",
            "PackageName": "synonyms",
            "PackageType": "TXT-DICTIONARY",
            "PackageVersion": "v1",
        },
    }
    (timer,) = provider.timers.made
    assert timer.started and timer.cancelled
    assert timer.seconds == pytest.approx(897.0)


def test_a_long_create_is_polled_to_completion_and_the_rule_removed(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "COPYING")] * 5)  # 22 s left: 2 s of waiting
    name = _expect_polling_setup(events_stub, event)

    provider.invoke(event, seconds=22.0)

    assert provider.bodies() == []  # pending: no response yet
    assert name.startswith(RULE_PREFIX)
    assert len(name) <= 64
    poll_event = provider.poll_event()
    assert poll_event["CrHelperPoll"] is True
    assert poll_event["CrHelperRule"].endswith(f":rule/{name}")
    assert "CrHelperPermission" not in poll_event
    assert poll_event["CrHelperData"]["OspState"] == {
        "v": 1,
        "started": START,
        "op": "create",
        "phase": "available",
        "package_id": "F111",
        "physical_id": "F111",
    }
    assert poll_event["ResponseURL"] == provider.server.url

    provider.clock.sleep(60)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", version="v1"))
    _expect_polling_removal(events_stub, name)
    provider.invoke(poll_event)

    (body,) = provider.bodies()
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "F111"
    assert body["Data"] == {
        "PackageID": "F111",
        "PackageName": "synonyms",
        "PackageType": "TXT-DICTIONARY",
        "PackageVersion": "v1",
    }

    lines = provider.logs.getvalue().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert record["RequestId"] == event["RequestId"]
        assert record["LogicalResourceId"] == event["LogicalResourceId"]
        assert record["RequestType"] == "Create"
        assert record["level"] in ("INFO", "WARNING", "ERROR")
    text = provider.logs.getvalue()
    assert "X-Amz-Signature" not in text
    assert "5ec2e7deadbeef" not in text
    assert "cfn-response" not in text
    assert "ResourceProperties" not in text
    assert "OspState" not in text


def test_a_failure_while_polling_answers_failed_and_removes_the_rule(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "VALIDATING")] * 5)
    name = _expect_polling_setup(events_stub, event)
    provider.invoke(event, seconds=22.0)

    message = "Line 2: synonym rule has no terms. " + "More detail. " * 60
    expect_describe(stub, "F111", package("F111", "VALIDATION_FAILED", error=message))
    stub.add_response("delete_package", {}, {"PackageID": "F111"})
    _expect_polling_removal(events_stub, name)
    provider.invoke(provider.poll_event())

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == "F111"  # the Delete that follows makes sure it is gone
    assert body["Reason"].startswith("Line 2: synonym rule has no terms.")
    assert len(body["Reason"]) == 256
    assert body["Data"] == {}


def test_a_changed_state_refreshes_the_rule_input(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_delete", provider.server)
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "COPYING"), *[package(pid, "COPYING")] * 3)
    name = _expect_polling_setup(events_stub, event)
    provider.invoke(event, seconds=21.0)
    assert provider.poll_event()["CrHelperData"]["OspState"]["phase"] == "settle"

    provider.clock.sleep(90)  # past 62.5 s the probes are 5 s apart
    expect_describe(stub, pid, package(pid, "AVAILABLE"), package(pid, "AVAILABLE"))
    stub.add_response("delete_package", {}, {"PackageID": pid})
    expect_describe(stub, pid, *[package(pid, "DELETING")] * 3)  # 0, 5, 10 s of 10 s
    _expect_put_targets(events_stub, name)
    provider.invoke(provider.poll_event(), seconds=30.0)

    assert provider.bodies() == []
    assert provider.poll_event()["CrHelperData"]["OspState"]["phase"] == "gone"

    provider.clock.sleep(60)
    expect_describe(stub, pid, *[package(pid, "DELETING")] * 3)
    provider.invoke(provider.poll_event(), seconds=30.0)  # same state: no PutTargets

    provider.clock.sleep(60)
    expect_describe(stub, pid, None)
    _expect_polling_removal(events_stub, name)
    provider.invoke(provider.poll_event())

    (body,) = provider.bodies()
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == pid


def test_the_lambda_timeout_answers_failed_and_removes_the_rule(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    name = _rule_name(event)
    event.update(
        CrHelperPoll=True,
        CrHelperRule=f"arn:aws:events:eu-west-1:123456789012:rule/{name}",
        CrHelperData={
            "OspState": {
                "v": 1,
                "started": START - 120,
                "op": "create",
                "phase": "available",
                "package_id": "F111",
                "physical_id": "F111",
            }
        },
    )
    expect_describe(stub, "F111", package("F111", "VALIDATING"))
    _expect_polling_removal(events_stub, name)

    # The invocation overruns (e.g. a hung call): the timer fires during the wait.
    def overrun() -> None:
        provider.timers.made[-1].fire()  # the timer of the running invocation

    provider.clock.on_sleep = overrun
    expect_describe(stub, "F111", package("F111", "AVAILABLE", version="v1"))

    provider.invoke(event)

    (body,) = provider.bodies()  # one response only, from the timer
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("the provider function ran out of time")
    assert body["PhysicalResourceId"] == "F111"


def test_a_failure_to_set_up_polling_removes_the_rule_and_fails(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "COPYING")] * 5)
    name = _rule_name(event)
    events_stub.add_response(
        "put_rule", {"RuleArn": f"arn:aws:events:eu-west-1:123456789012:rule/{name}"}, None
    )
    events_stub.add_client_error(
        "put_targets", "AccessDeniedException", "not authorized to perform events:PutTargets", 400
    )
    events_stub.add_client_error(
        "remove_targets", "ResourceNotFoundException", "Rule does not exist", 400
    )
    events_stub.add_response("delete_rule", {}, {"Name": name})

    provider.invoke(event, seconds=22.0)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        "not authorized to perform events:PutTargets (AccessDeniedException from PutTargets)"
    )
    assert body["PhysicalResourceId"] == "F111"


def test_a_missing_rule_prefix_fails_clearly(
    provider: Provider, stub: Stubber, events_stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OSP_RULE_PREFIX")
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "COPYING")] * 5)

    provider.invoke(event, seconds=22.0)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("OSP_RULE_PREFIX '' must be")
    assert body["PhysicalResourceId"] == "F111"


def test_an_unexpected_create_error_reports_a_placeholder_that_deletes_cleanly(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    stub.add_client_error(
        "create_package",
        "AccessDeniedException",
        "User is not authorized to perform es:CreatePackage",
        403,
    )

    provider.invoke(event)

    (failed,) = provider.bodies()
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == (
        "User is not authorized to perform es:CreatePackage (AccessDeniedException from "
        "CreatePackage)"
    )
    placeholder = failed["PhysicalResourceId"]
    assert placeholder.startswith("osp-failed-SynonymsPackage1A2B3C4D-")

    delete = _event("package_delete", provider.server)
    delete["PhysicalResourceId"] = placeholder
    provider.invoke(delete)  # no API call queued: none is made

    assert provider.bodies()[1]["Status"] == "SUCCESS"
    assert provider.bodies()[1]["PhysicalResourceId"] == placeholder


def test_a_failed_update_keeps_the_current_physical_id(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_update", provider.server)
    expect_describe(stub, "F111111111", package("F111111111", "AVAILABLE", version="v1"))
    expect_history(stub, "F111111111")
    stub.add_client_error("update_package", "ValidationException", "Invalid S3 key", 400)
    # Not a lost answer: the package is not busy with an update.
    expect_describe(stub, "F111111111", package("F111111111", "AVAILABLE", version="v1"))

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == "F111111111"
    assert body["Reason"] == "Invalid S3 key (ValidationException from UpdatePackage)"


def test_the_same_create_delivered_twice_makes_one_package(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    name = _generated_name(event)
    _expect_create(stub, event)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))
    stub.add_client_error("create_package", "ResourceAlreadyExistsException", "exists", 409)
    stub.add_response(
        "describe_packages",
        {"PackageDetailsList": [package("F111", "AVAILABLE", name=name, version="v1")]},
        {"Filters": [{"Name": "PackageName", "Value": [name]}]},
    )
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))

    provider.invoke(json.loads(json.dumps(event)))
    provider.invoke(json.loads(json.dumps(event)))

    first, second = provider.bodies()
    assert first["Status"] == second["Status"] == "SUCCESS"
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"] == "F111"


def test_a_domain_set_is_answered_with_each_reference_path(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("domain_packages_create", provider.server)
    event["ResourceProperties"]["PackageList"] = [
        {"PackageID": "F111111111", "OspKey": "Synonyms", "OspPackageVersion": "v1"}
    ]
    expect_describe(stub, "F111111111", package("F111111111", "AVAILABLE", version="v1"))
    expect_list(stub, [])
    stub.add_response(
        "associate_packages",
        {"DomainPackageDetailsList": [domain_package("F111111111", "ASSOCIATING")]},
        {"DomainName": "search-domain", "PackageList": [{"PackageID": "F111111111"}]},
    )
    expect_list(stub, [domain_package("F111111111", "ACTIVE", version="v1")])

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "search-domain|packages"
    assert body["Data"]["Synonyms.ReferencePath"] == "analyzers/F111111111"


def test_an_unsupported_type_fails_to_create_and_deletes_cleanly(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    event["ResourceType"] = "Custom::Other"
    provider.invoke(event)
    delete = _event("package_delete", provider.server)
    delete["ResourceType"] = "Custom::Other"
    provider.invoke(delete)

    created, deleted = provider.bodies()
    assert created["Status"] == "FAILED"
    assert "does not handle resource type 'Custom::Other'" in created["Reason"]
    assert deleted["Status"] == "SUCCESS"
    assert deleted["PhysicalResourceId"] == "F111111111"


def test_a_polling_event_without_state_fails_and_stops_polling(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    name = _rule_name(event)
    event.update(CrHelperPoll=True, CrHelperRule=f"arn:aws:events:eu-west-1:1:rule/{name}")
    _expect_polling_removal(events_stub, name)

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert "without the pending state" in body["Reason"]


def test_a_start_up_failure_is_reported_on_every_request(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, response_server: ResponseServer
) -> None:
    monkeypatch.delenv("AWS_REGION")  # crhelper cannot create its clients
    helper = OspResource(
        clock=clock,
        sender=functools.partial(send_response, sleep=_no_sleep),
        timer_factory=FakeTimers(),
    )

    @helper.create
    def create(event: dict[str, Any], context: Any) -> str:
        raise AssertionError("never called")

    event = _event("package_create", response_server)
    helper(event, FakeContext(clock))

    (body,) = response_server.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("the provider failed to start: You must specify a region")
    assert body["PhysicalResourceId"].startswith("osp-failed-")


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ({"v": 99, "started": START}, "unknown pending state layout (v=99)"),
        ({"v": 1, "started": START, "op": "create", "phase": "bogus"}, "unknown phase 'bogus'"),
    ],
)
def test_an_unreadable_pending_state_fails_and_stops_polling(
    provider: Provider, events_stub: Stubber, state: dict[str, Any], reason: str
) -> None:
    event = _event("package_create", provider.server)
    name = _rule_name(event)
    event.update(
        CrHelperPoll=True,
        CrHelperRule=f"arn:aws:events:eu-west-1:1:rule/{name}",
        CrHelperData={"OspState": state},
    )
    _expect_polling_removal(events_stub, name)

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(reason)


def test_a_request_too_large_for_a_rule_input_fails_and_removes_the_rule(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    event["ResourceProperties"]["OspNote"] = "n" * 9000  # a control property: not sent to the API
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "COPYING")] * 5)
    name = _rule_name(event)
    events_stub.add_response(
        "put_rule", {"RuleArn": f"arn:aws:events:eu-west-1:123456789012:rule/{name}"}, None
    )
    _expect_polling_removal(events_stub, name)

    provider.invoke(event, seconds=22.0)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("the request is too large to continue by polling")
    assert body["PhysicalResourceId"] == "F111"


def test_a_rejected_target_fails_and_removes_the_rule(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    event = _event("package_create", provider.server)
    _expect_create(stub, event)
    expect_describe(stub, "F111", *[package("F111", "COPYING")] * 5)
    name = _rule_name(event)
    events_stub.add_response(
        "put_rule", {"RuleArn": f"arn:aws:events:eu-west-1:123456789012:rule/{name}"}, None
    )
    events_stub.add_response(
        "put_targets",
        {
            "FailedEntryCount": 1,
            "FailedEntries": [
                {"TargetId": "1", "ErrorCode": "AccessDenied", "ErrorMessage": "Not allowed"}
            ],
        },
        None,
    )
    _expect_polling_removal(events_stub, name)

    provider.invoke(event, seconds=22.0)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"] == f"Not allowed (AccessDenied from PutTargets for rule {name})"


@pytest.mark.parametrize("name", ["package_create", "package_update", "domain_packages_create"])
def test_a_request_redelivered_after_its_service_timeout_changes_nothing(
    provider: Provider, stub: Stubber, events_stub: Stubber, name: str
) -> None:
    # CloudFormation sent it an hour ago (ServiceTimeout 3600 s) and has rolled back since;
    # Lambda delivers it once more after failed invocations. No API call is queued: none is made.
    event = _event(name, provider.server)
    event["ResponseURL"] = provider.server.url_signed_at(START - 3600)

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"this {event['RequestType']} request reached the provider")
    assert "past the resource's ServiceTimeout of 3600 s" in body["Reason"]
    assert "nothing was changed" in body["Reason"]
    if event["RequestType"] == "Update":
        assert body["PhysicalResourceId"] == event["PhysicalResourceId"]
    assert not provider.targets


def test_a_late_delete_still_deletes(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    # Deleting is what every party wants (a stack gone, or a rollback): even late, it is done.
    event = _event("package_delete", provider.server)
    event["ResponseURL"] = provider.server.url_signed_at(START - 3600)
    expect_describe(stub, "F111111111", package("F111111111", "AVAILABLE", version="v1"))
    stub.add_response(
        "delete_package",
        {"PackageDetails": package("F111111111", "DELETING")},
        {"PackageID": "F111111111"},
    )
    expect_describe(stub, "F111111111", None)

    provider.invoke(event)

    stub.assert_no_pending_responses()
    (body,) = provider.bodies()
    assert body["Status"] == "SUCCESS"


def test_a_redelivery_removes_the_rule_an_earlier_delivery_handed_over_to(
    provider: Provider, stub: Stubber, events_stub: Stubber
) -> None:
    # The first delivery's timer handed the request over to a polling rule just before Lambda
    # stopped it; Lambda delivers the original event (without the rule) two minutes later.
    event = _event("package_create", provider.server)
    event["ResponseURL"] = provider.server.url_signed_at(START - 120)
    name = _generated_name(event)
    _expect_create(stub, event)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))
    _expect_polling_removal(events_stub, _rule_name(event))

    provider.invoke(event)

    (body,) = provider.bodies()
    assert body["Status"] == "SUCCESS"
    events_stub.assert_no_pending_responses()


def test_a_first_delivery_makes_no_eventbridge_call(
    provider: Provider, stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _event("package_create", provider.server)
    name = _generated_name(event)
    _expect_create(stub, event)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))
    wanted: list[str] = []
    monkeypatch.setattr(provider.helper, "_events_factory", lambda: wanted.append("events"))

    provider.invoke(event)

    assert provider.bodies()[0]["Status"] == "SUCCESS"
    assert wanted == []  # not even a client was made


def test_a_first_invocation_timing_out_before_its_request_started_answers_nothing(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda delivers the timed-out event again: a FAILED answer now would let CloudFormation
    roll back before that redelivery creates the package (an orphan)."""
    event = _event("package_create", provider.server)

    def stalled_start() -> Any:
        provider.timers.made[-1].fire()  # the deadline comes before the first call
        raise TimeoutError("stopped by Lambda")

    monkeypatch.setattr(provider.helper, "_opensearch_factory", stalled_start)
    made: list[str] = []
    monkeypatch.setattr(provider.helper, "_events_factory", lambda: made.append("events"))

    provider.invoke(event)

    assert provider.bodies() == []
    assert made == []  # no polling rule either: the redelivery starts the request afresh
    assert "Lambda delivers this event again" in provider.logs.getvalue()
