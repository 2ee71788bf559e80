"""Plain CloudFormation users, end to end on the local emulation.

The provider stack is deployed from the files ``make provider-template`` publishes (the template,
and the handler zip uploaded to a bucket), then the hand-written YAML example is deployed against
it: create, update by a new S3 key, by new content under the same key, delete. Nothing is left.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from cfnlint.decode import decode_str

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError
from cdk_opensearch_packages.local.opensearch.api import Timeline
from cdk_opensearch_packages.provider_stack import (
    ROLE_ARN_EXPORT,
    SERVICE_TOKEN_EXPORT,
    OpenSearchPackageProviderStack,
    ProviderArtifacts,
    publish_provider,
)

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "cloudformation" / "synonyms-package.yaml"
PROVIDER_STACK = "OpenSearchPackageProvider"
USER_STACK = "ProductSynonyms"
CODE_BUCKET = "provider-artifacts"
SOURCE_BUCKET = "search-files"
DOMAIN = "products"
#: One emulated minute lasts one real second.
TIME_SCALE = 1 / 60
SYNONYMS_V1 = b"laptop, notebook\n"
SYNONYMS_V2 = b"laptop, notebook\ntv, television\n"
SYNONYMS_V3 = b"laptop, notebook\ntv, television\ncolour => color\n"


@dataclass
class Published:
    """The published provider files and the example template (as plain data)."""

    artifacts: ProviderArtifacts
    provider_template: dict[str, Any]
    user_template: dict[str, Any]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """What ``make provider-template`` writes, and the example YAML decoded with its tags."""
    directory = tmp_path_factory.mktemp("provider")
    app = aws_cdk.App(outdir=str(directory / "cdk.out"))
    stack = OpenSearchPackageProviderStack(app, PROVIDER_STACK)
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    artifacts = publish_provider(template, stack.bundle, directory / "dist")
    decoded, errors = decode_str(EXAMPLE.read_text(encoding="utf-8"))
    assert not errors, errors
    return Published(
        artifacts=artifacts,
        provider_template=json.loads(artifacts.template.read_text(encoding="utf-8")),
        # cfn-lint's YAML nodes (dict/str subclasses) -> plain data; short tags -> Fn::*.
        user_template=json.loads(json.dumps(decoded)),
    )


@pytest.fixture(scope="module")
def aws(published: Published) -> Iterator[LocalAws]:
    """A local account with the provider zip uploaded, a source bucket and a domain."""
    with LocalAws(time_scale=TIME_SCALE, opensearch_timeline=Timeline.uniform(0.2)) as local:
        local.s3.create_bucket(Bucket=CODE_BUCKET)
        local.s3.put_object(
            Bucket=CODE_BUCKET,
            Key=published.artifacts.code_key,
            Body=published.artifacts.code_zip.read_bytes(),
        )
        local.s3.create_bucket(Bucket=SOURCE_BUCKET)
        assert local.opensearch is not None
        local.opensearch.register_domain(DOMAIN)
        yield local


def _calls(aws: LocalAws, operation: str) -> list[dict[str, Any]]:
    assert aws.opensearch is not None
    return [
        dict(call.params or {}) for call in aws.opensearch.calls() if call.operation == operation
    ]


def _association(aws: LocalAws, package_id: str) -> dict[str, Any]:
    assert aws.opensearch is not None
    (association,) = [
        a
        for a in aws.opensearch.associations()
        if a["DomainName"] == DOMAIN and a["PackageID"] == package_id
    ]
    return association


def _deploy_user_stack(aws: LocalAws, published: Published, **parameters: str) -> Any:
    return aws.cloudformation.deploy_template(
        USER_STACK,
        published.user_template,
        parameters={"DomainName": DOMAIN, "SourceBucket": SOURCE_BUCKET, **parameters},
    )


def _check_provider(aws: LocalAws, published: Published) -> str:
    """Deploy the provider stack from the published files; return its ServiceToken."""
    result = aws.cloudformation.deploy_template(
        PROVIDER_STACK,
        published.provider_template,
        parameters={
            "CodeBucket": CODE_BUCKET,
            "AllowedSourceBuckets": SOURCE_BUCKET,
            "AllowedDomainNames": f"{DOMAIN},other-domain",
        },
    )
    assert result.status == "CREATE_COMPLETE", result.describe()
    service_token = result.outputs["ServiceToken"]
    assert re.fullmatch(r"arn:aws:lambda:us-east-1:123456789012:function:[\w-]+", service_token)
    assert aws.cloudformation.export_value(SERVICE_TOKEN_EXPORT) == service_token
    assert aws.cloudformation.export_value(ROLE_ARN_EXPORT) == result.outputs["RoleArn"]
    parameters = {
        state.properties["Name"]: state.properties["Value"]
        for state in result.resources.values()
        if state.resource_type == "AWS::SSM::Parameter"
    }
    assert parameters == {
        "/cdk-opensearch-packages/provider/service-token": service_token,
        "/cdk-opensearch-packages/provider/role-arn": result.outputs["RoleArn"],
    }

    # The function runs the published zip: the handler files, byte for byte.
    (function,) = aws.runner.functions()
    assert service_token.endswith(f":function:{function.name}")
    assert (function.code_dir / "index.py").read_bytes() == (
        REPOSITORY / "lambda" / "index.py"
    ).read_bytes()

    # The list parameters became exact statements (the empty ones no policy at all).
    iam = aws.client("iam")
    role = result.outputs["RoleArn"].rsplit("/", 1)[-1]
    documents = {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    statements = [s for document in documents.values() for s in document["Statement"]]
    resources = {
        action: statement["Resource"]
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert resources["s3:GetObject"] == [f"arn:*:s3:::{SOURCE_BUCKET}/*"]
    assert resources["es:AssociatePackages"] == [
        f"arn:*:es:*:*:domain/{DOMAIN}",
        "arn:*:es:*:*:domain/other-domain",
    ]
    assert not [action for action in resources if action.startswith(("kms:", "iam:"))]
    assert len(documents) == 3  # the provider's own policy, the sources', the domains'
    return str(service_token)


def test_plain_template_creates_updates_and_deletes_a_package(
    aws: LocalAws, published: Published
) -> None:
    service_token = _check_provider(aws, published)

    # Create: the package from the v1 object, associated with the domain.
    aws.s3.put_object(Bucket=SOURCE_BUCKET, Key="synonyms/v1.txt", Body=SYNONYMS_V1)
    created = _deploy_user_stack(aws, published, SourceKey="synonyms/v1.txt")
    assert created.status == "CREATE_COMPLETE", created.describe()
    package_id = created.outputs["PackageID"]
    assert re.fullmatch(r"F[0-9]+", package_id)
    assert created.outputs["ReferencePath"] == f"analyzers/{package_id}"
    assert created.outputs["PackageVersion"] == "v1"
    name = created.outputs["PackageName"]
    assert re.fullmatch(r"[a-z][a-z0-9-]{2,27}", name)
    (create,) = aws.cloudformation.custom_requests(
        stack_name=USER_STACK, logical_id="SynonymsPackage"
    )
    # As CloudFormation sends them: every scalar a string, no PackageName, no empty marker.
    assert create["ResourceProperties"] == {
        "ServiceToken": service_token,
        "ServiceTimeout": "1800",
        "PackageType": "TXT-DICTIONARY",
        "PackageDescription": "Product search synonyms",
        "PackageSource": {"S3BucketName": SOURCE_BUCKET, "S3Key": "synonyms/v1.txt"},
    }
    assert [c["PackageSource"] for c in _calls(aws, "CreatePackage")] == [
        {"S3BucketName": SOURCE_BUCKET, "S3Key": "synonyms/v1.txt"}
    ]
    assert _association(aws, package_id)["DomainPackageStatus"] == "ACTIVE"

    # The provider stack cannot go while the user's stack imports its ServiceToken.
    with pytest.raises(TemplateError, match=SERVICE_TOKEN_EXPORT):
        aws.cloudformation.delete(PROVIDER_STACK)
    provider = aws.cloudformation.stack(PROVIDER_STACK)
    assert provider is not None and provider.status == "CREATE_COMPLETE"

    # Update by a new key: same package, a new version, rolled out to the domain.
    aws.s3.put_object(Bucket=SOURCE_BUCKET, Key="synonyms/v2.txt", Body=SYNONYMS_V2)
    by_key = _deploy_user_stack(aws, published, SourceKey="synonyms/v2.txt")
    assert by_key.status == "UPDATE_COMPLETE", by_key.describe()
    assert by_key.outputs == {**created.outputs, "PackageVersion": "v2"}
    assert [c["PackageSource"]["S3Key"] for c in _calls(aws, "UpdatePackage")] == [
        "synonyms/v2.txt"
    ]
    assert _association(aws, package_id)["PackageVersion"] == "v2"

    # New content under the same key changes nothing by itself...
    aws.s3.put_object(Bucket=SOURCE_BUCKET, Key="synonyms/v2.txt", Body=SYNONYMS_V3)
    requests = len(aws.cloudformation.custom_requests(stack_name=USER_STACK))
    unchanged = _deploy_user_stack(aws, published, SourceKey="synonyms/v2.txt")
    assert unchanged.status == "UPDATE_COMPLETE" and not unchanged.changed
    assert len(aws.cloudformation.custom_requests(stack_name=USER_STACK)) == requests
    # ...a new SourceVersion (OspSourceVersion) with it updates the package.
    by_content = _deploy_user_stack(
        aws, published, SourceKey="synonyms/v2.txt", SourceVersion="3HL4kqtJlcpXroDTDmJ"
    )
    assert by_content.status == "UPDATE_COMPLETE", by_content.describe()
    assert by_content.outputs == {**created.outputs, "PackageVersion": "v3"}
    assert len(_calls(aws, "UpdatePackage")) == 2
    assert _association(aws, package_id)["PackageVersion"] == "v3"
    update = aws.cloudformation.custom_requests(
        stack_name=USER_STACK, logical_id="SynonymsPackage"
    )[-1]
    assert update["RequestType"] == "Update"
    assert update["ResourceProperties"]["OspSourceVersion"] == "3HL4kqtJlcpXroDTDmJ"
    assert "OspSourceVersion" not in update["OldResourceProperties"]

    # Delete the user's stack, then the provider's: nothing is left behind.
    deleted = aws.cloudformation.delete(USER_STACK)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    assert _calls(aws, "DissociatePackages") and _calls(aws, "DeletePackage")
    removed = aws.cloudformation.delete(PROVIDER_STACK)
    assert removed.status == "DELETE_COMPLETE", removed.describe()
    aws.runner.wait_idle(30)
    inventory = aws.inventory()
    assert inventory.is_empty(), inventory
    with pytest.raises(TemplateError, match="No export named"):
        aws.cloudformation.export_value(SERVICE_TOKEN_EXPORT)
    assert not [
        role["RoleName"]
        for role in aws.client("iam").list_roles()["Roles"]
        if role["RoleName"].startswith(PROVIDER_STACK)
    ]
