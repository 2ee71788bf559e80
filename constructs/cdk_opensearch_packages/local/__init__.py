"""Offline emulation of the AWS services a cdk-opensearch-packages stack touches.

Install the ``[local]`` extra. Everything runs on 127.0.0.1 over real HTTP, without an AWS
account or Docker:

- moto's server: S3, EventBridge, Lambda (registry and permissions), IAM, STS, SSM, Logs;
- the OpenSearch Service packages API (:mod:`.opensearch_api`);
- a Lambda runtime that runs each invocation in its own Python process (:mod:`.lambda_runner`);
- an EventBridge scheduler firing ``rate(...)`` rules (:mod:`.aws_events_scheduler`) and a
  proxy injecting faults into the functions' EventBridge calls (:mod:`.aws_events_proxy`);
- a CloudFormation stand-in deploying synthesized cloud assemblies (:mod:`.cfn_engine`).

Example::

    from cdk_opensearch_packages.local import LocalAws

    with LocalAws() as aws:
        result = aws.cloudformation.deploy("cdk.out")
        print(result.status, result.outputs)

Command line: ``python -m cdk_opensearch_packages.local COMMAND`` (``deploy``, ``destroy``,
``status``, ``reset``, ``packages``, ``demo``, ``serve``; see :mod:`.__main__`). The names
below are imported on first use, so that the command line can say which extra is missing
instead of failing on import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdk_opensearch_packages.local.aws.env import BOOTSTRAP_VERSION, Inventory, LocalAws
    from cdk_opensearch_packages.local.awslambda.runner import (
        FunctionConfig,
        Invocation,
        KillRule,
        LambdaRunner,
        LogLine,
        LogStore,
    )
    from cdk_opensearch_packages.local.cloudformation.assembly import (
        CloudAssembly,
        StackArtifact,
        publish_file_assets,
        zip_directory,
    )
    from cdk_opensearch_packages.local.cloudformation.engine import LocalCloudFormation
    from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError
    from cdk_opensearch_packages.local.cloudformation.model import (
        ResourceState,
        Stack,
        StackEvent,
        StackResult,
    )
    from cdk_opensearch_packages.local.cloudformation.responses import (
        CustomResourceResponse,
        InjectedResponseFault,
        ResponseFaults,
        ResponseListener,
    )
    from cdk_opensearch_packages.local.events.proxy import EventBridgeCall, EventBridgeFaultProxy
    from cdk_opensearch_packages.local.events.scheduler import (
        EventBridgeScheduler,
        ScheduledDelivery,
    )
    from cdk_opensearch_packages.local.opensearch.api import (
        FaultConfig,
        LocalOpenSearchService,
        Timeline,
    )

_MODULES = {
    "BOOTSTRAP_VERSION": "cdk_opensearch_packages.local.aws.env",
    "CloudAssembly": "cdk_opensearch_packages.local.cloudformation.assembly",
    "CustomResourceResponse": "cdk_opensearch_packages.local.cloudformation.responses",
    "EventBridgeCall": "cdk_opensearch_packages.local.events.proxy",
    "EventBridgeFaultProxy": "cdk_opensearch_packages.local.events.proxy",
    "EventBridgeScheduler": "cdk_opensearch_packages.local.events.scheduler",
    "FaultConfig": "cdk_opensearch_packages.local.opensearch.api",
    "FunctionConfig": "cdk_opensearch_packages.local.awslambda.runner",
    "InjectedResponseFault": "cdk_opensearch_packages.local.cloudformation.responses",
    "Inventory": "cdk_opensearch_packages.local.aws.env",
    "Invocation": "cdk_opensearch_packages.local.awslambda.runner",
    "KillRule": "cdk_opensearch_packages.local.awslambda.runner",
    "LambdaRunner": "cdk_opensearch_packages.local.awslambda.runner",
    "LocalAws": "cdk_opensearch_packages.local.aws.env",
    "LocalCloudFormation": "cdk_opensearch_packages.local.cloudformation.engine",
    "LocalOpenSearchService": "cdk_opensearch_packages.local.opensearch.api",
    "LogLine": "cdk_opensearch_packages.local.awslambda.runner",
    "LogStore": "cdk_opensearch_packages.local.awslambda.runner",
    "ResourceState": "cdk_opensearch_packages.local.cloudformation.model",
    "ResponseFaults": "cdk_opensearch_packages.local.cloudformation.responses",
    "ResponseListener": "cdk_opensearch_packages.local.cloudformation.responses",
    "ScheduledDelivery": "cdk_opensearch_packages.local.events.scheduler",
    "Stack": "cdk_opensearch_packages.local.cloudformation.model",
    "StackArtifact": "cdk_opensearch_packages.local.cloudformation.assembly",
    "StackEvent": "cdk_opensearch_packages.local.cloudformation.model",
    "StackResult": "cdk_opensearch_packages.local.cloudformation.model",
    "TemplateError": "cdk_opensearch_packages.local.cloudformation.intrinsics",
    "Timeline": "cdk_opensearch_packages.local.opensearch.api",
    "publish_file_assets": "cdk_opensearch_packages.local.cloudformation.assembly",
    "zip_directory": "cdk_opensearch_packages.local.cloudformation.assembly",
}

__all__ = [
    "BOOTSTRAP_VERSION",
    "CloudAssembly",
    "CustomResourceResponse",
    "EventBridgeCall",
    "EventBridgeFaultProxy",
    "EventBridgeScheduler",
    "FaultConfig",
    "FunctionConfig",
    "InjectedResponseFault",
    "Inventory",
    "Invocation",
    "KillRule",
    "LambdaRunner",
    "LocalAws",
    "LocalCloudFormation",
    "LocalOpenSearchService",
    "LogLine",
    "LogStore",
    "ResourceState",
    "ResponseFaults",
    "ResponseListener",
    "ScheduledDelivery",
    "Stack",
    "StackArtifact",
    "StackEvent",
    "StackResult",
    "TemplateError",
    "Timeline",
    "publish_file_assets",
    "zip_directory",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"cdk_opensearch_packages.local needs the [local] extra ({error.name} is missing): "
            "pip install 'cdk-opensearch-packages[local]'",
            name=error.name,
        ) from error
    globals()[name] = value
    return value
