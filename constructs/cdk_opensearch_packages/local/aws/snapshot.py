"""The local account saved to a folder and restored in a later process.

The command line (``python -m cdk_opensearch_packages.local deploy|destroy|status|...``) runs one
:class:`.LocalAws` per command; what the stacks made must outlive it so that the next ``deploy``
updates the stacks and ``destroy`` deletes them. A snapshot is taken after each stack operation
(never in the middle of one) and holds:

- ``state.json``: the CloudFormation stacks (template, parameters, resource states, outputs,
  exports), the OpenSearch packages, versions, associations and domains, the IAM roles and their
  inline policies, the EventBridge rules and targets, the S3 buckets and their objects (keys and
  content digests);
- ``blobs/<sha256>``: the content of every S3 object (assets, package sources).

Restoring recreates in a fresh moto what the stacks made: buckets and objects, roles, the
Lambda functions (unpacked from their code in S3 and registered with the local Lambda runner)
and their permission statements, rules and targets; then the OpenSearch state and the stacks.
``state.json`` is written to a temporary file and renamed, so a snapshot is complete or absent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cdk_opensearch_packages.local.cloudformation.resources import (
    LambdaFunctionProvisioner,
    ResourceRequest,
    permission_arguments,
)

if TYPE_CHECKING:
    from cdk_opensearch_packages.local.aws.env import LocalAws

__all__ = ["SNAPSHOT_FORMAT", "STATE_FILE", "read_state", "restore", "save", "write_json"]

STATE_FILE = "state.json"
SNAPSHOT_FORMAT = 1
_BLOBS = "blobs"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, sort_keys=True, default=str)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_state(folder: Path) -> dict[str, Any] | None:
    """The saved state of ``folder`` (``None`` when there is none).

    :raises ValueError: the file is not a snapshot this version understands.
    """
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(
            f"{path} has format {data.get('format')!r}, this version reads {SNAPSHOT_FORMAT}: "
            "run `reset` to start again"
        )
    return data


def save(aws: LocalAws, folder: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save what the local account holds now to ``folder``; return the state written.

    :param extra: more top-level keys to keep in ``state.json`` (e.g. the command history).
    """
    blobs = folder / _BLOBS
    blobs.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "cloudformation": aws.cloudformation.export_stacks(),
        "opensearch": aws.opensearch.export_state() if aws.opensearch is not None else None,
        "s3": _save_s3(aws, blobs),
        "iam": _save_iam(aws),
        "events": _save_events(aws),
        **(extra or {}),
    }
    write_json(folder / STATE_FILE, state)
    used = {obj["sha256"] for bucket in state["s3"] for obj in bucket["objects"]}
    for blob in blobs.iterdir():
        if blob.name not in used:
            with contextlib.suppress(OSError):
                blob.unlink()
    return state


def restore(aws: LocalAws, folder: Path, state: dict[str, Any]) -> None:
    """Recreate a saved account in a started :class:`.LocalAws` (whose moto is empty but for
    the bootstrap bucket and parameter)."""
    _restore_s3(aws, folder / _BLOBS, state.get("s3", []))
    _restore_iam(aws, state.get("iam", []))
    if aws.opensearch is not None and state.get("opensearch"):
        aws.opensearch.import_state(state["opensearch"])
    cloudformation = state.get("cloudformation") or {"format": 1, "stacks": []}
    aws.cloudformation.import_stacks(cloudformation)
    _restore_functions(aws)
    _restore_events(aws, state.get("events", []))


# -- S3 ----------------------------------------------------------------------------------------


def _objects(aws: LocalAws, bucket: str) -> Iterator[str]:
    paginator = aws.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            yield item["Key"]


def _save_s3(aws: LocalAws, blobs: Path) -> list[dict[str, Any]]:
    saved = []
    for bucket in aws.s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        objects = []
        for key in _objects(aws, name):
            data = aws.s3.get_object(Bucket=name, Key=key)["Body"].read()
            digest = hashlib.sha256(data).hexdigest()
            blob = blobs / digest
            if not blob.is_file():
                partial = blobs / f".{digest}.partial"
                partial.write_bytes(data)
                os.replace(partial, blob)
            objects.append({"key": key, "sha256": digest})
        saved.append({"name": name, "objects": objects})
    return saved


def _restore_s3(aws: LocalAws, blobs: Path, buckets: list[dict[str, Any]]) -> None:
    existing = {bucket["Name"] for bucket in aws.s3.list_buckets().get("Buckets", [])}
    for bucket in buckets:
        if bucket["name"] not in existing:
            aws.s3.create_bucket(Bucket=bucket["name"])
        for obj in bucket["objects"]:
            blob = blobs / obj["sha256"]
            if not blob.is_file():
                raise ValueError(
                    f"the saved state misses the content of s3://{bucket['name']}/{obj['key']} "
                    f"({blob}): run `reset` to start again"
                )
            aws.s3.put_object(Bucket=bucket["name"], Key=obj["key"], Body=blob.read_bytes())


# -- IAM ---------------------------------------------------------------------------------------


def _save_iam(aws: LocalAws) -> list[dict[str, Any]]:
    iam = aws.client("iam")
    roles = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            policies = {
                policy_name: iam.get_role_policy(RoleName=name, PolicyName=policy_name)[
                    "PolicyDocument"
                ]
                for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]
            }
            roles.append(
                {
                    "name": name,
                    "path": role.get("Path", "/"),
                    "trust": role.get("AssumeRolePolicyDocument", {}),
                    "policies": policies,
                }
            )
    return roles


def _restore_iam(aws: LocalAws, roles: list[dict[str, Any]]) -> None:
    iam = aws.client("iam")
    for role in roles:
        trust = role["trust"]
        iam.create_role(
            RoleName=role["name"],
            Path=role["path"],
            AssumeRolePolicyDocument=trust if isinstance(trust, str) else json.dumps(trust),
        )
        for policy_name, document in role["policies"].items():
            iam.put_role_policy(
                RoleName=role["name"],
                PolicyName=policy_name,
                PolicyDocument=document if isinstance(document, str) else json.dumps(document),
            )


# -- Lambda ------------------------------------------------------------------------------------


def _restore_functions(aws: LocalAws) -> None:
    """Register every function of the stacks again (code from S3), then their permissions."""
    services = aws.cloudformation.services
    functions = LambdaFunctionProvisioner(services)
    permissions = []
    for stack in aws.cloudformation.stacks():
        for state in stack.resources.values():
            if state.resource_type == "AWS::Lambda::Function" and state.status != "DELETE_FAILED":
                request = ResourceRequest(
                    stack.name, stack.stack_id, state.logical_id, state.resource_type
                )
                functions.create_with_name(request, state.physical_id, state.properties)
            elif state.resource_type == "AWS::Lambda::Permission":
                permissions.append(state)
    for state in permissions:
        with contextlib.suppress(ClientError):  # its function is gone (a failed stack)
            aws.lambda_client.add_permission(
                **permission_arguments(state.physical_id, state.properties)
            )


# -- EventBridge -------------------------------------------------------------------------------


def _save_events(aws: LocalAws) -> list[dict[str, Any]]:
    rules = []
    for rule in aws.events.list_rules().get("Rules", []):
        targets = aws.events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
        rules.append(
            {
                "name": rule["Name"],
                "schedule": rule.get("ScheduleExpression"),
                "pattern": rule.get("EventPattern"),
                "state": rule.get("State", "ENABLED"),
                "targets": [dict(target) for target in targets],
            }
        )
    return rules


def _restore_events(aws: LocalAws, rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        arguments: dict[str, Any] = {"Name": rule["name"], "State": rule["state"]}
        if rule.get("schedule"):
            arguments["ScheduleExpression"] = rule["schedule"]
        if rule.get("pattern"):
            arguments["EventPattern"] = rule["pattern"]
        aws.events.put_rule(**arguments)
        if rule["targets"]:
            aws.events.put_targets(Rule=rule["name"], Targets=rule["targets"])
