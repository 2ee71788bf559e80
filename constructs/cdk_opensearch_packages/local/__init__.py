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

Command line: ``python -m cdk_opensearch_packages.local demo|deploy|serve`` (see
:mod:`.__main__`).
"""

from __future__ import annotations

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
from cdk_opensearch_packages.local.events.scheduler import EventBridgeScheduler, ScheduledDelivery
from cdk_opensearch_packages.local.opensearch.api import (
    FaultConfig,
    LocalOpenSearchService,
    Timeline,
)

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
