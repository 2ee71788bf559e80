"""Sharing a package with other accounts: ``shared_with`` (``AllowListedUserList``) and the
provider's ``es:UpdatePackageScope`` permission."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk
import pytest
from aws_cdk import assertions, aws_s3
from construct_stacks import BUCKET_NAME, FullStack
from synth_problems import synth_fails

from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType
from cdk_opensearch_packages.provider import SCOPE_ACTIONS

CONSUMER = "210987654321"
OTHER = "111122223333"


def dictionary(stack: aws_cdk.Stack, id: str, **props: Any) -> OpenSearchPackage:
    bucket = aws_s3.Bucket.from_bucket_name(stack, f"{id}Bucket", BUCKET_NAME)
    return OpenSearchPackage(
        stack,
        id,
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_bucket(bucket, f"{id}.txt"),
        **props,
    )


def scope_statements(stack: aws_cdk.Stack) -> list[dict[str, Any]]:
    """The statements of the provider's policy that grant ``es:UpdatePackageScope``."""
    policies = assertions.Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action in SCOPE_ACTIONS for action in _as_list(statement["Action"]))
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_shared_with_renders_the_allow_list_and_grants_the_scope_call_on_star() -> None:
    stack = aws_cdk.Stack(aws_cdk.App(), "Owner")
    dictionary(stack, "Shared", vending_enabled=True, shared_with=[CONSUMER, OTHER])
    dictionary(
        stack, "Everyone", vending_enabled=True, shared_with=[OpenSearchPackage.ALL_ACCOUNTS]
    )
    dictionary(stack, "Nobody", vending_enabled=True, shared_with=[])
    dictionary(stack, "Private")
    template = assertions.Template.from_stack(stack)

    def allow_list(id: str) -> Any:  # the property as rendered, "absent" when not
        resource = stack.node.find_child(id).node.find_child("Resource")
        logical_id = stack.get_logical_id(resource.node.default_child)  # type: ignore[arg-type]
        props = template.to_json()["Resources"][logical_id]["Properties"]
        return props.get("AllowListedUserList", "absent")

    assert allow_list("Shared") == [CONSUMER, OTHER]
    assert allow_list("Everyone") == ["GLOBAL"]
    assert allow_list("Nobody") == []
    assert allow_list("Private") == "absent"
    [statement] = scope_statements(stack)
    assert statement["Resource"] == "*"
    assert statement["Effect"] == "Allow"


def test_a_vended_package_alone_grants_the_scope_call() -> None:
    """Removing shared_with from a vended package unshares it: the permission must still be
    there in that deployment."""
    stack = aws_cdk.Stack(aws_cdk.App(), "Vended")
    dictionary(stack, "Vended", vending_enabled=True)
    assert len(scope_statements(stack)) == 1


def test_no_vended_package_no_scope_permission(full: FullStack) -> None:
    actions = {
        action
        for statement in full.resource(full.provider.policy)["Properties"]["PolicyDocument"][
            "Statement"
        ]
        for action in _as_list(statement["Action"])
    }
    assert not actions & set(SCOPE_ACTIONS)


def expect(*parts: str) -> str:
    return ".*".join(re.escape(part) for part in parts)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"shared_with": [CONSUMER]},
            expect("Fresh/Package: shared_with", CONSUMER, "vending_enabled=True", "Set"),
        ),
        (
            {"vending_enabled": False, "shared_with": [CONSUMER]},
            expect("shared_with", "needs vending_enabled=True"),
        ),
        (
            {"vending_enabled": True, "shared_with": ["12345", "global", f"{CONSUMER}\n"]},
            expect("shared_with", "['12345', 'global', '210987654321\\n']", "12-digit", "ALL"),
        ),
        (
            {"vending_enabled": True, "shared_with": CONSUMER},
            expect("shared_with", CONSUMER, "a list of account ids, not one string", "Pass ["),
        ),
        (
            {"vending_enabled": True, "shared_with": [CONSUMER, CONSUMER]},
            expect("shared_with", CONSUMER, "more than once", "List it once"),
        ),
        (
            {"vending_enabled": True, "shared_with": ["GLOBAL", CONSUMER]},
            expect("shared_with", "already shares the package with every account", "alone"),
        ),
    ],
)
def test_invalid_sharing_fails_at_synth(
    stack: aws_cdk.Stack, props: dict[str, Any], message: str
) -> None:
    with synth_fails(stack, message):
        dictionary(stack, "Package", **props)


def test_the_stacks_own_account_is_refused() -> None:
    stack = aws_cdk.Stack(
        aws_cdk.App(), "Owner", env=aws_cdk.Environment(account=OTHER, region="us-east-1")
    )
    with synth_fails(stack, expect("shared_with", OTHER, "own account", "Remove")):
        dictionary(stack, "Package", vending_enabled=True, shared_with=[CONSUMER, OTHER])


def test_accounts_known_only_at_deploy_time_are_accepted() -> None:
    stack = aws_cdk.Stack(aws_cdk.App(), "Tokens")
    consumer = aws_cdk.CfnParameter(stack, "Consumer", type="String").value_as_string
    accounts = aws_cdk.CfnParameter(stack, "Accounts", type="CommaDelimitedList").value_as_list
    dictionary(stack, "One", vending_enabled=True, shared_with=[consumer, CONSUMER])
    dictionary(stack, "Many", vending_enabled=True, shared_with=accounts)
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::OpenSearchPackage", {"AllowListedUserList": [{"Ref": "Consumer"}, CONSUMER]}
    )
    template.has_resource_properties(
        "Custom::OpenSearchPackage", {"AllowListedUserList": {"Ref": "Accounts"}}
    )
