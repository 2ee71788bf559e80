"""How the CloudFormation stand-in provisions each resource type.

- Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``): a real request is
  delivered asynchronously to the ``ServiceToken`` function and the stand-in waits for the
  response on the local ``ResponseURL`` (up to ``ServiceTimeout``, default 3600 s, scaled).
- ``AWS::Lambda::Function``: the code is downloaded from the local S3 and unpacked read-only
  (as ``/var/task`` is), the function is registered with the local Lambda runner and with moto
  (so permissions and ``lambda:*`` calls see it).
- ``AWS::Lambda::Permission``: added to the function's policy in moto (the EventBridge scheduler
  reads it to decide whether a rule may invoke the function).
- ``AWS::IAM::Role``/``AWS::IAM::Policy``, ``AWS::S3::Bucket``: created in moto.
- ``AWS::OpenSearchService::Domain``: registered with the local OpenSearch packages API; an
  ``EngineVersion`` update is an engine upgrade there (associated custom plugins move to their
  same-name package for the new version, or the update fails).
- Anything else: recorded with a plausible physical id and ARN, so ``Ref``/``GetAtt`` resolve.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import random
import shutil
import stat
import string
import threading
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from cdk_opensearch_packages.local.aws.constants import (
    ACCOUNT_ID,
    PARTITION,
    REGION,
    URL_SUFFIX,
    credentials,
)
from cdk_opensearch_packages.local.awslambda.runner import (
    FunctionConfig,
    LambdaRunner,
    UnknownFunctionError,
    function_arn,
)
from cdk_opensearch_packages.local.cloudformation.intrinsics import stringify
from cdk_opensearch_packages.local.cloudformation.model import ResourceFailed, is_custom_resource
from cdk_opensearch_packages.local.cloudformation.responses import ResponseListener

if TYPE_CHECKING:
    from types_boto3_lambda import LambdaClient
    from types_boto3_s3 import S3Client

    from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService

__all__ = [
    "DEFAULT_SERVICE_TIMEOUT",
    "CustomResourceProvisioner",
    "GenericProvisioner",
    "Provisioned",
    "Provisioner",
    "ProvisioningServices",
    "ResourceRequest",
    "generated_name",
    "provisioner_for",
]

#: CloudFormation waits this long for a custom resource response unless ServiceTimeout says less.
DEFAULT_SERVICE_TIMEOUT = 3600
_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class ResourceRequest:
    """Which resource an operation is about.

    :param stack_name: the stack.
    :param stack_id: the stack ARN.
    :param logical_id: the resource's logical id.
    :param resource_type: the resource type.
    """

    stack_name: str
    stack_id: str
    logical_id: str
    resource_type: str


@dataclass(frozen=True)
class Provisioned:
    """The result of a create or update.

    :param physical_id: the physical id (a different one on update means replacement).
    :param attributes: the ``Fn::GetAtt`` attributes.
    """

    physical_id: str
    attributes: dict[str, Any]


@dataclass
class ProvisioningServices:
    """What provisioners talk to.

    :param s3: moto's S3.
    :param iam: moto's IAM (an untyped boto3 client).
    :param lambda_client: moto's Lambda (function registry and policies).
    :param runner: the local Lambda runner.
    :param listener: the ``ResponseURL`` endpoint.
    :param opensearch: the local OpenSearch packages API (``None``: domains are only recorded).
    :param code_root: where function code is unpacked.
    :param time_scale: real seconds per emulated second (applied to ``ServiceTimeout``).
    :param on_custom_request: called with each custom resource request sent (for tests/demo).
    :param sent_requests: every custom resource request sent, oldest first.
    :param accounts: the emulated accounts (the default one first).
    :param stack_accounts: stack name -> account, for stacks deployed into another account than
        the default one: their functions run with that account's credentials and their domains
        belong to it (everything else stays in the one moto account).
    """

    s3: S3Client
    iam: Any
    lambda_client: LambdaClient
    runner: LambdaRunner
    listener: ResponseListener
    opensearch: LocalOpenSearchService | None
    code_root: Path
    time_scale: float = 1.0
    on_custom_request: Callable[[dict[str, Any]], None] | None = None
    sent_requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    accounts: tuple[str, ...] = (ACCOUNT_ID,)
    stack_accounts: dict[str, str] = field(default_factory=dict)

    def account_of(self, stack_name: str) -> str | None:
        """The account of a stack deployed into another account than the default one."""
        account = self.stack_accounts.get(stack_name)
        return None if account in (None, ACCOUNT_ID) else account


def _account_environment(services: ProvisioningServices, stack_name: str) -> dict[str, str]:
    account = services.account_of(stack_name)
    return {} if account is None else credentials(account)


def _random_suffix(length: int = 12, lowercase: bool = False) -> str:
    alphabet = string.ascii_lowercase + string.digits
    if not lowercase:
        alphabet += string.ascii_uppercase
    return "".join(_RANDOM.choice(alphabet) for _ in range(length))


def generated_name(
    request: ResourceRequest, max_length: int = 64, *, lowercase: bool = False, suffix: int = 12
) -> str:
    """A name like CloudFormation generates: ``<stack>-<logical id>-<random>``, truncated."""
    random_part = _random_suffix(suffix, lowercase)
    budget = max_length - len(random_part) - 2
    stack_part = request.stack_name[: max(budget // 2, 1)]
    logical_part = request.logical_id[: max(budget - len(stack_part), 1)]
    name = f"{stack_part}-{logical_part}-{random_part}"
    if lowercase:
        name = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower())
    return name[:max_length]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Provisioner:
    """Base class: how one resource type is created, updated and deleted.

    :cvar replacement_properties: properties whose change requires a new physical resource
        (``"*"``: every property).
    """

    replacement_properties: frozenset[str] = frozenset()

    def __init__(self, services: ProvisioningServices) -> None:
        self.services = services

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Create the resource."""
        raise NotImplementedError

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """Update the resource in place (default: nothing to do, attributes recomputed)."""
        return Provisioned(physical_id, self.attributes(request, physical_id, props))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """Delete the resource (something already gone is not an error)."""

    def needs_replacement(
        self, request: ResourceRequest, props: dict[str, Any], old_props: dict[str, Any]
    ) -> bool:
        """Whether the change from ``old_props`` to ``props`` needs a new physical resource."""
        changed = {
            key for key in set(props) | set(old_props) if props.get(key) != old_props.get(key)
        }
        if "*" in self.replacement_properties:
            return bool(changed)
        return bool(changed & self.replacement_properties)

    def attributes(
        self, request: ResourceRequest, physical_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``Fn::GetAtt`` attributes of a resource."""
        return {"Arn": plausible_arn(request.resource_type, physical_id)}


def plausible_arn(resource_type: str, physical_id: str) -> str:
    """An ARN shaped like the service's for a resource this stand-in only records."""
    parts = resource_type.split("::")
    service = parts[1].lower() if len(parts) >= 3 else "cloudformation"
    kind = parts[2] if len(parts) >= 3 else "resource"
    kind = "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(kind))
    if resource_type == "AWS::Logs::LogGroup":
        return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{physical_id}:*"
    if resource_type == "AWS::SNS::Topic":
        return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT_ID}:{physical_id}"
    if resource_type == "AWS::SQS::Queue":
        return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{physical_id}"
    if resource_type == "AWS::Events::Rule":
        return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{physical_id}"
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT_ID}:{kind}/{physical_id}"


class GenericProvisioner(Provisioner):
    """Records a resource the emulation does not model: a plausible id and ARN, no side effect."""

    _NAME_PROPERTIES: ClassVar[dict[str, str]] = {
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::SNS::Topic": "TopicName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Events::Rule": "Name",
    }

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Make up a physical id (the explicit name property when the type has one)."""
        name_property = self._NAME_PROPERTIES.get(request.resource_type)
        physical_id = str(props.get(name_property, "")) if name_property else ""
        if not physical_id:
            physical_id = generated_name(request)
        if request.resource_type == "AWS::SNS::Topic":
            physical_id = plausible_arn(request.resource_type, physical_id)
        return Provisioned(physical_id, self.attributes(request, physical_id, props))

    def needs_replacement(
        self, request: ResourceRequest, props: dict[str, Any], old_props: dict[str, Any]
    ) -> bool:
        """An explicit name change replaces the resource; anything else updates it."""
        name_property = self._NAME_PROPERTIES.get(request.resource_type)
        return name_property is not None and props.get(name_property) != old_props.get(
            name_property
        )


class CustomResourceProvisioner(Provisioner):
    """Delivers requests to the ``ServiceToken`` function and waits for its response."""

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Send ``Create``."""
        return self._request("Create", request, props, None, None)

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """Send ``Update`` (a different physical id in the response means replacement)."""
        if props.get("ServiceToken") != old_props.get("ServiceToken"):
            raise ResourceFailed("Modifying service token is not allowed.")
        return self._request("Update", request, props, old_props, physical_id)

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """Send ``Delete``."""
        self._request("Delete", request, props, None, physical_id)

    def needs_replacement(
        self, request: ResourceRequest, props: dict[str, Any], old_props: dict[str, Any]
    ) -> bool:
        """Never decided here: the handler's response tells (a new physical id)."""
        return False

    def _request(
        self,
        request_type: str,
        request: ResourceRequest,
        props: dict[str, Any],
        old_props: dict[str, Any] | None,
        physical_id: str | None,
    ) -> Provisioned:
        token = props.get("ServiceToken")
        if not isinstance(token, str) or not token:
            raise ResourceFailed("ServiceToken is required for a custom resource", invoked=False)
        timeout = _service_timeout(props)
        request_id = str(uuid.uuid4())
        listener = self.services.listener
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": listener.new_response_url(
                stack_id=request.stack_id, logical_id=request.logical_id, request_id=request_id
            ),
            "StackId": request.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": request.logical_id,
            "ResourceType": request.resource_type,
            "ResourceProperties": stringify(props),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_props is not None:
            event["OldResourceProperties"] = stringify(old_props)
        with self.services.lock:
            self.services.sent_requests.append(copy.deepcopy(event))
        if self.services.on_custom_request is not None:
            self.services.on_custom_request(event)
        try:
            self.services.runner.invoke_async(token, event)
        except UnknownFunctionError as error:
            raise ResourceFailed(
                f"Failed to invoke the ServiceToken {token}: {error} "
                "(only local Lambda functions can serve custom resources here)"
            ) from error
        response = listener.wait(request_id, timeout * self.services.time_scale)
        if response is None:
            raise ResourceFailed(
                "CloudFormation did not receive a response from your Custom Resource within "
                f"its ServiceTimeout ({timeout} seconds): timed out. Please check your logs "
                f"for requestId [{request_id}]."
            )
        if response.status != "SUCCESS":
            raise ResourceFailed(
                "Received response status [FAILED] from custom resource. Message returned: "
                f"{response.reason} (RequestId: {request_id})",
                physical_id=response.physical_resource_id or None,
            )
        return Provisioned(response.physical_resource_id, dict(response.data))


def _service_timeout(props: Mapping[str, Any]) -> int:
    raw = props.get("ServiceTimeout")
    if raw is None:
        return DEFAULT_SERVICE_TIMEOUT
    try:
        value = int(str(raw))
    except ValueError:
        raise ResourceFailed(
            f"ServiceTimeout must be an integer, got {raw!r}", invoked=False
        ) from None
    if not 1 <= value <= DEFAULT_SERVICE_TIMEOUT:
        raise ResourceFailed(
            f"ServiceTimeout must be between 1 and 3600 seconds, got {value}", invoked=False
        )
    return value


class LambdaFunctionProvisioner(Provisioner):
    """``AWS::Lambda::Function``: local runner + moto's function registry."""

    replacement_properties = frozenset({"FunctionName", "PackageType"})
    _lock = threading.Lock()

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Unpack the code, register the function."""
        name = str(props.get("FunctionName") or generated_name(request))
        self._deploy(request, name, props, None)
        return Provisioned(name, self.attributes(request, name, props))

    def create_with_name(self, request: ResourceRequest, name: str, props: dict[str, Any]) -> None:
        """Register a function that exists in a saved stack again (a later process)."""
        self._deploy(request, name, props, None)

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """New code and/or configuration for the next invocations."""
        self._deploy(request, physical_id, props, old_props)
        return Provisioned(physical_id, self.attributes(request, physical_id, props))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """Unregister the function (running invocations finish; queued events are dropped)."""
        self.services.runner.unregister(physical_id)
        try:
            self.services.lambda_client.delete_function(FunctionName=physical_id)
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise ResourceFailed(f"DeleteFunction failed: {error}") from error

    def attributes(
        self, request: ResourceRequest, physical_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        """``Arn``."""
        return {"Arn": function_arn(physical_id)}

    def _deploy(
        self,
        request: ResourceRequest,
        name: str,
        props: dict[str, Any],
        old_props: dict[str, Any] | None,
    ) -> None:
        code = props.get("Code")
        if not isinstance(code, dict):
            raise ResourceFailed("Properties validation failed: Code is required")
        if "ImageUri" in code:
            raise ResourceFailed("Container image functions are not supported by the emulation")
        handler = str(props.get("Handler", ""))
        runtime = str(props.get("Runtime", ""))
        role = str(props.get("Role", ""))
        if not handler or not runtime or not role:
            raise ResourceFailed(
                "Properties validation failed: Handler, Runtime and Role are required for a "
                "zip-packaged function"
            )
        code_bytes, moto_code = self._fetch_code(code, runtime)
        code_dir = self._unpack(name, code_bytes)
        environment = props.get("Environment", {}).get("Variables", {})
        timeout = int(str(props.get("Timeout", 3)))
        memory = int(str(props.get("MemorySize", 128)))
        config = FunctionConfig(
            name=name,
            code_dir=code_dir,
            handler=handler,
            runtime=runtime,
            environment={str(k): str(v) for k, v in environment.items()},
            timeout=float(timeout),
            memory_mb=memory,
            role=role,
            account_environment=_account_environment(self.services, request.stack_name),
        )
        client = self.services.lambda_client
        try:
            if old_props is None:
                self._ensure_role(role)
                client.create_function(
                    FunctionName=name,
                    Runtime=runtime,  # type: ignore[arg-type]
                    Role=role,
                    Handler=handler,
                    Code=moto_code,  # type: ignore[arg-type]
                    Timeout=timeout,
                    MemorySize=memory,
                    Environment={"Variables": dict(config.environment)},
                )
            else:
                client.update_function_code(FunctionName=name, ZipFile=code_bytes)
                client.update_function_configuration(
                    FunctionName=name,
                    Runtime=runtime,  # type: ignore[arg-type]
                    Handler=handler,
                    Timeout=timeout,
                    MemorySize=memory,
                    Environment={"Variables": dict(config.environment)},
                )
        except ClientError as error:
            raise ResourceFailed(f"Lambda rejected the function: {error}") from error
        self.services.runner.register(config)

    def _ensure_role(self, role_arn: str) -> None:
        """A role from outside the stack (imported) is made to exist in moto."""
        name = role_arn.rsplit("/", 1)[-1]
        try:
            self.services.iam.get_role(RoleName=name)
        except ClientError:
            self.services.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                ),
            )

    def _fetch_code(self, code: dict[str, Any], runtime: str) -> tuple[bytes, dict[str, Any]]:
        if "ZipFile" in code:
            source = str(code["ZipFile"])
            module = "index.js" if runtime.startswith("nodejs") else "index.py"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                info = zipfile.ZipInfo(module, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                archive.writestr(info, source)
            data = buffer.getvalue()
            return data, {"ZipFile": data}
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if not bucket or not key:
            raise ResourceFailed("Code must have S3Bucket and S3Key, or ZipFile")
        try:
            obj = self.services.s3.get_object(Bucket=str(bucket), Key=str(key))
        except ClientError as error:
            raise ResourceFailed(
                f"Error occurred while GetObject. S3 Error Code: {_error_code(error)}. "
                f"S3 Error Message: {error} (s3://{bucket}/{key})"
            ) from error
        return obj["Body"].read(), {"S3Bucket": str(bucket), "S3Key": str(key)}

    def _unpack(self, name: str, data: bytes) -> Path:
        digest = hashlib.sha256(data).hexdigest()[:16]
        target = self.services.code_root / f"{name}-{digest}"
        with self._lock:
            if target.is_dir():
                return target
            partial = self.services.code_root / f".{name}-{uuid.uuid4().hex}"
            partial.mkdir(parents=True)
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    archive.extractall(partial)
            except zipfile.BadZipFile as error:
                shutil.rmtree(partial, ignore_errors=True)
                raise ResourceFailed(f"Could not unzip uploaded file: {error}") from error
            make_read_only(partial)
            partial.rename(target)
        return target


def make_read_only(root: Path) -> None:
    """Make a tree read-only, as ``/var/task`` is on AWS."""
    for current, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(current) / name
            mode = path.stat().st_mode
            path.chmod(stat.S_IMODE(mode) & ~0o222 | 0o444)
        for name in dirnames:
            (Path(current) / name).chmod(0o555)
    root.chmod(0o555)


def remove_tree(root: Path) -> None:
    """Delete a tree made read-only by :func:`make_read_only`."""
    if not root.exists():
        return
    for current, dirnames, _ in os.walk(root):
        Path(current).chmod(0o755)
        for name in dirnames:
            (Path(current) / name).chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)


def permission_arguments(statement_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """``AddPermission``'s arguments for an ``AWS::Lambda::Permission`` statement."""
    arguments: dict[str, Any] = {
        "FunctionName": str(props.get("FunctionName", "")),
        "StatementId": statement_id,
        "Action": str(props.get("Action", "")),
        "Principal": str(props.get("Principal", "")),
    }
    for optional in ("SourceArn", "SourceAccount", "EventSourceToken", "PrincipalOrgID"):
        if props.get(optional):
            arguments[optional] = str(props[optional])
    return arguments


class LambdaPermissionProvisioner(Provisioner):
    """``AWS::Lambda::Permission``: a statement of the function's policy in moto."""

    replacement_properties = frozenset({"*"})

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """``AddPermission`` with the generated statement id as physical id."""
        statement_id = generated_name(request, 100)
        try:
            self.services.lambda_client.add_permission(**permission_arguments(statement_id, props))
        except ClientError as error:
            raise ResourceFailed(f"AddPermission failed: {error}") from error
        return Provisioned(statement_id, {})

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """``RemovePermission`` (gone already: fine)."""
        try:
            self.services.lambda_client.remove_permission(
                FunctionName=str(props.get("FunctionName", "")), StatementId=physical_id
            )
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise ResourceFailed(f"RemovePermission failed: {error}") from error

    def attributes(
        self, request: ResourceRequest, physical_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        """None."""
        return {}


class IamRoleProvisioner(Provisioner):
    """``AWS::IAM::Role`` in moto (inline policies included; managed ones are recorded)."""

    replacement_properties = frozenset({"RoleName", "Path"})

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """``CreateRole`` + ``PutRolePolicy`` for each inline policy."""
        name = str(props.get("RoleName") or generated_name(request, 64))
        arguments: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(props.get("AssumeRolePolicyDocument", {})),
            "Path": str(props.get("Path", "/")),
        }
        if props.get("Description"):
            arguments["Description"] = str(props["Description"])
        try:
            role = self.services.iam.create_role(**arguments)["Role"]
        except ClientError as error:
            raise ResourceFailed(f"CreateRole failed: {error}") from error
        self._put_policies(name, props.get("Policies", []))
        return Provisioned(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """New trust policy and inline policies."""
        iam = self.services.iam
        iam.update_assume_role_policy(
            RoleName=physical_id,
            PolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
        )
        new_names = {p.get("PolicyName") for p in props.get("Policies", [])}
        for policy in old_props.get("Policies", []):
            if policy.get("PolicyName") not in new_names:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=policy["PolicyName"])
        self._put_policies(physical_id, props.get("Policies", []))
        return Provisioned(physical_id, dict(old_attributes))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """Delete inline policies, then the role."""
        iam = self.services.iam
        try:
            for policy_name in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=policy_name)
            iam.delete_role(RoleName=physical_id)
        except ClientError as error:
            if _error_code(error) != "NoSuchEntity":
                raise ResourceFailed(f"DeleteRole failed: {error}") from error

    def _put_policies(self, role_name: str, policies: list[dict[str, Any]]) -> None:
        for policy in policies:
            self.services.iam.put_role_policy(
                RoleName=role_name,
                PolicyName=str(policy["PolicyName"]),
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )


class IamPolicyProvisioner(Provisioner):
    """``AWS::IAM::Policy``: an inline policy on each of its roles in moto."""

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """``PutRolePolicy`` on every role."""
        physical_id = generated_name(request, 128)
        self._put(props)
        return Provisioned(physical_id, {"Id": physical_id})

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """Remove from the old roles, put on the new ones."""
        self._remove(old_props)
        self._put(props)
        return Provisioned(physical_id, dict(old_attributes))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """``DeleteRolePolicy`` on every role."""
        self._remove(props)

    def _put(self, props: dict[str, Any]) -> None:
        for role in props.get("Roles", []):
            try:
                self.services.iam.put_role_policy(
                    RoleName=str(role),
                    PolicyName=str(props["PolicyName"]),
                    PolicyDocument=json.dumps(props["PolicyDocument"]),
                )
            except ClientError as error:
                raise ResourceFailed(f"PutRolePolicy failed: {error}") from error

    def _remove(self, props: dict[str, Any]) -> None:
        for role in props.get("Roles", []):
            try:
                self.services.iam.delete_role_policy(
                    RoleName=str(role), PolicyName=str(props["PolicyName"])
                )
            except ClientError as error:
                if _error_code(error) != "NoSuchEntity":
                    raise ResourceFailed(f"DeleteRolePolicy failed: {error}") from error


class S3BucketProvisioner(Provisioner):
    """``AWS::S3::Bucket`` in moto (deleting a bucket that is not empty fails, as on AWS)."""

    replacement_properties = frozenset({"BucketName"})

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """``CreateBucket``."""
        name = str(props.get("BucketName") or generated_name(request, 63, lowercase=True))
        try:
            self.services.s3.create_bucket(Bucket=name)
        except ClientError as error:
            raise ResourceFailed(f"{name}: {error}") from error
        return Provisioned(name, self.attributes(request, name, props))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """``DeleteBucket``."""
        try:
            self.services.s3.delete_bucket(Bucket=physical_id)
        except ClientError as error:
            if _error_code(error) != "NoSuchBucket":
                raise ResourceFailed(f"{physical_id}: {error}") from error

    def attributes(
        self, request: ResourceRequest, physical_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        """``Arn``, ``DomainName``, ``RegionalDomainName``, ``DualStackDomainName``,
        ``WebsiteURL``."""
        return {
            "Arn": f"arn:{PARTITION}:s3:::{physical_id}",
            "DomainName": f"{physical_id}.s3.{URL_SUFFIX}",
            "RegionalDomainName": f"{physical_id}.s3.{REGION}.{URL_SUFFIX}",
            "DualStackDomainName": f"{physical_id}.s3.dualstack.{REGION}.{URL_SUFFIX}",
            "WebsiteURL": f"http://{physical_id}.s3-website-{REGION}.{URL_SUFFIX}",
        }


class OpenSearchDomainProvisioner(Provisioner):
    """``AWS::OpenSearchService::Domain``: a domain of the local OpenSearch packages API."""

    replacement_properties = frozenset({"DomainName"})
    default_engine_version = "OpenSearch_2.19"

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Register the domain (a generated lowercase name of at most 28 characters)."""
        name = str(props.get("DomainName") or self._generated(request))
        self._register(name, props, request)
        return Provisioned(name, self.attributes(request, name, props))

    def update(
        self,
        request: ResourceRequest,
        physical_id: str,
        props: dict[str, Any],
        old_props: dict[str, Any],
        old_attributes: dict[str, Any],
    ) -> Provisioned:
        """A new engine version is an upgrade of the same domain; it fails (as AWS's blue/green
        deployment does) when an associated custom plugin has no package of its name for the
        new version."""
        self._register(physical_id, props, request)
        return Provisioned(physical_id, dict(old_attributes))

    def delete(self, request: ResourceRequest, physical_id: str, props: dict[str, Any]) -> None:
        """Unregister the domain (its associations go with it)."""
        if self.services.opensearch is not None:
            self.services.opensearch.unregister_domain(physical_id)

    def attributes(
        self, request: ResourceRequest, physical_id: str, props: dict[str, Any]
    ) -> dict[str, Any]:
        """``Arn``, ``DomainArn``, ``DomainEndpoint``, ``Id``."""
        arn = f"arn:{PARTITION}:es:{REGION}:{ACCOUNT_ID}:domain/{physical_id}"
        digest = hashlib.sha256(physical_id.encode()).hexdigest()[:26]
        return {
            "Arn": arn,
            "DomainArn": arn,
            "DomainEndpoint": f"search-{physical_id}-{digest}.{REGION}.es.{URL_SUFFIX}",
            "Id": physical_id,
        }

    def _register(self, name: str, props: dict[str, Any], request: ResourceRequest) -> None:
        if self.services.opensearch is None:
            return
        version = str(props.get("EngineVersion") or self.default_engine_version)
        account = self.services.account_of(request.stack_name)
        try:
            self.services.opensearch.register_domain(name, version, account_id=account)
        except ValueError as error:
            raise ResourceFailed(f"Invalid domain: {error}") from error

    @staticmethod
    def _generated(request: ResourceRequest) -> str:
        stem = "".join(c for c in request.logical_id.lower() if c.isalnum())[:14] or "domain"
        if not stem[0].isalpha():
            stem = "d" + stem
        return f"{stem}-{_random_suffix(13, lowercase=True)}"[:28]


class UnsupportedProvisioner(Provisioner):
    """A type the emulation cannot stand in for without lying (nested stacks, ...): fails."""

    def create(self, request: ResourceRequest, props: dict[str, Any]) -> Provisioned:
        """Fail clearly."""
        raise ResourceFailed(
            f"{request.resource_type} is not supported by the local emulation "
            "(deploy the nested or external pieces as separate stacks)"
        )


_PROVISIONERS: dict[str, type[Provisioner]] = {
    "AWS::CloudFormation::Stack": UnsupportedProvisioner,
    "AWS::CloudFormation::StackSet": UnsupportedProvisioner,
    "AWS::Lambda::Function": LambdaFunctionProvisioner,
    "AWS::Lambda::Permission": LambdaPermissionProvisioner,
    "AWS::IAM::Role": IamRoleProvisioner,
    "AWS::IAM::Policy": IamPolicyProvisioner,
    "AWS::S3::Bucket": S3BucketProvisioner,
    "AWS::OpenSearchService::Domain": OpenSearchDomainProvisioner,
}


def provisioner_for(resource_type: str, services: ProvisioningServices) -> Provisioner:
    """The provisioner of a resource type."""
    if is_custom_resource(resource_type):
        return CustomResourceProvisioner(services)
    return _PROVISIONERS.get(resource_type, GenericProvisioner)(services)
