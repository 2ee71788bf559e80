"""The CloudFormation stand-in, end to end with a small custom resource handler.

The handler (``fixtures/fake_assembly/asset.fakehandler``) runs in the local Lambda runtime and
answers on the local ``ResponseURL``; its properties make it fail, answer wrongly, crash, poll
through EventBridge, or replace its physical resource.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from e2e_support import FAKE_ASSEMBLY, add_thing, fake_template

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError
from cdk_opensearch_packages.local.cloudformation.model import StackResult


def _name() -> str:
    return f"Fake{uuid.uuid4().hex[:8]}"


def _types(result: StackResult, logical_id: str) -> list[str]:
    return result.statuses(logical_id)


def _request_types(aws: LocalAws, stack: str, logical_id: str = "Thing") -> list[str]:
    return [
        event["RequestType"]
        for event in aws.cloudformation.custom_requests(stack_name=stack, logical_id=logical_id)
    ]


def _assert_clean(aws: LocalAws) -> None:
    aws.runner.wait_idle(30)
    inventory = aws.inventory()
    assert inventory.orphans() == {}


def test_create_and_delete_deliver_cloudformation_shaped_requests(fake_aws: LocalAws) -> None:
    result = fake_aws.cloudformation.deploy(FAKE_ASSEMBLY)

    assert result.status == "CREATE_COMPLETE", result.describe()
    function = result.resources["Handler"].physical_id
    assert result.outputs["ThingId"].startswith("fake-one-")
    assert result.outputs["ThingName"] == "one"
    assert result.outputs["HandlerName"] == (
        f"{function}|arn:aws:lambda:us-east-1:123456789012:function:{function}|${{Literal}}"
    )
    (create,) = fake_aws.cloudformation.custom_requests(stack_name="FakeStack")
    assert create["RequestType"] == "Create"
    assert create["ResourceType"] == "Custom::FakeThing"
    assert create["LogicalResourceId"] == "Thing"
    assert re.fullmatch(
        r"arn:aws:cloudformation:us-east-1:123456789012:stack/FakeStack/[0-9a-f-]{36}",
        create["StackId"],
    )
    assert str(uuid.UUID(create["RequestId"])) == create["RequestId"]
    assert create["ServiceToken"].endswith(f":function:{function}")
    # Every scalar arrives as a string, ServiceTimeout included.
    assert create["ResourceProperties"] == {
        "ServiceToken": create["ServiceToken"],
        "ServiceTimeout": "600",
        "Name": "one",
        "Enabled": "true",
        "Count": "3",
        "Nested": {"List": ["1", "false", "us-east-1"]},
    }
    assert "PhysicalResourceId" not in create
    assert "OldResourceProperties" not in create
    url = create["ResponseURL"]
    assert url.startswith("https://127.0.0.1:")
    signature = fake_aws.listener.signature(create["RequestId"])
    assert f"X-Amz-Signature={signature}" in url
    assert "CREATE_COMPLETE" in _types(result, "Thing")

    deleted = fake_aws.cloudformation.delete("FakeStack")

    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    delete = fake_aws.cloudformation.custom_requests(stack_name="FakeStack")[-1]
    assert delete["RequestType"] == "Delete"
    assert delete["PhysicalResourceId"] == result.outputs["ThingId"]
    # Dependents go first: the custom resource before its function, the function before its role.
    order = [e.logical_id for e in deleted.events if e.status == "DELETE_COMPLETE"]
    assert order.index("Thing") < order.index("Handler") < order.index("HandlerRole")
    assert fake_aws.cloudformation.stack("FakeStack") is None
    _assert_clean(fake_aws)
    assert fake_aws.inventory().is_empty()


def test_update_in_place_sends_old_properties(fake_aws: LocalAws) -> None:
    stack = _name()
    created = fake_aws.cloudformation.deploy_template(stack, fake_template())
    physical_id = created.outputs["ThingId"]

    updated = fake_aws.cloudformation.deploy_template(stack, fake_template(Name="two"))

    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    assert updated.outputs == {**created.outputs, "ThingName": "two"}
    update = fake_aws.cloudformation.custom_requests(stack_name=stack)[-1]
    assert update["RequestType"] == "Update"
    assert update["PhysicalResourceId"] == physical_id
    assert update["ResourceProperties"]["Name"] == "two"
    assert update["OldResourceProperties"]["Name"] == "one"
    assert _types(updated, "Thing") == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    # Resources whose properties did not change get no event at all.
    assert _types(updated, "Handler") == []
    assert _request_types(fake_aws, stack) == ["Create", "Update"]

    unchanged = fake_aws.cloudformation.deploy_template(stack, fake_template(Name="two"))

    assert not unchanged.changed
    assert unchanged.events == []
    assert fake_aws.cloudformation.delete(stack).succeeded
    _assert_clean(fake_aws)


def test_replacement_deletes_the_old_resource_during_cleanup(fake_aws: LocalAws) -> None:
    stack = _name()
    created = fake_aws.cloudformation.deploy_template(stack, fake_template(ReplaceOn="Name"))
    old_id = created.outputs["ThingId"]

    updated = fake_aws.cloudformation.deploy_template(
        stack, fake_template(ReplaceOn="Name", Name="two")
    )

    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    new_id = updated.outputs["ThingId"]
    assert new_id != old_id
    assert _request_types(fake_aws, stack) == ["Create", "Update", "Delete"]
    delete = fake_aws.cloudformation.custom_requests(stack_name=stack)[-1]
    assert delete["PhysicalResourceId"] == old_id
    assert delete["ResourceProperties"]["Name"] == "one"
    statuses = [(e.logical_id, e.status) for e in updated.events]
    cleanup = statuses.index((stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
    assert statuses.index(("Thing", "UPDATE_COMPLETE")) < cleanup
    assert statuses.index(("Thing", "DELETE_COMPLETE")) > cleanup
    assert fake_aws.cloudformation.delete(stack).succeeded
    assert _request_types(fake_aws, stack)[-1] == "Delete"
    assert (
        fake_aws.cloudformation.custom_requests(stack_name=stack)[-1]["PhysicalResourceId"]
        == new_id
    )
    _assert_clean(fake_aws)


def test_failed_create_rolls_back_with_the_failed_physical_id(fake_aws: LocalAws) -> None:
    stack = _name()
    template = add_thing(fake_template(), "Broken", Name="broken", FailOn="Create")

    result = fake_aws.cloudformation.deploy_template(stack, template)

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert "Create failed as asked" in result.reason
    assert "Received response status [FAILED]" in result.reason
    (failure,) = result.failures()
    assert failure.logical_id == "Broken"
    assert failure.status == "CREATE_FAILED"
    broken = fake_aws.cloudformation.custom_requests(stack_name=stack, logical_id="Broken")
    assert [e["RequestType"] for e in broken] == ["Create", "Delete"]
    assert broken[1]["PhysicalResourceId"] == failure.physical_id
    assert broken[1]["PhysicalResourceId"].startswith("fake-broken-")
    assert result.resources == {}
    stack_statuses = [e.status for e in result.events if e.is_stack_event]
    assert stack_statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]

    # Deploying again replaces the stack left in ROLLBACK_COMPLETE (as the CDK CLI does).
    again = fake_aws.cloudformation.deploy_template(stack, fake_template())

    assert again.status == "CREATE_COMPLETE", again.describe()
    assert fake_aws.cloudformation.delete(stack).succeeded
    _assert_clean(fake_aws)


@pytest.mark.parametrize(
    ("props", "without_token", "problem"),
    [
        (
            {"Name": {"Fn::GetAtt": ["Thing", "Missing"]}},
            False,
            "Vendor response doesn't contain Missing key",
        ),
        ({"Name": "tokenless"}, True, "ServiceToken is required"),
    ],
    ids=["unresolvable-getatt", "no-service-token"],
)
def test_a_create_never_sent_to_its_handler_needs_no_delete(
    fake_aws: LocalAws, props: dict[str, Any], without_token: bool, problem: str
) -> None:
    stack = _name()
    template = add_thing(fake_template(), "Dependent", **props)
    if without_token:
        del template["Resources"]["Dependent"]["Properties"]["ServiceToken"]

    result = fake_aws.cloudformation.deploy_template(stack, template)

    # CloudFormation never invoked the handler for it: the rollback sends it nothing and
    # deletes everything else, the resources it depends on included.
    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert problem in result.reason
    (failure,) = result.failures()
    assert (failure.logical_id, failure.status) == ("Dependent", "CREATE_FAILED")
    assert _request_types(fake_aws, stack, "Dependent") == []
    assert _request_types(fake_aws, stack, "Thing") == ["Create", "Delete"]
    assert [e.status for e in result.events if e.logical_id == "Dependent"] == [
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
    ]
    deleted = {e.logical_id for e in result.events if e.status == "DELETE_COMPLETE"}
    assert {"Thing", "Handler", "HandlerRole", "HandlerPollPermission"} <= deleted
    assert result.resources == {}
    _assert_clean(fake_aws)


def test_failed_update_rolls_back(fake_aws: LocalAws) -> None:
    stack = _name()
    before = add_thing(fake_template(), "Other", Name="other")
    created = fake_aws.cloudformation.deploy_template(stack, before)
    after = add_thing(
        add_thing(
            fake_template(Name="two"), "Other", Name="other", FailOn="Update", SleepSeconds="1"
        ),
        "Extra",
        Name="extra",
    )

    result = fake_aws.cloudformation.deploy_template(stack, after)

    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.describe()
    assert "Update failed as asked" in result.reason
    # Thing was updated, then updated back: new properties become the old ones.
    thing = fake_aws.cloudformation.custom_requests(stack_name=stack, logical_id="Thing")
    assert [e["RequestType"] for e in thing] == ["Create", "Update", "Update"]
    assert thing[2]["ResourceProperties"]["Name"] == "one"
    assert thing[2]["OldResourceProperties"]["Name"] == "two"
    assert thing[2]["PhysicalResourceId"] == created.outputs["ThingId"]
    # The failed resource is rolled back too; the resource the update created is deleted.
    assert _request_types(fake_aws, stack, "Other") == ["Create", "Update", "Update"]
    assert _request_types(fake_aws, stack, "Extra") == ["Create", "Delete"]
    assert set(result.resources) == set(created.resources)
    assert fake_aws.cloudformation.stack(stack).template == before  # type: ignore[union-attr]
    stack_statuses = [e.status for e in result.events if e.is_stack_event]
    assert stack_statuses == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    assert fake_aws.cloudformation.delete(stack).succeeded
    _assert_clean(fake_aws)


def test_a_failed_replacing_update_deletes_what_it_created(fake_aws: LocalAws) -> None:
    stack = _name()
    created = fake_aws.cloudformation.deploy_template(stack, fake_template(ReplaceOn="Name"))

    result = fake_aws.cloudformation.deploy_template(
        stack, fake_template(ReplaceOn="Name", Name="two", FailOn="Update")
    )

    # The FAILED response carries a new physical id: no update back, the new one is deleted.
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.describe()
    requests = fake_aws.cloudformation.custom_requests(stack_name=stack)
    assert [r["RequestType"] for r in requests] == ["Create", "Update", "Delete"]
    assert requests[2]["PhysicalResourceId"].startswith("fake-two-")
    assert requests[2]["PhysicalResourceId"] != created.outputs["ThingId"]
    assert result.resources["Thing"].physical_id == created.outputs["ThingId"]
    assert fake_aws.cloudformation.delete(stack).succeeded
    _assert_clean(fake_aws)


def test_failed_rollback_leaves_update_rollback_failed(fake_aws: LocalAws) -> None:
    stack = _name()
    fake_aws.cloudformation.deploy_template(stack, fake_template(FailOn="Rollback"))

    result = fake_aws.cloudformation.deploy_template(stack, fake_template(FailOn="Update"))

    assert result.status == "UPDATE_ROLLBACK_FAILED", result.describe()
    with pytest.raises(TemplateError, match="UPDATE_ROLLBACK_FAILED"):
        fake_aws.cloudformation.deploy_template(stack, fake_template())
    assert fake_aws.cloudformation.delete(stack).succeeded


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("no-physical-id", "Invalid PhysicalResourceId"),
        ("too-long", "Response object is too long"),
        ("invalid-json", "not valid JSON"),
    ],
)
def test_invalid_responses_fail_like_cloudformation(
    fake_aws: LocalAws, answer: str, problem: str
) -> None:
    stack = _name()

    result = fake_aws.cloudformation.deploy_template(stack, fake_template(Answer=answer))

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert problem in result.reason
    assert "Invalid custom resource response" in result.reason
    _assert_clean(fake_aws)


def test_no_response_times_out(fake_aws: LocalAws) -> None:
    stack = _name()

    result = fake_aws.cloudformation.deploy_template(
        stack, fake_template(Answer="none", ServiceTimeout=60)
    )

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert "timed out" in result.reason
    assert "ServiceTimeout (60 seconds)" in result.reason
    # The rollback still sends Delete (and the handler answers it).
    assert _request_types(fake_aws, stack) == ["Create", "Delete"]


def test_first_response_wins_and_duplicates_are_recorded(fake_aws: LocalAws) -> None:
    stack = _name()

    result = fake_aws.cloudformation.deploy_template(stack, fake_template(Answer="twice"))

    assert result.status == "CREATE_COMPLETE", result.describe()
    (create,) = fake_aws.cloudformation.custom_requests(stack_name=stack)
    fake_aws.runner.wait_idle(10)
    responses = fake_aws.listener.responses(create["RequestId"])
    assert [r.late for r in responses] == [False, True]
    assert all(r.valid for r in responses)
    assert fake_aws.cloudformation.delete(stack).succeeded


def test_a_crashing_handler_is_retried_twice_then_the_resource_times_out(
    fake_aws: LocalAws,
) -> None:
    stack = _name()

    result = fake_aws.cloudformation.deploy_template(
        stack, fake_template(Answer="crash", ServiceTimeout=300)
    )

    assert result.status == "ROLLBACK_COMPLETE", result.describe()
    assert "timed out" in result.reason
    (create, _delete) = fake_aws.cloudformation.custom_requests(stack_name=stack)
    fake_aws.runner.wait_idle(30)
    attempts = [i for i in fake_aws.runner.invocations() if i.event == create]
    assert [(i.attempt, i.outcome) for i in attempts] == [
        (1, "error"),
        (2, "error"),
        (3, "error"),
    ]
    assert len({i.request_id for i in attempts}) == 1
    assert "RuntimeError: crashed before answering" in (attempts[0].error or "")


def test_an_invocation_killed_mid_operation_is_delivered_again(fake_aws: LocalAws) -> None:
    stack = _name()
    rule = fake_aws.runner.kill_invocation(
        after_seconds=0.8, when=lambda event: event.get("LogicalResourceId") == "Thing"
    )

    result = fake_aws.cloudformation.deploy_template(stack, fake_template(SleepSeconds="1"))

    assert result.status == "CREATE_COMPLETE", result.describe()
    assert rule.fired.is_set()
    attempts = [i for i in fake_aws.runner.invocations() if i.request_id == rule.request_id]
    assert [(i.attempt, i.outcome) for i in attempts][:1] == [(1, "killed")]
    fake_aws.runner.wait_idle(10)
    attempts = [i for i in fake_aws.runner.invocations() if i.request_id == rule.request_id]
    assert [(i.attempt, i.outcome) for i in attempts] == [(1, "killed"), (2, "success")]
    assert fake_aws.cloudformation.delete(stack).succeeded


def test_a_dependency_missing_from_the_asset_fails_as_on_aws(fake_aws: LocalAws) -> None:
    stack = _name()
    result = fake_aws.cloudformation.deploy_template(stack, fake_template())
    function = result.resources["Handler"].physical_id
    event = {
        **fake_aws.cloudformation.custom_requests(stack_name=stack)[0],
        "ResourceProperties": {"Import": "crhelper"},
    }

    invocation = fake_aws.runner.invoke(function, event)

    assert invocation.outcome == "error"
    assert invocation.error == "ModuleNotFoundError: No module named 'crhelper'"
    assert fake_aws.logs.grep("No module named 'crhelper'")
    assert fake_aws.cloudformation.delete(stack).succeeded


def test_polling_through_an_allowed_eventbridge_rule(fake_aws: LocalAws) -> None:
    stack = _name()

    result = fake_aws.cloudformation.deploy_template(stack, fake_template(Poll="true"))

    assert result.status == "CREATE_COMPLETE", result.describe()
    deliveries = [d for d in fake_aws.scheduler.deliveries() if "fake-poll-" in d.rule_arn]
    assert deliveries and deliveries[-1].error is None
    fake_aws.runner.wait_idle(10)
    assert fake_aws.cloudformation.delete(stack).succeeded
    _assert_clean(fake_aws)
    # The function's EventBridge calls went through the fault proxy (here without faults).
    rule = deliveries[-1].rule_arn.rsplit("/", 1)[-1]
    calls = [
        c
        for c in fake_aws.events_calls()
        if c.params and rule in (c.params.get("Name"), c.params.get("Rule"))
    ]
    assert [c.operation for c in calls[:2]] == ["PutRule", "PutTargets"]
    assert {"RemoveTargets", "DeleteRule"} <= {c.operation for c in calls}
    assert all(c.faults == () for c in calls)


def test_eventbridge_needs_a_lambda_permission(fake_aws: LocalAws) -> None:
    stack = _name()
    template = fake_template(Poll="true", ServiceTimeout=120)
    del template["Resources"]["HandlerPollPermission"]
    del template["Resources"]["Thing"]["DependsOn"]

    result = fake_aws.cloudformation.deploy_template(stack, template)

    # Neither the Create nor the rollback's Delete can complete without the permission.
    assert result.status == "ROLLBACK_FAILED", result.describe()
    assert "timed out" in result.reason
    errors = [e for e in fake_aws.scheduler.errors() if "fake-poll-" in e]
    assert errors
    assert errors[0].startswith("EventBridge is not allowed to invoke arn:aws:lambda:")
    assert fake_aws.cloudformation.delete(stack, retain_resources=["Thing"]).succeeded
    # The handler never got its polls, so its rules are still there: clean up.
    for rule in fake_aws.events.list_rules(NamePrefix="fake-poll-")["Rules"]:
        fake_aws.events.remove_targets(Rule=rule["Name"], Ids=["1"])
        fake_aws.events.delete_rule(Name=rule["Name"])
    _assert_clean(fake_aws)


def test_template_errors_change_nothing(fake_aws: LocalAws) -> None:
    stack = _name()
    cycle = add_thing(fake_template(Other={"Ref": "Loop"}), "Loop", Back={"Ref": "Thing"})
    unknown = fake_template(Other={"Fn::GetAtt": ["Missing", "Arn"]})
    ssm = fake_aws.client("ssm")
    ssm.put_parameter(Name="/old/bootstrap/version", Value="5", Type="String")

    with pytest.raises(TemplateError, match="Circular dependency"):
        fake_aws.cloudformation.deploy_template(stack, cycle)
    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \['Missing'\]"):
        fake_aws.cloudformation.deploy_template(stack, unknown)
    with pytest.raises(TemplateError, match="cdk bootstrap"):
        fake_aws.cloudformation.deploy_template(
            stack, fake_template(), parameters={"BootstrapVersion": "/old/bootstrap/version"}
        )
    assert fake_aws.cloudformation.stack(stack) is None


def test_imports_between_stacks(fake_aws: LocalAws) -> None:
    exporter, importer = _name(), _name()
    exported = fake_template()
    exported["Outputs"]["ThingName"]["Export"]["Name"] = f"{exporter}-ThingName"
    fake_aws.cloudformation.deploy_template(exporter, exported)
    consumer: dict[str, Any] = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Type": "String",
                    "Value": {"Fn::ImportValue": f"{exporter}-ThingName"},
                },
            }
        },
        "Outputs": {"Imported": {"Value": {"Fn::ImportValue": f"{exporter}-ThingName"}}},
    }

    imported = fake_aws.cloudformation.deploy_template(importer, consumer)

    assert imported.outputs == {"Imported": "one"}
    with pytest.raises(TemplateError, match="in use by"):
        fake_aws.cloudformation.delete(exporter)
    assert fake_aws.cloudformation.delete(importer).succeeded
    assert fake_aws.cloudformation.delete(exporter).succeeded
    _assert_clean(fake_aws)


def test_conditions_and_no_value(fake_aws: LocalAws) -> None:
    stack = _name()
    template = fake_template(
        Optional={"Fn::If": ["IsOtherRegion", "set", {"Ref": "AWS::NoValue"}]},
        Picked={"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
    )
    template["Conditions"] = {
        "IsOtherRegion": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
    }
    template["Resources"]["Skipped"] = {
        "Type": "Custom::FakeThing",
        "Condition": "IsOtherRegion",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}},
    }

    result = fake_aws.cloudformation.deploy_template(stack, template)

    assert result.status == "CREATE_COMPLETE", result.describe()
    assert "Skipped" not in result.resources
    (create,) = fake_aws.cloudformation.custom_requests(stack_name=stack)
    assert "Optional" not in create["ResourceProperties"]
    assert create["ResourceProperties"]["Picked"] == "b"
    assert fake_aws.cloudformation.delete(stack).succeeded


def test_lambda_environment_and_code_directory(fake_aws: LocalAws) -> None:
    stack = _name()
    result = fake_aws.cloudformation.deploy_template(stack, fake_template())
    function = fake_aws.runner.resolve(result.resources["Handler"].physical_id)
    probe = fake_aws.runner.invoke(function.name, {"probe": True})

    # The code directory is read-only, like /var/task, and holds the unzipped asset.
    assert (function.code_dir / "index.py").is_file()
    assert not (function.code_dir.stat().st_mode & 0o222)
    environment = fake_aws.runner.environment(function)
    assert environment["FAKE_DATA_PATH"] == f"{function.code_dir}/data"
    assert environment["AWS_REGION"] == "us-east-1"
    assert environment["AWS_ENDPOINT_URL_S3"] == fake_aws.moto_url
    # EventBridge goes through the fault proxy in front of moto; tests' own client does not.
    proxy_url = fake_aws.events_proxy.endpoint_url
    assert environment["AWS_ENDPOINT_URL_EVENTBRIDGE"] == proxy_url != fake_aws.moto_url
    assert environment["AWS_ENDPOINT_URL_EVENTS"] == proxy_url
    assert fake_aws.events.meta.endpoint_url == fake_aws.moto_url
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == function.name
    assert "PYTHONPATH" not in environment
    assert probe.outcome == "error"  # the fake handler needs a CloudFormation event
    assert "KeyError" in (probe.error or "")
    assert json.loads(json.dumps(probe.event)) == {"probe": True}
    assert fake_aws.cloudformation.delete(stack).succeeded
