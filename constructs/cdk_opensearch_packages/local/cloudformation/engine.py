"""The CloudFormation stand-in: stack create, update and delete with CloudFormation's semantics.

Resources are provisioned in dependency order (``DependsOn`` plus every ``Ref``, ``Fn::GetAtt``
and ``Fn::Sub`` reference), independent ones in parallel threads, as CloudFormation does. Each
step is logged as a stack event (``CREATE_IN_PROGRESS``, ``UPDATE_COMPLETE``, ``DELETE_SKIPPED``,
...).

- Create: a failure stops new work, lets the running operations finish and rolls back: every
  resource created is deleted (a custom resource whose create FAILED gets a ``Delete`` with the
  physical id of its FAILED response; one whose Create was never sent, because its properties
  could not be resolved or lack a valid ``ServiceToken``, gets none) -> ``ROLLBACK_COMPLETE``.
- Update: resources whose resolved properties changed are updated (custom resources get
  ``Update`` with ``OldResourceProperties``); a new physical id (or a change of a
  replacement property of a modelled type) is a replacement, and the old physical resource is
  deleted in the cleanup phase, after every update succeeded, together with the resources gone
  from the template. On a failure the resources updated so far (the failed one included) are
  updated back, with the new properties as ``OldResourceProperties``; the resources created by
  the update and the new physical resources of replacements are deleted in the rollback cleanup
  phase -> ``UPDATE_ROLLBACK_COMPLETE``.
- Delete: every resource in reverse dependency order (``DeletionPolicy: Retain`` is skipped).

Template problems (bad parameters, failed ``Rules``, dependency cycles, unknown references)
raise :class:`.TemplateError` before anything changes, like a ``ValidationError`` of the API.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, REGION
from cdk_opensearch_packages.local.cloudformation.assembly import (
    CloudAssembly,
    StackArtifact,
    publish_file_assets,
)
from cdk_opensearch_packages.local.cloudformation.intrinsics import (
    Intrinsics,
    TemplateError,
    pseudo_parameters,
    references,
)
from cdk_opensearch_packages.local.cloudformation.model import (
    STACK_RESOURCE_TYPE,
    ResourceFailed,
    ResourceState,
    Stack,
    StackEvent,
    StackResult,
    is_custom_resource,
)
from cdk_opensearch_packages.local.cloudformation.resources import (
    Provisioned,
    ProvisioningServices,
    ResourceRequest,
    plausible_arn,
    provisioner_for,
)

__all__ = ["LocalCloudFormation"]

_LOG = logging.getLogger(__name__)
_SSM_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"
_RETAIN = ("Retain", "RetainExceptOnCreate")


@dataclass
class _Operation:
    """State of one stack operation."""

    stack: Stack
    kind: str
    events: list[StackEvent] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)


@dataclass
class _Plan:
    """A template prepared for provisioning."""

    template: dict[str, Any]
    parameters: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    dependencies: dict[str, set[str]]
    intrinsics: Intrinsics


@dataclass
class _Run:
    """What a create or update records while its resources are provisioned in parallel.

    :param view: the resources as ``Ref``/``GetAtt`` see them (new states as they complete).
    :param old: the resources before an update (empty for a create).
    :param created: resources created by the operation.
    :param updated: resources updated in place (or being updated) -> the properties sent.
    :param replaced: resources replaced -> their old state.
    :param failed_creates: custom resources whose failed create (or replacing update) left a
        physical id in the FAILED response: deleted on rollback.
    :param reasons: failure reasons, first first.
    """

    operation: _Operation
    view: dict[str, ResourceState] = field(default_factory=dict)
    old: dict[str, ResourceState] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)
    replaced: dict[str, ResourceState] = field(default_factory=dict)
    failed_creates: dict[str, ResourceState] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, reason: str) -> bool:
        """Record a failure reason; return ``False`` (the resource failed)."""
        with self.lock:
            self.reasons.append(reason)
        return False

    @property
    def reason(self) -> str:
        """The first failure reason."""
        with self.lock:
            return self.reasons[0] if self.reasons else ""


class _Lookup:
    """What ``Ref``/``Fn::GetAtt``/``Fn::ImportValue`` see during an operation."""

    def __init__(self, engine: LocalCloudFormation, run: _Run) -> None:
        self._engine = engine
        self._run = run
        self._operation = run.operation

    def _state(self, logical_id: str) -> ResourceState:
        with self._run.lock:
            state = self._run.view.get(logical_id)
        if state is None:
            raise TemplateError(f"{logical_id} is not available (not created or not in the stack)")
        return state

    def ref(self, logical_id: str) -> Any:
        return self._state(logical_id).physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        state = self._state(logical_id)
        if attribute in state.attributes:
            return state.attributes[attribute]
        if is_custom_resource(state.resource_type):
            raise ResourceFailed(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute} "
                f"key in object {self._operation.stack.stack_id}|{logical_id} (its Data keys: "
                f"{sorted(state.attributes)})"
            )
        if attribute == "Arn":
            return plausible_arn(state.resource_type, state.physical_id)
        return f"{state.physical_id}.{attribute}"

    def import_value(self, name: str) -> Any:
        self._operation.imports.add(name)
        return self._engine.export_value(name, importer=self._operation.stack.name)


class LocalCloudFormation:
    """Stacks of the local account and Region.

    :param services: what provisioners use (local S3, IAM, Lambda, OpenSearch, listener).
    :param ssm_parameter: reads an SSM parameter (for ``AWS::SSM::Parameter::Value<...>``
        parameters such as the CDK's ``BootstrapVersion``).
    :param max_workers: how many resources are provisioned at the same time.
    """

    def __init__(
        self,
        services: ProvisioningServices,
        *,
        ssm_parameter: Callable[[str], str],
        max_workers: int = 16,
    ) -> None:
        self.services = services
        self._ssm_parameter = ssm_parameter
        self._max_workers = max_workers
        self._stacks: dict[str, Stack] = {}
        self._exports: dict[str, tuple[str, Any]] = {}
        self._lock = threading.RLock()
        self._operation_lock = threading.Lock()
        self._listeners: list[Callable[[StackEvent], None]] = []

    # -- public API --------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[StackEvent], None]) -> None:
        """Call ``listener`` with every stack event from now on."""
        self._listeners.append(listener)

    def custom_requests(
        self, *, stack_name: str | None = None, logical_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom resource requests sent so far (copies), oldest first."""
        with self.services.lock:
            sent = list(self.services.sent_requests)
        return [
            event
            for event in sent
            if (stack_name is None or event["StackId"].split("/")[1] == stack_name)
            and (logical_id is None or event["LogicalResourceId"] == logical_id)
        ]

    def stack(self, name: str) -> Stack | None:
        """A stack by name (``None`` when it does not exist)."""
        with self._lock:
            return self._stacks.get(name)

    def stacks(self) -> list[Stack]:
        """Every stack."""
        with self._lock:
            return list(self._stacks.values())

    def export_value(self, name: str, importer: str | None = None) -> Any:
        """The value of an export (``Fn::ImportValue``).

        :raises TemplateError: when no stack exports ``name``.
        """
        with self._lock:
            if name not in self._exports:
                raise TemplateError(f"No export named {name} found.")
            exporter, value = self._exports[name]
        if importer is not None and exporter == importer:
            raise TemplateError(f"Stack {importer} cannot import its own export {name}")
        return value

    def deploy(
        self,
        assembly: CloudAssembly | Path | str,
        stack_name: str | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
    ) -> StackResult:
        """Publish the assets of one stack of an assembly and create or update the stack.

        :param assembly: a loaded assembly or its directory (``cdk.out``).
        :param stack_name: which stack (required when the assembly holds several).
        :param parameters: parameter values (others take their defaults).
        """
        loaded = assembly if isinstance(assembly, CloudAssembly) else CloudAssembly.load(assembly)
        if stack_name is None:
            if len(loaded.stacks) != 1:
                names = ", ".join(s.stack_name for s in loaded.stacks)
                raise TemplateError(f"The assembly holds several stacks ({names}): name one")
            artifact = loaded.stacks[0]
        else:
            artifact = loaded.stack(stack_name)
        return self.deploy_artifact(artifact, parameters=parameters)

    def deploy_all(
        self, assembly: CloudAssembly | Path | str, *, stop_on_failure: bool = True
    ) -> list[StackResult]:
        """Deploy every stack of an assembly, dependencies first."""
        loaded = assembly if isinstance(assembly, CloudAssembly) else CloudAssembly.load(assembly)
        results = []
        for artifact in loaded.stacks:
            result = self.deploy_artifact(artifact)
            results.append(result)
            if stop_on_failure and not result.succeeded:
                break
        return results

    def deploy_artifact(
        self, artifact: StackArtifact, *, parameters: Mapping[str, str] | None = None
    ) -> StackResult:
        """Publish a stack artifact's assets, then create or update the stack."""
        publish_file_assets(self.services.s3, artifact.assets)
        return self.deploy_template(artifact.stack_name, artifact.template, parameters=parameters)

    def deploy_template(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
    ) -> StackResult:
        """Create the stack, or update it when it exists (assets must already be in S3).

        A stack left in ``ROLLBACK_COMPLETE`` is deleted first, as the CDK CLI does.

        :raises TemplateError: when the template is invalid (nothing changes).
        """
        with self._operation_lock:
            existing = self.stack(stack_name)
            if existing is not None and existing.status == "ROLLBACK_COMPLETE":
                self._delete(existing)
                existing = None
            if existing is not None and existing.status.endswith(("_FAILED", "_IN_PROGRESS")):
                raise TemplateError(
                    f"Stack {stack_name} is in {existing.status} state and can not be updated."
                )
            copied = copy.deepcopy(dict(template))
            if existing is None:
                return self._create(stack_name, copied, dict(parameters or {}))
            return self._update(existing, copied, dict(parameters or {}))

    def delete(self, stack_name: str, *, retain_resources: Iterable[str] = ()) -> StackResult:
        """Delete a stack (a stack that does not exist: ``DELETE_COMPLETE``, nothing done).

        :param retain_resources: logical ids to leave in place (``DELETE_SKIPPED``), as
            ``delete-stack --retain-resources`` allows for a stack in ``DELETE_FAILED`` or
            ``ROLLBACK_FAILED``.
        :raises TemplateError: when another stack imports one of its exports, or resources are
            retained while the stack is not in a failed state.
        """
        retained = frozenset(retain_resources)
        with self._operation_lock:
            stack = self.stack(stack_name)
            if stack is None:
                return StackResult(stack_name, "", "DELETE", "DELETE_COMPLETE", changed=False)
            if retained and not stack.status.endswith("_FAILED"):
                raise TemplateError(
                    "Invalid operation on stack: resources can be retained only when the stack "
                    f"is in a failed state (it is {stack.status})"
                )
            return self._delete(stack, retained)

    # -- persistence (the command line keeps stacks between processes) ----------------------

    def export_stacks(self) -> dict[str, Any]:
        """:return: every stack (template, parameters, resources, status, outputs, exports,
        imports; not the events) as JSON types, for :meth:`import_stacks` in a later process."""
        with self._lock:
            return {
                "format": 1,
                "stacks": [
                    {
                        "name": stack.name,
                        "stack_id": stack.stack_id,
                        "template": copy.deepcopy(stack.template),
                        "parameters": copy.deepcopy(stack.parameters),
                        "resources": [asdict(state) for state in stack.resources.values()],
                        "status": stack.status,
                        "outputs": copy.deepcopy(stack.outputs),
                        "exports": copy.deepcopy(stack.exports),
                        "imports": sorted(stack.imports),
                    }
                    for stack in self._stacks.values()
                ],
            }

    def import_stacks(self, data: Mapping[str, Any]) -> None:
        """Replace the stacks with exported ones (their resources must exist already).

        :raises ValueError: unknown format.
        """
        if data.get("format") != 1:
            raise ValueError(f"unknown stack format {data.get('format')!r}")
        with self._lock:
            self._stacks = {}
            self._exports = {}
            for raw in data.get("stacks", []):
                stack = Stack(
                    name=str(raw["name"]),
                    stack_id=str(raw["stack_id"]),
                    template=dict(raw["template"]),
                    parameters=dict(raw["parameters"]),
                    resources={
                        str(state["logical_id"]): ResourceState(**state)
                        for state in raw["resources"]
                    },
                    status=str(raw["status"]),
                    outputs=dict(raw["outputs"]),
                    exports=dict(raw["exports"]),
                    imports=set(raw["imports"]),
                )
                self._stacks[stack.name] = stack
                for name, value in stack.exports.items():
                    self._exports[name] = (stack.name, value)

    # -- preparation -------------------------------------------------------------------------

    def _resolve_parameters(
        self, template: Mapping[str, Any], provided: Mapping[str, str]
    ) -> dict[str, Any]:
        declared: Mapping[str, Any] = template.get("Parameters", {})
        unknown = sorted(set(provided) - set(declared))
        if unknown:
            raise TemplateError(f"Parameters: {unknown} do not exist in the template")
        values: dict[str, Any] = {}
        missing = []
        for name, spec in declared.items():
            if name in provided:
                raw: Any = provided[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                missing.append(name)
                continue
            kind = str(spec.get("Type", "String"))
            if kind.startswith(_SSM_TYPE_PREFIX):
                try:
                    raw = self._ssm_parameter(str(raw))
                except Exception as error:
                    raise TemplateError(
                        f"Unable to fetch parameters [{raw}] from parameter store for this "
                        f"account: {error}"
                    ) from error
                kind = kind[len(_SSM_TYPE_PREFIX) : -1]
            allowed = spec.get("AllowedValues")
            if allowed is not None and str(raw) not in [str(v) for v in allowed]:
                raise TemplateError(
                    f"Parameter '{name}' must be one of AllowedValues {allowed}, got {raw!r}"
                )
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                values[name] = [item.strip() for item in str(raw).split(",")] if raw != "" else []
            else:
                values[name] = raw
        if missing:
            raise TemplateError(f"Parameters: {missing} must have values")
        return values

    def _plan(self, run: _Run, template: dict[str, Any], parameters: dict[str, Any]) -> _Plan:
        transforms = template.get("Transform", [])
        for transform in [transforms] if isinstance(transforms, str) else transforms:
            if transform != "AWS::LanguageExtensions":
                raise TemplateError(
                    f"Transform {transform} is not supported by the local emulation (only the "
                    "functions of AWS::LanguageExtensions it implements)"
                )
        declared = template.get("Resources")
        if not isinstance(declared, dict) or not declared:
            raise TemplateError(
                "Template format error: at least one Resources member must be defined."
            )
        intrinsics = Intrinsics(
            parameters=parameters,
            pseudo=pseudo_parameters(run.operation.stack.name, run.operation.stack.stack_id),
            resources=_Lookup(self, run),
            resource_names=frozenset(declared),
            conditions=template.get("Conditions", {}),
            mappings=template.get("Mappings", {}),
        )
        intrinsics.check_rules(template.get("Rules", {}))
        active = {
            logical_id: resource
            for logical_id, resource in declared.items()
            if "Condition" not in resource or intrinsics.condition(str(resource["Condition"]))
        }
        dependencies: dict[str, set[str]] = {}
        for logical_id, resource in active.items():
            if "Type" not in resource:
                raise TemplateError(f"Template format error: {logical_id} has no Type")
            depends_on = resource.get("DependsOn", [])
            explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
            unknown = explicit - set(declared)
            if unknown:
                raise TemplateError(
                    f"Template format error: Unresolved resource dependencies {sorted(unknown)} "
                    f"in the Resources block of the template (DependsOn of {logical_id})"
                )
            referenced = references(resource.get("Properties", {}))
            unresolved = referenced - set(declared) - set(parameters) - set(intrinsics.pseudo_names)
            if unresolved:
                raise TemplateError(
                    f"Template format error: Unresolved resource dependencies {sorted(unresolved)} "
                    f"in the Resources block of the template (Properties of {logical_id})"
                )
            implicit = referenced & set(declared)
            dependencies[logical_id] = (explicit | implicit) & set(active)
        _check_cycles(dependencies)
        return _Plan(template, parameters, active, dependencies, intrinsics)

    # -- events ------------------------------------------------------------------------------

    def _emit(
        self,
        operation: _Operation,
        logical_id: str,
        resource_type: str,
        physical_id: str,
        status: str,
        *,
        reason: str = "",
    ) -> None:
        event = StackEvent(
            time.time(),
            operation.stack.name,
            logical_id,
            resource_type,
            physical_id,
            status,
            reason,
        )
        with self._lock:
            operation.events.append(event)
            operation.stack.events.append(event)
            if resource_type == STACK_RESOURCE_TYPE:
                operation.stack.status = status
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOG.exception("stack event listener failed")

    def _stack_event(self, operation: _Operation, status: str, reason: str = "") -> None:
        self._emit(
            operation,
            operation.stack.name,
            STACK_RESOURCE_TYPE,
            operation.stack.stack_id,
            status,
            reason=reason,
        )

    # -- graph execution ---------------------------------------------------------------------

    def _execute(
        self,
        nodes: Iterable[str],
        dependencies: Mapping[str, set[str]],
        work: Callable[[str], bool],
        *,
        stop_on_failure: bool,
    ) -> tuple[set[str], set[str]]:
        """Run ``work`` on every node once its dependencies succeeded, in parallel.

        :return: the nodes that succeeded and the ones that failed (the others never ran:
            blocked by a failed dependency, or not started after a failure).
        """
        pending = set(nodes)
        members = frozenset(pending)
        succeeded: set[str] = set()
        failed: set[str] = set()
        blocked: set[str] = set()
        running: dict[Future[bool], str] = {}
        with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
            while True:
                if not (stop_on_failure and failed):
                    for node in sorted(pending):
                        needs = dependencies.get(node, set()) & members
                        if needs & (failed | blocked):
                            pending.discard(node)
                            blocked.add(node)
                        elif needs <= succeeded:
                            pending.discard(node)
                            running[pool.submit(work, node)] = node
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    node = running.pop(future)
                    try:
                        ok = future.result()
                    except Exception:
                        _LOG.exception("provisioning %s failed unexpectedly", node)
                        ok = False
                    (succeeded if ok else failed).add(node)
        return succeeded, failed

    # -- create ------------------------------------------------------------------------------

    def _create(
        self, stack_name: str, template: dict[str, Any], provided: dict[str, str]
    ) -> StackResult:
        stack = Stack(
            name=stack_name,
            stack_id=(
                f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/{uuid.uuid4()}"
            ),
        )
        run = _Run(_Operation(stack, "CREATE"))
        operation = run.operation
        parameters = self._resolve_parameters(template, provided)
        plan = self._plan(run, template, parameters)
        with self._lock:
            self._stacks[stack_name] = stack
        self._stack_event(operation, "CREATE_IN_PROGRESS", "User Initiated")
        _, failed = self._execute(
            plan.resources,
            plan.dependencies,
            lambda logical_id: self._create_resource(run, plan, logical_id),
            stop_on_failure=True,
        )
        outputs: dict[str, Any] = {}
        exports: dict[str, Any] = {}
        if not failed:
            try:
                outputs, exports = self._outputs(stack, plan)
            except (TemplateError, ResourceFailed) as error:
                failed = {"Outputs"}
                run.fail(str(error))
        if failed:
            names = ", ".join(sorted(failed))
            self._stack_event(
                operation,
                "ROLLBACK_IN_PROGRESS",
                f"The following resource(s) failed to create: [{names}]. "
                "Rollback requested by user.",
            )
            to_delete = {**run.view, **run.failed_creates}
            remaining = self._delete_resources(
                operation, to_delete, plan.dependencies, mode="rollback"
            )
            stack.resources = remaining
            failed_deletes = any(s.status == "DELETE_FAILED" for s in remaining.values())
            self._stack_event(
                operation, "ROLLBACK_FAILED" if failed_deletes else "ROLLBACK_COMPLETE"
            )
            return self._result(operation, reason=run.reason)
        stack.template = template
        stack.parameters = parameters
        stack.resources = run.view
        self._publish(stack, operation, outputs, exports)
        self._stack_event(operation, "CREATE_COMPLETE")
        return self._result(operation)

    def _create_resource(self, run: _Run, plan: _Plan, logical_id: str) -> bool:
        """Create one resource. A custom resource whose create request was sent and failed is
        recorded for deletion on rollback, with the physical id of its FAILED response; one
        that never got a request (its properties could not be resolved, or lack a valid
        ``ServiceToken``) needs no Delete, as CloudFormation never invoked its provider."""
        operation = run.operation
        resource = plan.resources[logical_id]
        resource_type = str(resource["Type"])
        request = ResourceRequest(
            operation.stack.name, operation.stack.stack_id, logical_id, resource_type
        )
        provisioner = provisioner_for(resource_type, self.services)
        self._emit(operation, logical_id, resource_type, "", "CREATE_IN_PROGRESS")
        try:
            props = plan.intrinsics.resolve(resource.get("Properties", {}))
        except Exception as error:
            reason, _ = _failure(error)
            self._emit(operation, logical_id, resource_type, "", "CREATE_FAILED", reason=reason)
            return run.fail(reason)
        try:
            result = provisioner.create(request, props)
        except Exception as error:
            reason, physical_id = _failure(error)
            self._emit(
                operation,
                logical_id,
                resource_type,
                physical_id or "",
                "CREATE_FAILED",
                reason=reason,
            )
            invoked = not isinstance(error, ResourceFailed) or error.invoked
            if is_custom_resource(resource_type) and invoked:
                failed_state = _new_state(
                    logical_id, resource, Provisioned(physical_id or logical_id, {}), props
                )
                failed_state.status = "CREATE_FAILED"
                with run.lock:
                    run.failed_creates[logical_id] = failed_state
            return run.fail(reason)
        state = _new_state(logical_id, resource, result, props)
        state.status = "CREATE_COMPLETE"
        with run.lock:
            run.view[logical_id] = state
            run.created.add(logical_id)
        self._emit(operation, logical_id, resource_type, result.physical_id, "CREATE_COMPLETE")
        return True

    # -- update ------------------------------------------------------------------------------

    def _update(
        self, stack: Stack, template: dict[str, Any], provided: dict[str, str]
    ) -> StackResult:
        run = _Run(_Operation(stack, "UPDATE"))
        operation = run.operation
        parameters = self._resolve_parameters(template, provided)
        if template == stack.template and parameters == stack.parameters:
            return self._result(operation, changed=False)
        run.old = {k: v.copy() for k, v in stack.resources.items()}
        old_dependencies = _template_dependencies(stack.template, run.old)
        plan = self._plan(run, template, parameters)
        run.view.update({k: v.copy() for k, v in run.old.items() if k in plan.resources})
        self._stack_event(operation, "UPDATE_IN_PROGRESS", "User Initiated")

        def update(logical_id: str) -> bool:
            if logical_id not in run.old:
                return self._create_resource(run, plan, logical_id)
            return self._update_resource(run, plan, logical_id)

        _, failed = self._execute(plan.resources, plan.dependencies, update, stop_on_failure=True)
        outputs: dict[str, Any] = {}
        exports: dict[str, Any] = {}
        if not failed:
            try:
                outputs, exports = self._outputs(stack, plan)
                self._check_exports_kept(stack, exports)
            except (TemplateError, ResourceFailed) as error:
                failed = {"Outputs"}
                run.fail(str(error))
        if failed:
            return self._roll_back_update(run, plan, failed)
        self._stack_event(operation, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        cleanup = dict(run.replaced)
        for logical_id, state in run.old.items():
            if logical_id not in plan.resources:
                cleanup[logical_id] = state
        self._delete_resources(
            operation,
            cleanup,
            old_dependencies,
            mode="cleanup",
            replacements=frozenset(run.replaced),
        )
        stack.template = template
        stack.parameters = parameters
        stack.resources = run.view
        self._publish(stack, operation, outputs, exports)
        self._stack_event(operation, "UPDATE_COMPLETE")
        return self._result(operation)

    def _update_resource(self, run: _Run, plan: _Plan, logical_id: str) -> bool:
        operation = run.operation
        resource = plan.resources[logical_id]
        old = run.old[logical_id]
        resource_type = str(resource["Type"])
        physical_id = old.physical_id
        if resource_type != old.resource_type:
            reason = (
                "Update of resource type is not permitted. The new template modifies resource "
                f"type of the following resources: [{logical_id}]"
            )
            self._emit(
                operation, logical_id, resource_type, physical_id, "UPDATE_FAILED", reason=reason
            )
            return run.fail(reason)
        request = ResourceRequest(
            operation.stack.name, operation.stack.stack_id, logical_id, resource_type
        )
        provisioner = provisioner_for(resource_type, self.services)
        try:
            props = plan.intrinsics.resolve(resource.get("Properties", {}))
        except Exception as error:
            reason, _ = _failure(error)
            self._emit(
                operation, logical_id, resource_type, physical_id, "UPDATE_FAILED", reason=reason
            )
            return run.fail(reason)
        if props == old.properties:
            # Nothing to do (a changed DeletionPolicy/UpdateReplacePolicy is only recorded).
            with run.lock:
                run.view[logical_id] = _new_state(
                    logical_id, resource, Provisioned(physical_id, old.attributes), props
                )
                run.view[logical_id].status = old.status
            return True
        self._emit(operation, logical_id, resource_type, physical_id, "UPDATE_IN_PROGRESS")
        with run.lock:
            run.updated[logical_id] = props
        try:
            if provisioner.needs_replacement(request, props, old.properties):
                self._emit(
                    operation,
                    logical_id,
                    resource_type,
                    physical_id,
                    "UPDATE_IN_PROGRESS",
                    reason="Requested update requires the creation of a new physical resource; "
                    "hence creating one.",
                )
                result = provisioner.create(request, props)
            else:
                result = provisioner.update(
                    request, physical_id, props, old.properties, old.attributes
                )
        except Exception as error:
            reason, failed_id = _failure(error)
            self._emit(
                operation, logical_id, resource_type, physical_id, "UPDATE_FAILED", reason=reason
            )
            if failed_id and failed_id != physical_id and is_custom_resource(resource_type):
                # The FAILED response names a new physical resource: the update was creating a
                # replacement. The rollback deletes it instead of updating the old one back.
                failed_state = _new_state(logical_id, resource, Provisioned(failed_id, {}), props)
                failed_state.status = "UPDATE_FAILED"
                with run.lock:
                    del run.updated[logical_id]
                    run.failed_creates[logical_id] = failed_state
            return run.fail(reason)
        state = _new_state(logical_id, resource, result, props)
        state.status = "UPDATE_COMPLETE"
        with run.lock:
            run.view[logical_id] = state
            if result.physical_id != physical_id:
                run.replaced[logical_id] = old
                del run.updated[logical_id]
        self._emit(operation, logical_id, resource_type, result.physical_id, "UPDATE_COMPLETE")
        return True

    def _roll_back_update(self, run: _Run, plan: _Plan, failed: set[str]) -> StackResult:
        operation = run.operation
        stack = operation.stack
        self._stack_event(
            operation,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to update: [{', '.join(sorted(failed))}].",
        )
        restored = {k: v.copy() for k, v in run.old.items()}
        rollback_failed: list[str] = []

        def update_back(logical_id: str) -> bool:
            old = run.old[logical_id]
            with run.lock:
                new_props = run.updated[logical_id]
                current = run.view.get(logical_id)
            physical_id = current.physical_id if current is not None else old.physical_id
            request = ResourceRequest(stack.name, stack.stack_id, logical_id, old.resource_type)
            provisioner = provisioner_for(old.resource_type, self.services)
            self._emit(operation, logical_id, old.resource_type, physical_id, "UPDATE_IN_PROGRESS")
            try:
                result = provisioner.update(
                    request, physical_id, old.properties, new_props, dict(old.attributes)
                )
            except Exception as error:
                reason, _ = _failure(error)
                self._emit(
                    operation,
                    logical_id,
                    old.resource_type,
                    physical_id,
                    "UPDATE_FAILED",
                    reason=reason,
                )
                with run.lock:
                    rollback_failed.append(logical_id)
                return False
            with run.lock:
                state = restored[logical_id]
                state.physical_id = result.physical_id
                if result.attributes:
                    state.attributes = dict(result.attributes)
            self._emit(
                operation, logical_id, old.resource_type, result.physical_id, "UPDATE_COMPLETE"
            )
            return True

        self._execute(
            list(run.updated), _reverse(plan.dependencies), update_back, stop_on_failure=False
        )
        created = {k: run.view[k] for k in run.created if k in run.view}
        if rollback_failed:
            stack.resources = {**restored, **created}
            self._stack_event(operation, "UPDATE_ROLLBACK_FAILED")
            return self._result(operation, reason=run.reason)
        self._stack_event(operation, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        cleanup = {**created, **run.failed_creates}
        for logical_id in run.replaced:
            cleanup[logical_id] = run.view[logical_id]
        self._delete_resources(operation, cleanup, plan.dependencies, mode="rollback")
        stack.resources = restored
        self._stack_event(operation, "UPDATE_ROLLBACK_COMPLETE")
        return self._result(operation, reason=run.reason)

    # -- delete ------------------------------------------------------------------------------

    def _delete(self, stack: Stack, retained: frozenset[str] = frozenset()) -> StackResult:
        operation = _Operation(stack, "DELETE")
        with self._lock:
            for name, (exporter, _) in self._exports.items():
                if exporter != stack.name:
                    continue
                users = [s.name for s in self._stacks.values() if name in s.imports]
                if users:
                    raise TemplateError(
                        f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
                    )
        self._stack_event(operation, "DELETE_IN_PROGRESS", "User Initiated")
        dependencies = _template_dependencies(stack.template, stack.resources)
        remaining = self._delete_resources(
            operation, dict(stack.resources), dependencies, mode="delete", retained=retained
        )
        stack.resources = remaining
        failed = sorted(k for k, v in remaining.items() if v.status == "DELETE_FAILED")
        if failed:
            self._stack_event(
                operation,
                "DELETE_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(failed)}].",
            )
            return self._result(operation, reason=_first_reason(operation))
        self._stack_event(operation, "DELETE_COMPLETE")
        with self._lock:
            self._stacks.pop(stack.name, None)
            for name in [n for n, (exporter, _) in self._exports.items() if exporter == stack.name]:
                del self._exports[name]
        stack.outputs = {}
        return self._result(operation)

    def _delete_resources(
        self,
        operation: _Operation,
        states: dict[str, ResourceState],
        dependencies: Mapping[str, set[str]],
        *,
        mode: str,
        replacements: frozenset[str] = frozenset(),
        retained: frozenset[str] = frozenset(),
    ) -> dict[str, ResourceState]:
        """Delete resources, dependents first; return the ones that remain (retained or failed).

        :param mode: ``delete`` (stack deletion: ``DeletionPolicy``), ``rollback`` (of what an
            operation created: ``Retain`` is kept, ``RetainExceptOnCreate`` deleted) or
            ``cleanup`` (resources removed from the template: ``DeletionPolicy``).
        :param replacements: resources whose old physical resource is deleted after a
            replacement (``UpdateReplacePolicy`` applies).
        :param retained: resources to skip whatever their policy.
        """
        remaining: dict[str, ResourceState] = {}
        lock = threading.Lock()
        stack = operation.stack

        def delete(logical_id: str) -> bool:
            state = states[logical_id]
            if logical_id in replacements:
                policy = state.update_replace_policy
            else:
                policy = state.deletion_policy
            retain = (
                logical_id in retained
                or policy == "Retain"
                or (policy == "RetainExceptOnCreate" and mode != "rollback")
            )
            if retain:
                self._emit(
                    operation, logical_id, state.resource_type, state.physical_id, "DELETE_SKIPPED"
                )
                return True
            request = ResourceRequest(stack.name, stack.stack_id, logical_id, state.resource_type)
            provisioner = provisioner_for(state.resource_type, self.services)
            self._emit(
                operation, logical_id, state.resource_type, state.physical_id, "DELETE_IN_PROGRESS"
            )
            try:
                provisioner.delete(request, state.physical_id, state.properties)
            except Exception as error:
                reason, _ = _failure(error)
                self._emit(
                    operation,
                    logical_id,
                    state.resource_type,
                    state.physical_id,
                    "DELETE_FAILED",
                    reason=reason,
                )
                state.status = "DELETE_FAILED"
                with lock:
                    remaining[logical_id] = state
                return False
            self._emit(
                operation, logical_id, state.resource_type, state.physical_id, "DELETE_COMPLETE"
            )
            return True

        succeeded, failed = self._execute(
            states, _reverse(dependencies), delete, stop_on_failure=False
        )
        for logical_id, state in states.items():
            if logical_id not in succeeded and logical_id not in failed:
                remaining[logical_id] = state
        return remaining

    # -- outputs -----------------------------------------------------------------------------

    def _outputs(self, stack: Stack, plan: _Plan) -> tuple[dict[str, Any], dict[str, Any]]:
        outputs: dict[str, Any] = {}
        exports: dict[str, Any] = {}
        for name, output in plan.template.get("Outputs", {}).items():
            if "Condition" in output and not plan.intrinsics.condition(str(output["Condition"])):
                continue
            value = plan.intrinsics.resolve(output.get("Value"))
            outputs[name] = value
            if "Export" in output:
                export_name = str(plan.intrinsics.resolve(output["Export"]["Name"]))
                with self._lock:
                    holder = self._exports.get(export_name)
                if holder is not None and holder[0] != stack.name:
                    raise TemplateError(
                        f"Export with name {export_name} is already exported by stack {holder[0]}"
                    )
                exports[export_name] = value
        return outputs, exports

    def _check_exports_kept(self, stack: Stack, exports: Mapping[str, Any]) -> None:
        with self._lock:
            for name, (exporter, value) in self._exports.items():
                if exporter != stack.name:
                    continue
                users = [
                    s.name for s in self._stacks.values() if name in s.imports and s is not stack
                ]
                if users and exports.get(name, object()) != value:
                    raise TemplateError(
                        f"Cannot update export {name} as it is in use by {', '.join(users)}"
                    )

    def _publish(
        self,
        stack: Stack,
        operation: _Operation,
        outputs: dict[str, Any],
        exports: dict[str, Any],
    ) -> None:
        with self._lock:
            stack.outputs = outputs
            for name in [n for n, (exporter, _) in self._exports.items() if exporter == stack.name]:
                del self._exports[name]
            for name, value in exports.items():
                self._exports[name] = (stack.name, value)
            stack.exports = dict(exports)
            stack.imports = set(operation.imports)

    def _result(
        self, operation: _Operation, *, reason: str = "", changed: bool = True
    ) -> StackResult:
        stack = operation.stack
        with self._lock:
            return StackResult(
                stack_name=stack.name,
                stack_id=stack.stack_id,
                operation=operation.kind,
                status=stack.status,
                outputs=dict(stack.outputs),
                events=list(operation.events),
                resources={k: v.copy() for k, v in stack.resources.items()},
                reason=reason,
                changed=changed,
            )


def _new_state(
    logical_id: str, resource: Mapping[str, Any], result: Provisioned, props: dict[str, Any]
) -> ResourceState:
    return ResourceState(
        logical_id=logical_id,
        resource_type=str(resource["Type"]),
        physical_id=result.physical_id,
        properties=props,
        attributes=dict(result.attributes),
        deletion_policy=str(resource.get("DeletionPolicy", "Delete")),
        update_replace_policy=str(resource.get("UpdateReplacePolicy", "Delete")),
    )


def _failure(error: BaseException) -> tuple[str, str | None]:
    if isinstance(error, ResourceFailed):
        return error.reason, error.physical_id
    if isinstance(error, TemplateError):
        return str(error), None
    _LOG.exception("unexpected error in the CloudFormation stand-in")
    return f"Internal error of the local emulation: {type(error).__name__}: {error}", None


def _first_reason(operation: _Operation) -> str:
    for event in operation.events:
        if event.status.endswith("_FAILED") and event.reason:
            return event.reason
    return ""


def _reverse(dependencies: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Dependents of each node: what must be deleted (or rolled back) before it."""
    reverse: dict[str, set[str]] = {node: set() for node in dependencies}
    for node, needs in dependencies.items():
        for need in needs:
            reverse.setdefault(need, set()).add(node)
    return reverse


def _template_dependencies(
    template: Mapping[str, Any], resources: Mapping[str, ResourceState]
) -> dict[str, set[str]]:
    declared: Mapping[str, Any] = template.get("Resources", {})
    dependencies: dict[str, set[str]] = {}
    for logical_id in resources:
        resource = declared.get(logical_id, {})
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        implicit = references(resource.get("Properties", {}))
        dependencies[logical_id] = (explicit | implicit) & set(resources)
    return dependencies


def _check_cycles(dependencies: Mapping[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        mark = state.get(node, 0)
        if mark == 2:
            return
        if mark == 1:
            cycle = [*path[path.index(node) :], node]
            raise TemplateError(f"Circular dependency between resources: {cycle}")
        state[node] = 1
        for need in sorted(dependencies.get(node, ())):
            visit(need, [*path, node])
        state[node] = 2

    for node in sorted(dependencies):
        visit(node, [])
