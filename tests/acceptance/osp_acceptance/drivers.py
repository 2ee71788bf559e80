"""Two ways to deploy the acceptance app with the real CDK CLI, behind one interface.

- :class:`EmulatorDriver`: ``cdk synth`` (the real CLI, pinned in package.json) writes the
  cloud assembly; the emulated CloudFormation of :class:`LocalAws` deploys it (assets published
  to moto's S3, the provider Lambda run as a local process, the local OpenSearch packages API).
  A true ``cdk deploy`` against emulated endpoints is not possible: the emulation serves no
  CloudFormation API over HTTP.
- :class:`AwsDriver`: ``cdk deploy --exclusively`` and ``cdk destroy --force`` against the
  account and Region of the usual AWS credentials chain.

Both answer from the service itself: stack outputs and physical ids from (emulated)
CloudFormation, and boto3 clients of the target for the suite's own checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError
from osp_acceptance.settings import REPOSITORY

__all__ = ["FAST_TIMELINE", "AwsDriver", "DeployError", "Driver", "EmulatorDriver"]

#: Phase durations of the emulated packages API in the acceptance run (seconds): ten poll
#: intervals at least, so that the recording sees every status even on a loaded machine.
FAST_TIMELINE = {
    "copying": 1.0,
    "validating": 1.0,
    "deleting": 1.0,
    "associating": 1.0,
    "plugin_associating": 2.0,
    "dissociating": 1.0,
    "plugin_dissociating": 2.0,
}
_APP = "tests/acceptance/acceptance_app.py"


class DeployError(RuntimeError):
    """A stack operation failed."""


class Driver(Protocol):
    """What the phases need from a target."""

    target: str
    #: Seconds between two polls of the package statuses.
    poll_interval: float

    def deploy(self, stack: str, context: Mapping[str, str]) -> dict[str, str]:
        """Create or update a stack; return its outputs (raises :class:`DeployError`)."""

    def destroy(self, stack: str, context: Mapping[str, str]) -> None:
        """Delete a stack (raises :class:`DeployError`)."""

    def stack_exists(self, stack: str) -> bool:
        """Whether the stack exists (and is not deleted)."""

    def physical_ids(self, stack: str, resource_type: str) -> dict[str, str]:
        """``logical id -> physical id`` of a deployed stack's resources of one type."""

    def template(self, stack: str) -> dict[str, Any]:
        """The template last synthesized for a stack."""

    def client(self, service: str) -> Any:
        """A boto3 client of the target."""

    def close(self) -> None:
        """Stop whatever the driver started."""


def run_cdk(arguments: list[str], context: Mapping[str, str], outdir: Path, log: Path) -> None:
    """Run the real CDK CLI (``npx --no-install cdk``) on the acceptance app.

    :raises DeployError: when it exits with an error (the end of its output is in the message).
    """
    command = ["npx", "--no-install", "cdk", *arguments]
    command += ["--app", f"{sys.executable} {_APP}", "--output", str(outdir), "--no-notices"]
    for key, value in context.items():
        command += ["--context", f"{key}={value}"]
    environment = dict(os.environ)
    environment.update(
        {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]]),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_CLI_TELEMETRY_DISABLED": "1",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        }
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        output.write(("\n$ " + " ".join(command) + "\n").encode())
        output.flush()
        status = subprocess.call(
            command,
            cwd=REPOSITORY,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    if status != 0:
        tail = "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-30:])
        raise DeployError(f"cdk {arguments[0]} exited with {status}; end of {log}:\n{tail}")


class EmulatorDriver:
    """``cdk synth`` + the emulated CloudFormation (see the module docstring)."""

    target = "emulator"
    poll_interval = 0.1

    def __init__(self, work: Path) -> None:
        from cdk_opensearch_packages.local.aws.env import LocalAws
        from cdk_opensearch_packages.local.opensearch.api import Timeline

        self.work = work
        self._assemblies: dict[str, Path] = {}
        self._templates: dict[str, dict[str, Any]] = {}
        self.aws = LocalAws(
            time_scale=1 / 60, opensearch_timeline=Timeline.from_mapping(FAST_TIMELINE)
        ).start()
        self._clients: dict[str, Any] = {}

    def _assembly(self, context: Mapping[str, str]) -> Path:
        key = json.dumps(dict(context), sort_keys=True)
        if key not in self._assemblies:
            outdir = self.work / f"cdk.out.{len(self._assemblies)}"
            run_cdk(["synth", "--quiet"], context, outdir, self.work / "cdk.log")
            self._assemblies[key] = outdir
        return self._assemblies[key]

    def deploy(self, stack: str, context: Mapping[str, str]) -> dict[str, str]:
        from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly

        artifact = CloudAssembly.load(self._assembly(context)).stack(stack)
        self._templates[stack] = artifact.template
        result = self.aws.cloudformation.deploy_artifact(artifact)
        if not result.succeeded:
            raise DeployError(f"{stack}: {result.status}: {result.reason}")
        return {key: str(value) for key, value in result.outputs.items()}

    def destroy(self, stack: str, context: Mapping[str, str]) -> None:
        result = self.aws.cloudformation.delete(stack)
        if not result.succeeded:
            raise DeployError(f"{stack}: {result.status}: {result.reason}")
        self.aws.runner.wait_idle(30)

    def stack_exists(self, stack: str) -> bool:
        return self.aws.cloudformation.stack(stack) is not None

    def physical_ids(self, stack: str, resource_type: str) -> dict[str, str]:
        found = self.aws.cloudformation.stack(stack)
        if found is None:
            return {}
        return {
            state.logical_id: state.physical_id
            for state in found.resources.values()
            if state.resource_type == resource_type
        }

    def template(self, stack: str) -> dict[str, Any]:
        return self._templates[stack]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            if service == "opensearch":
                assert self.aws.opensearch is not None
                # A client of its own: the recorder's hooks stay off the emulation's clients.
                self._clients[service] = self.aws.opensearch.client()
            else:
                self._clients[service] = self.aws.client(service)
        return self._clients[service]

    def close(self) -> None:
        self.aws.stop()


class AwsDriver:
    """``cdk deploy`` / ``cdk destroy`` against a real account (see the module docstring)."""

    target = "aws"
    poll_interval = 2.0

    def __init__(self, work: Path) -> None:
        import boto3

        self.work = work
        self.session = boto3.session.Session()
        if not self.session.region_name:
            raise DeployError("no AWS Region: set AWS_REGION (or a profile with a region)")
        self._clients: dict[str, Any] = {}
        self.account = self.client("sts").get_caller_identity()["Account"]
        self._check_bootstrap()

    def _check_bootstrap(self) -> None:
        ssm = self.client("ssm")
        try:
            ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")
        except ssm.exceptions.ParameterNotFound:
            raise DeployError(
                f"the account is not bootstrapped for the CDK in {self.session.region_name}: "
                f"run `npx cdk bootstrap aws://{self.account}/{self.session.region_name}`"
            ) from None

    @property
    def outdir(self) -> Path:
        """Where the CLI writes the cloud assembly."""
        return self.work / "cdk.out"

    def deploy(self, stack: str, context: Mapping[str, str]) -> dict[str, str]:
        run_cdk(
            ["deploy", stack, "--exclusively", "--require-approval", "never"],
            context,
            self.outdir,
            self.work / "cdk.log",
        )
        described = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def destroy(self, stack: str, context: Mapping[str, str]) -> None:
        run_cdk(
            ["destroy", stack, "--exclusively", "--force"],
            context,
            self.outdir,
            self.work / "cdk.log",
        )

    def stack_exists(self, stack: str) -> bool:
        cloudformation = self.client("cloudformation")
        try:
            found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                return False
            raise
        return any(s["StackStatus"] != "DELETE_COMPLETE" for s in found)

    def physical_ids(self, stack: str, resource_type: str) -> dict[str, str]:
        if not self.stack_exists(stack):
            return {}
        paginator = self.client("cloudformation").get_paginator("list_stack_resources")
        return {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for page in paginator.paginate(StackName=stack)
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == resource_type
        }

    def template(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.outdir / f"{stack}.template.json").read_text("utf-8")
        )
        return data

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def close(self) -> None:
        """Nothing to stop."""


def new_work_dir(target: str) -> Path:
    """A fresh directory for one run's cloud assemblies and CLI log."""
    return Path(tempfile.mkdtemp(prefix=f"osp-acceptance-{target}-"))
