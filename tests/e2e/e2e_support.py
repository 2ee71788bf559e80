"""Helpers of the end-to-end tests (the local emulation over real HTTP)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_ASSEMBLY = FIXTURES / "fake_assembly"
#: One emulated minute lasts one real second.
TIME_SCALE = 1 / 60


def fake_template(**thing: Any) -> dict[str, Any]:
    """The fake assembly's template with properties of its ``Thing`` resource replaced.

    A value of ``None`` removes the property.
    """
    template: dict[str, Any] = json.loads(
        (FAKE_ASSEMBLY / "FakeStack.template.json").read_text(encoding="utf-8")
    )
    props = template["Resources"]["Thing"]["Properties"]
    for key, value in thing.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return template


def add_thing(template: dict[str, Any], logical_id: str, **props: Any) -> dict[str, Any]:
    """A copy of ``template`` with another custom resource served by the fake handler."""
    result = copy.deepcopy(template)
    result["Resources"][logical_id] = {
        "Type": "Custom::FakeThing",
        # Polling needs the permission until the resource is deleted (deleted after it).
        "DependsOn": ["HandlerPollPermission"],
        "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
            "ServiceTimeout": 600,
            **props,
        },
    }
    return result


#: Phase durations of the local OpenSearch API in the end-to-end tests (seconds).
TEST_TIMELINE = {
    "copying": 0.5,
    "validating": 0.5,
    "deleting": 0.3,
    "associating": 0.5,
    "plugin_associating": 1.0,
    "dissociating": 0.3,
    "plugin_dissociating": 1.0,
}


@dataclass(frozen=True)
class PackageStackSpec:
    """A small stack of the real constructs: a domain, a dictionary package, an association.

    :param dictionary: the dictionary file (an asset), unless ``bucket_object`` is given.
    :param bucket_object: ``(bucket, key)`` of a source object in an existing bucket.
    :param object_version: the source's content marker (``from_bucket``).
    :param package_name: an explicit package name. Default: generated.
    :param description: the package description.
    :param domain_name: the domain's name.
    :param associate: whether to associate the package with the domain.
    :param timeout_minutes: the custom resources' ServiceTimeout. Default: the constructs'.
    :param vending_enabled: the package's ``vending_enabled``. Default: not set.
    """

    dictionary: Path | None = None
    bucket_object: tuple[str, str] | None = None
    object_version: str | None = None
    package_name: str | None = None
    description: str | None = None
    domain_name: str = "search"
    associate: bool = True
    timeout_minutes: int | None = None
    vending_enabled: bool | None = None


def synth_package_stack(outdir: Path, stack_name: str, spec: PackageStackSpec) -> CloudAssembly:
    """Synthesize a stack of the real constructs in process (``App(outdir=...)``)."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice, aws_s3

    from cdk_opensearch_packages import (
        DictionaryKind,
        OpenSearchPackage,
        PackageSource,
        PackageType,
    )

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=spec.domain_name,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    if spec.bucket_object is not None:
        bucket = aws_s3.Bucket.from_bucket_name(stack, "SourceBucket", spec.bucket_object[0])
        source = PackageSource.from_bucket(bucket, spec.bucket_object[1], spec.object_version)
    else:
        assert spec.dictionary is not None
        source = PackageSource.from_asset(str(spec.dictionary))
    timeout = (
        aws_cdk.Duration.minutes(spec.timeout_minutes) if spec.timeout_minutes is not None else None
    )
    package = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=source,
        package_name=spec.package_name,
        description=spec.description,
        dictionary_kind=DictionaryKind.SYNONYMS,
        timeout=timeout,
        vending_enabled=spec.vending_enabled,
    )
    aws_cdk.CfnOutput(stack, "PackageId", value=package.package_id)
    if spec.associate:
        association = package.associate(domain)
        aws_cdk.CfnOutput(stack, "ReferencePath", value=association.reference_path)
        aws_cdk.CfnOutput(stack, "AssociatedVersion", value=association.package_version)
    app.synth()
    return CloudAssembly.load(outdir)
