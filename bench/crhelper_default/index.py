"""Baseline handler: what a user writes with crhelper's defaults for ``Custom::CrhelperPackage``.

The tiny, typical handler the provider is compared with: ``CfnResource()`` with every default
(``polling_interval=2`` minutes, ``sleep_on_delete=120`` seconds, DEBUG logging),
``@helper.create`` calls CreatePackage, ``@helper.poll_create`` calls DescribePackages once per
scheduled invocation until the package is AVAILABLE, ``@helper.delete`` calls DeletePackage
(crhelper then sleeps ``sleep_on_delete`` before answering). Properties: ``PackageName``,
``PackageType``, ``PackageSource`` {``S3BucketName``, ``S3Key``}. Data: ``PackageID``,
``PackageVersion``.

It runs for real in the Lambda stand-in (boto3 from the runtime, crhelper bundled next to it).
"""

from __future__ import annotations

import contextlib
from typing import Any

import boto3
from crhelper import CfnResource

helper = CfnResource()
opensearch = boto3.client("opensearch")

_FAILED = ("COPY_FAILED", "VALIDATION_FAILED", "DELETE_FAILED")


@helper.create
def create(event: dict[str, Any], context: object) -> str:
    """Start creating the package; crhelper then sets up its polling rule."""
    props = event["ResourceProperties"]
    details = opensearch.create_package(
        PackageName=props["PackageName"],
        PackageType=props["PackageType"],
        PackageSource={
            "S3BucketName": props["PackageSource"]["S3BucketName"],
            "S3Key": props["PackageSource"]["S3Key"],
        },
    )["PackageDetails"]
    return str(details["PackageID"])


@helper.poll_create
def poll_create(event: dict[str, Any], context: object) -> str | None:
    """One check per scheduled invocation: the package id once AVAILABLE, else ``None``."""
    package_id = str(event["CrHelperData"]["PhysicalResourceId"])
    found = opensearch.describe_packages(Filters=[{"Name": "PackageID", "Value": [package_id]}])
    details = found["PackageDetailsList"][0]
    status = details["PackageStatus"]
    if status in _FAILED:
        raise RuntimeError(f"package {package_id} is {status}: {details.get('ErrorDetails')}")
    if status != "AVAILABLE":
        return None
    helper.Data["PackageID"] = package_id
    helper.Data["PackageVersion"] = details.get("AvailablePackageVersion", "")
    return package_id


@helper.update
def update(event: dict[str, Any], context: object) -> str:
    """Not exercised by the benchmark: keeps the package as it is."""
    return str(event["PhysicalResourceId"])


@helper.delete
def delete(event: dict[str, Any], context: object) -> None:
    """Delete the package (gone already: nothing to do)."""
    with contextlib.suppress(opensearch.exceptions.ResourceNotFoundException):
        opensearch.delete_package(PackageID=event["PhysicalResourceId"])


def handler(event: dict[str, Any], context: object) -> None:
    """The Lambda handler."""
    helper(event, context)
