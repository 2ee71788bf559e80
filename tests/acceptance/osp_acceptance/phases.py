"""The acceptance suite: the same phases and checks on the emulator and on AWS.

Phases (each checked by asking the service itself: DescribePackages, ListPackagesForDomain, the
stacks' outputs):

1. ``domain``: deploy the domain stack.
2. ``example-v1``: deploy the example app's dictionary: package AVAILABLE, associated, outputs
   equal to what the service says.
3. ``example-v2``: deploy a new dictionary version: same package id, new version AVAILABLE and
   ACTIVE on the domain.
4. ``probe``: the suite's own calls on a package of its own (duplicate name, unknown id, second
   association, delete while associated, update while copying, dissociate twice, the batch
   calls...): every
   answer is recorded; each must be a success or an error botocore's model declares.
5. ``plugin``: deploy the plugin, its license and its configuration: AVAILABLE, ACTIVE, the
   prerequisites as :mod:`.stacks` wires them.
6. ``destroy``: delete the plugin, example and domain stacks: after each, its packages and
   associations are gone; at the end nothing is left (stacks, packages, EventBridge rules of the
   providers, provider functions and so their Lambda permissions).

A background poller records the status sequences while CloudFormation works.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from osp_acceptance.drivers import FAST_TIMELINE, AwsDriver, Driver, EmulatorDriver, new_work_dir
from osp_acceptance.recorder import Recorder
from osp_acceptance.settings import ENGINE_VERSION, REPOSITORY, RunSettings
from osp_acceptance.stacks import PREREQUISITES

from cdk_opensearch_packages.local.opensearch.errors import UNMODELLED_ERRORS

__all__ = ["Suite", "run_suite"]

_PROVIDER_ENV = "OSP_RULE_PREFIX"
_PROBE_MISSING_ID = "F000000001"


def _say(message: str) -> None:
    """Progress on the terminal even under pytest's capture (a run on AWS takes an hour)."""
    stream = sys.__stderr__
    if stream is not None:
        stream.write(f"[acceptance {time.strftime('%H:%M:%S')}] {message}\n")
        stream.flush()


@dataclass
class Suite:
    """One run: a driver, a recorder and what the phases learned."""

    settings: RunSettings
    driver: Driver
    recorder: Recorder
    failures: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    rule_prefixes: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _poller: threading.Thread | None = None

    @property
    def opensearch(self) -> Any:
        """The suite's recorded ``opensearch`` client."""
        return self.driver.client("opensearch")

    @property
    def timeout(self) -> float:
        """How long a wait on the service may last."""
        return 60.0 if self.driver.target == "emulator" else 3600.0

    def check(self, ok: bool, what: str) -> None:
        """Note a failed check (the run goes on, so it cleans up and records everything)."""
        _say(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    # -- reading the service ----------------------------------------------------------------

    def package(self, package_id: str) -> dict[str, Any] | None:
        """DescribePackages of one id (``None`` when unknown or DELETED)."""
        try:
            found = self.opensearch.describe_packages(
                Filters=[{"Name": "PackageID", "Value": [package_id]}]
            )["PackageDetailsList"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        live = [p for p in found if p.get("PackageStatus") != "DELETED"]
        return live[0] if live else None

    def deleted(self, package_id: str) -> bool:
        """Whether the package is gone (unknown or DELETED)."""
        return self.package(package_id) is None

    def off_domain(self, package_id: str) -> bool:
        """Whether the domain no longer lists the package."""
        return package_id not in self.domain_packages()

    def domain_packages(self) -> dict[str, dict[str, Any]]:
        """ListPackagesForDomain, every page: ``package id -> DomainPackageDetails``."""
        result: dict[str, dict[str, Any]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"DomainName": self.settings.domain_name}
            if token:
                kwargs["NextToken"] = token
            page = self.opensearch.list_packages_for_domain(**kwargs)
            for details in page.get("DomainPackageDetailsList", []):
                result[details["PackageID"]] = details
            token = page.get("NextToken")
            if not token:
                return result

    def wait(self, what: str, condition: Callable[[], bool]) -> bool:
        """Poll ``condition`` (its calls recorded as polls) until true or the timeout."""
        deadline = time.monotonic() + self.timeout
        with self.recorder.polling():
            while True:
                if condition():
                    return True
                if time.monotonic() > deadline:
                    self.check(False, f"{what} within {self.timeout:.0f} s")
                    return False
                time.sleep(self.driver.poll_interval)

    # -- the poller -------------------------------------------------------------------------

    def start_poller(self) -> None:
        """Poll our packages (by name) and the domain until :meth:`stop_poller`."""

        def poll() -> None:
            names = self.settings.package_names
            with self.recorder.polling():
                while not self._stop.wait(self.driver.poll_interval):
                    with contextlib.suppress(Exception):
                        self.opensearch.describe_packages(
                            Filters=[{"Name": "PackageName", "Value": names}]
                        )
                        self.domain_packages()

        self._poller = threading.Thread(target=poll, name="acceptance-poller", daemon=True)
        self._poller.start()

    def stop_poller(self) -> None:
        """Stop the poller."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=30)

    # -- stacks -----------------------------------------------------------------------------

    def context(self, **extra: str) -> dict[str, str]:
        """The CDK context of the run plus ``extra``."""
        return {**self.settings.context(), **extra}

    def deploy(self, stack: str, **context: str) -> dict[str, str]:
        """Deploy a stack; remember its provider's rule prefix and function."""
        _say(f"deploying {stack} ({self.driver.target})")
        started = time.monotonic()
        outputs = self.driver.deploy(stack, self.context(**context))
        _say(f"deployed {stack} in {time.monotonic() - started:.0f} s")
        template = self.driver.template(stack)
        functions = self.driver.physical_ids(stack, "AWS::Lambda::Function")
        for logical_id, resource in template.get("Resources", {}).items():
            variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
            if resource.get("Type") == "AWS::Lambda::Function" and _PROVIDER_ENV in variables:
                self.rule_prefixes[stack] = str(variables[_PROVIDER_ENV])
                self.functions[stack] = functions[logical_id]
                permissions = [
                    r
                    for r in template["Resources"].values()
                    if r.get("Type") == "AWS::Lambda::Permission"
                ]
                self.check_provider(stack, len(permissions))
        return outputs

    def check_provider(self, stack: str, permissions: int) -> None:
        """After a deployment: no polling rule left, only the stack's own permission(s)."""
        rules = self.rules(self.rule_prefixes[stack])
        self.check(not rules, f"{stack}: no EventBridge rule of the provider left ({rules})")
        lambda_client = self.driver.client("lambda")
        try:
            policy = json.loads(
                lambda_client.get_policy(FunctionName=self.functions[stack])["Policy"]
            )
            statements = len(policy.get("Statement", []))
        except ClientError:
            statements = 0
        self.check(
            statements == permissions,
            f"{stack}: the provider's resource policy holds the stack's {permissions} "
            f"permission statement(s), none added at run time (found {statements})",
        )

    def rules(self, prefix: str) -> list[str]:
        """EventBridge rules whose names start with ``prefix``."""
        events = self.driver.client("events")
        return [r["Name"] for r in events.list_rules(NamePrefix=prefix).get("Rules", [])]

    def destroy(self, stack: str) -> None:
        """Delete a stack."""
        _say(f"destroying {stack} ({self.driver.target})")
        self.driver.destroy(stack, self.context())
        self.check(not self.driver.stack_exists(stack), f"{stack}: deleted")

    # -- phases -----------------------------------------------------------------------------

    def phase_domain(self) -> None:
        """Deploy the domain."""
        with self.recorder.phase("domain"):
            outputs = self.deploy(self.settings.domain_stack)
            self.check(
                outputs.get("DomainName") == self.settings.domain_name,
                f"domain stack output DomainName is {self.settings.domain_name}",
            )
        self.start_poller()

    def check_package(self, role: str, package_id: str, version: str) -> None:
        """The package is AVAILABLE at ``version`` and ACTIVE at it on the domain."""
        details = self.package(package_id) or {}
        self.check(
            details.get("PackageStatus") == "AVAILABLE"
            and details.get("AvailablePackageVersion") == version
            and details.get("PackageName") == self.settings.package_name(role),
            f"{role} {package_id}: AVAILABLE at {version} (service: "
            f"{details.get('PackageStatus')} {details.get('AvailablePackageVersion')})",
        )
        associated = self.domain_packages().get(package_id, {})
        self.check(
            associated.get("DomainPackageStatus") == "ACTIVE"
            and associated.get("PackageVersion") == version,
            f"{role} {package_id}: ACTIVE at {version} on {self.settings.domain_name} (service: "
            f"{associated.get('DomainPackageStatus')} {associated.get('PackageVersion')})",
        )

    def phase_example(self, dictionary: str) -> None:
        """Deploy the example app's dictionary (``v1``, then ``v2``)."""
        with self.recorder.phase(f"example-{dictionary}"):
            outputs = self.deploy(self.settings.example_stack, osp_dictionary=dictionary)
            package_id = outputs["PackageId"]
            if dictionary == "v1":
                self.ids["synonyms"] = package_id
                self.ids["synonyms-v1"] = outputs["PackageVersion"]
            else:
                self.check(
                    package_id == self.ids.get("synonyms"), "v2: the same package (UpdatePackage)"
                )
                self.check(
                    outputs["PackageVersion"] != self.ids.get("synonyms-v1"),
                    f"v2: a new version ({self.ids.get('synonyms-v1')} -> "
                    f"{outputs['PackageVersion']})",
                )
            self.check_package("synonyms", package_id, outputs["PackageVersion"])
            associated = self.domain_packages().get(package_id, {})
            self.check(
                outputs["ReferencePath"]
                == associated.get("ReferencePath")
                == f"analyzers/{package_id}",
                f"ReferencePath output {outputs['ReferencePath']} is the service's",
            )

    def phase_plugin(self) -> None:
        """Deploy the plugin, its license and its configuration."""
        with self.recorder.phase("plugin"):
            outputs = self.deploy(self.settings.plugin_stack)
            for role in ("plugin", "license", "config"):
                self.ids[role] = outputs[f"{role.capitalize()}Id"]
                self.check_package(role, self.ids[role], outputs[f"{role.capitalize()}Version"])
            plugin_details = self.package(self.ids["plugin"]) or {}
            self.check(
                plugin_details.get("EngineVersion") == ENGINE_VERSION,
                f"plugin EngineVersion {ENGINE_VERSION}",
            )
            associated = self.domain_packages()
            for role, prerequisites in PREREQUISITES.items():
                listed = associated.get(self.ids[role], {}).get("PrerequisitePackageIDList", [])
                expected = {self.ids[p] for p in prerequisites}
                self.check(
                    set(listed) == expected,
                    f"{role}'s association lists {sorted(prerequisites)} as prerequisites",
                )

    def phase_probe(self) -> None:
        """The suite's own calls on a package of its own (see the module docstring)."""
        with self.recorder.phase("probe"):
            bucket, key = self._synonyms_source()
            data = self.driver.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            self.recorder.add_source(bucket, key, data)
            name = self.settings.package_name("probe")
            domain = self.settings.domain_name
            created = self.probe(
                "CreatePackage",
                PackageName=name,
                PackageType="TXT-DICTIONARY",
                PackageSource={"S3BucketName": bucket, "S3Key": key},
            )
            if created is None:
                return
            probe_id = created["PackageDetails"]["PackageID"]
            self.ids["probe"] = probe_id
            available = self.wait(
                "probe AVAILABLE",
                lambda: (self.package(probe_id) or {}).get("PackageStatus") == "AVAILABLE",
            )
            self.probe(
                "CreatePackage",
                PackageName=name,
                PackageType="TXT-DICTIONARY",
                PackageSource={"S3BucketName": bucket, "S3Key": key},
            )
            self.probe("DescribePackages", Filters=[{"Name": "PackageID", "Value": ["F0"]}])
            self.probe(
                "DescribePackages",
                Filters=[{"Name": "PackageID", "Value": [_PROBE_MISSING_ID]}],
            )
            self.probe("AssociatePackage", PackageID=_PROBE_MISSING_ID, DomainName=domain)
            if not available:
                return
            self.probe("AssociatePackage", PackageID=probe_id, DomainName=domain)
            active = self.wait(
                "probe ACTIVE on the domain",
                lambda: (
                    self.domain_packages().get(probe_id, {}).get("DomainPackageStatus") == "ACTIVE"
                ),
            )
            if active:
                self.probe("AssociatePackage", PackageID=probe_id, DomainName=domain)
            if self.probe("DeletePackage", PackageID=probe_id) is not None:
                # Deleted while associated: nothing more to probe on it; leave the domain clean.
                self.wait("probe deleted", lambda: self.package(probe_id) is None)
                if probe_id in self.domain_packages():
                    self.probe("DissociatePackage", PackageID=probe_id, DomainName=domain)
                    self.wait("probe dissociated", lambda: probe_id not in self.domain_packages())
                return
            self.probe(
                "UpdatePackage",
                PackageID=probe_id,
                PackageSource={"S3BucketName": bucket, "S3Key": key},
                CommitMessage="osp acceptance probe",
            )
            self.probe(
                "UpdatePackage",
                PackageID=probe_id,
                PackageSource={"S3BucketName": bucket, "S3Key": key},
                CommitMessage="osp acceptance probe while copying",
            )
            self.wait(
                "probe AVAILABLE after UpdatePackage",
                lambda: (self.package(probe_id) or {}).get("PackageStatus") == "AVAILABLE",
            )
            self.probe("GetPackageVersionHistory", PackageID=probe_id)
            self.probe("ListDomainsForPackage", PackageID=probe_id)
            self.probe("DissociatePackage", PackageID=probe_id, DomainName=domain)
            self.wait("probe dissociated", lambda: probe_id not in self.domain_packages())
            self.probe("DissociatePackage", PackageID=probe_id, DomainName=domain)
            # The batch calls on one package (their semantics are the least documented).
            if self.probe(
                "AssociatePackages", DomainName=domain, PackageList=[{"PackageID": probe_id}]
            ):
                self.wait(
                    "probe ACTIVE on the domain (AssociatePackages)",
                    lambda: (
                        self.domain_packages().get(probe_id, {}).get("DomainPackageStatus")
                        == "ACTIVE"
                    ),
                )
                self.probe("DissociatePackages", DomainName=domain, PackageList=[probe_id])
                self.wait(
                    "probe dissociated (DissociatePackages)", partial(self.off_domain, probe_id)
                )
            self.probe("DissociatePackages", DomainName=domain, PackageList=[probe_id])
            self.probe("DeletePackage", PackageID=probe_id)
            self.wait("probe deleted", lambda: self.package(probe_id) is None)
            self.probe("DescribePackages", Filters=[{"Name": "PackageID", "Value": [probe_id]}])
            self.probe("DeletePackage", PackageID=probe_id)

    def probe(self, operation: str, **params: Any) -> dict[str, Any] | None:
        """Call an operation; check that the answer is a success or a declared error."""
        method = getattr(self.opensearch, _snake(operation))
        try:
            answer: dict[str, Any] = method(**params)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            declared = _declared_errors(self.opensearch, operation)
            assumed = (operation, code) in UNMODELLED_ERRORS
            self.check(
                code in declared or assumed,
                f"probe {operation}: {code} ({error.response['Error'].get('Message')}) is "
                + (
                    "outside botocore's model, as the emulator assumes (UNMODELLED_ERRORS)"
                    if assumed and code not in declared
                    else "an error botocore's model declares"
                ),
            )
            return None
        _say(f"ok   probe {operation}: success")
        return answer

    def _synonyms_source(self) -> tuple[str, str]:
        """The S3 object the example's synonyms package was made from (a CDK asset)."""
        template = self.driver.template(self.settings.example_stack)
        for resource in template["Resources"].values():
            source = resource.get("Properties", {}).get("PackageSource")
            if resource.get("Type") == "Custom::OpenSearchPackage" and source:
                return self._resolve(source["S3BucketName"]), self._resolve(source["S3Key"])
        raise AssertionError("the example stack has no package source")

    def _resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        text = str(value["Fn::Sub"])
        account, region = self._account_region()
        return text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)

    def _account_region(self) -> tuple[str, str]:
        if isinstance(self.driver, AwsDriver):
            return self.driver.account, str(self.driver.session.region_name)
        from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, REGION

        return ACCOUNT_ID, REGION

    def phase_destroy(self) -> None:
        """Delete the stacks in reverse order and check that nothing is left."""
        with self.recorder.phase("destroy"):
            for stack, roles in (
                (self.settings.plugin_stack, ("plugin", "license", "config")),
                (self.settings.example_stack, ("synonyms",)),
            ):
                self.destroy(stack)
                for role in roles:
                    package_id = self.ids.get(role)
                    if package_id is None:
                        continue
                    # The provider answers once the service has let go; waited anyway.
                    self.check(
                        self.wait(f"{role} dissociated", partial(self.off_domain, package_id)),
                        f"{role} dissociated",
                    )
                    self.check(
                        self.wait(f"{role} deleted", partial(self.deleted, package_id)),
                        f"{role} deleted",
                    )
            self.stop_poller()
            self.destroy(self.settings.domain_stack)
        self.check_nothing_left()

    def check_nothing_left(self) -> None:
        """No stack, package, provider rule or provider function (nor its permissions)."""
        for stack in self.settings.stacks:
            self.check(not self.driver.stack_exists(stack), f"no stack {stack}")
        names = self.settings.package_names
        with self.recorder.phase("final"):
            left = [
                p["PackageName"]
                for p in self.opensearch.describe_packages(
                    Filters=[{"Name": "PackageName", "Value": names}]
                )["PackageDetailsList"]
                if p.get("PackageStatus") != "DELETED"
            ]
        self.check(not left, f"no package of the run left ({left})")
        for stack, prefix in self.rule_prefixes.items():
            rules = self.rules(prefix)
            self.check(not rules, f"{stack}: no EventBridge rule {prefix}* left ({rules})")
        lambda_client = self.driver.client("lambda")
        for stack, function in self.functions.items():
            try:
                lambda_client.get_function(FunctionName=function)
                gone = False
            except ClientError:
                gone = True
            self.check(gone, f"{stack}: provider function {function} and its permissions gone")

    # -- cleanup ----------------------------------------------------------------------------

    def cleanup(self) -> None:
        """After a failure: delete whatever the run made that still exists (best effort)."""
        self.stop_poller()
        probe_id = self.ids.get("probe")
        if probe_id and self.package(probe_id) is not None:
            with contextlib.suppress(ClientError):
                self.opensearch.dissociate_package(
                    PackageID=probe_id, DomainName=self.settings.domain_name
                )
            with contextlib.suppress(Exception):
                self.wait("probe dissociated", lambda: probe_id not in self.domain_packages())
            with contextlib.suppress(ClientError):
                self.opensearch.delete_package(PackageID=probe_id)
        for stack in reversed(self.settings.stacks):
            if self.driver.stack_exists(stack):
                try:
                    self.driver.destroy(stack, self.context())
                except Exception as error:  # keep deleting the others
                    _say(f"could not delete {stack}: {error}")


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def _declared_errors(client: Any, operation: str) -> set[str]:
    model = client.meta.service_model.operation_model(operation)
    return {shape.name for shape in model.error_shapes} | {"ThrottlingException"}


def recording_path(settings: RunSettings, region: str) -> Path:
    """Where the run's recording goes: ``OSP_ACCEPTANCE_RECORDING``, else
    ``tests/recordings/aws-<region>-<date>-<run>.json`` for AWS and a temporary file for the
    emulator (emulator recordings are committed by hand, see tests/recordings/README.md)."""
    chosen = os.environ.get("OSP_ACCEPTANCE_RECORDING")
    if chosen:
        return Path(chosen).resolve()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
    name = f"{settings.target}-{region}-{date}-{settings.run_id}.json"
    if settings.target == "aws":
        return REPOSITORY / "tests" / "recordings" / name
    return Path(os.environ.get("TMPDIR", "/tmp")) / "osp-acceptance-recordings" / name


@contextlib.contextmanager
def _driver(settings: RunSettings, work: Path) -> Iterator[Driver]:
    driver: Driver = AwsDriver(work) if settings.target == "aws" else EmulatorDriver(work)
    try:
        yield driver
    finally:
        driver.close()


def run_suite(settings: RunSettings) -> tuple[list[str], Path]:
    """Run every phase on the target; return the failed checks and the recording's path."""
    work = new_work_dir(settings.target)
    _say(
        f"target {settings.target}, run id {settings.run_id}: stacks "
        f"{', '.join(settings.stacks)}; domain {settings.domain_name}; packages "
        f"{', '.join(settings.package_names)}; CDK CLI log {work / 'cdk.log'}"
    )
    with _driver(settings, work) as driver:
        region = "us-east-1"
        if isinstance(driver, AwsDriver):
            region = str(driver.session.region_name)
        recorder = Recorder(
            settings.target,
            {
                "region": region,
                "run_id": settings.run_id,
                "domains": {settings.domain_name: ENGINE_VERSION},
                "poll_interval": driver.poll_interval,
                "timeline": FAST_TIMELINE if settings.target == "emulator" else None,
                "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "observable": "the suite's own client only; the provider Lambda's calls appear "
                "as the status sequences the suite polled",
                "botocore": _botocore_version(),
            },
        )
        recorder.attach(driver.client("opensearch"))
        suite = Suite(settings, driver, recorder)
        path = recording_path(settings, region)
        try:
            suite.phase_domain()
            suite.phase_example("v1")
            suite.phase_example("v2")
            suite.phase_probe()
            suite.phase_plugin()
            suite.phase_destroy()
        except Exception as error:
            suite.failures.append(f"{type(error).__name__}: {error}")
            _say(f"FAIL {type(error).__name__}: {error}; cleaning up")
            suite.cleanup()
            raise
        finally:
            suite.stop_poller()
            recorder.save(path)
            _say(f"recording written to {path}")
    if not suite.failures:
        shutil.rmtree(work, ignore_errors=True)  # kept after a failure: the CDK CLI's log
    return suite.failures, path


def _botocore_version() -> str:
    import botocore

    return str(botocore.__version__)
