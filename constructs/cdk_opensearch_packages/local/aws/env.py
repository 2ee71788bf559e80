"""The local AWS: moto's server, the local OpenSearch packages API, Lambda, EventBridge and
the CloudFormation stand-in, wired together.

Use it as a context manager::

    with LocalAws(time_scale=1 / 60, lambda_timeout=25) as aws:
        result = aws.cloudformation.deploy("cdk.out")
        print(result.status, result.outputs)
        aws.cloudformation.delete(result.stack_name)
        assert aws.inventory().is_empty()

moto serves S3, EventBridge, Lambda (function registry and permissions), IAM, STS, SSM and
CloudWatch Logs on one free port of 127.0.0.1; the local OpenSearch API reads package sources
from that S3. :attr:`LocalAws.environment` is what a Lambda function gets: ``AWS_REGION``, fake
credentials, ``AWS_ENDPOINT_URL`` (moto) and the per-service ``AWS_ENDPOINT_URL_*`` variables
(OpenSearch pointing at the local API, EventBridge at a proxy to moto that can inject faults:
:attr:`LocalAws.events_faults`, :meth:`LocalAws.events_calls`). The bootstrap bucket and the
bootstrap version SSM parameter exist from the start, as after ``cdk bootstrap``.

Faults reach every call the provider makes: the OpenSearch API's (``aws.opensearch.faults``),
the functions' EventBridge calls (``aws.events_faults``) and the response PUTs
(``aws.listener.set_faults(...)``). The EventBridge client of :attr:`LocalAws.events` (tests,
the scheduler, :meth:`LocalAws.inventory`) talks to moto directly and meets none.

moto keeps its state per process, so one :class:`LocalAws` runs at a time in a process; its
state is reset when it starts.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from cdk_opensearch_packages.local.aws.constants import (
    ACCOUNT_ID,
    BOOTSTRAP_QUALIFIER,
    FAKE_CREDENTIALS,
    REGION,
    access_key_id,
    bootstrap_bucket_name,
    credentials,
)
from cdk_opensearch_packages.local.awslambda.runner import LambdaRunner, LogStore
from cdk_opensearch_packages.local.cloudformation.engine import LocalCloudFormation
from cdk_opensearch_packages.local.cloudformation.resources import ProvisioningServices, remove_tree
from cdk_opensearch_packages.local.cloudformation.responses import ResponseListener
from cdk_opensearch_packages.local.cloudformation.tls import LocalCertificates, create_certificates
from cdk_opensearch_packages.local.events.proxy import EventBridgeCall, EventBridgeFaultProxy
from cdk_opensearch_packages.local.events.scheduler import EventBridgeScheduler

if TYPE_CHECKING:
    from types_boto3_events import EventBridgeClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_opensearch import OpenSearchServiceClient
    from types_boto3_s3 import S3Client

    from cdk_opensearch_packages.local.opensearch.api import (
        FaultConfig,
        FaultInjector,
        LocalOpenSearchService,
        Timeline,
    )

__all__ = ["BOOTSTRAP_VERSION", "Inventory", "LocalAws"]

#: The bootstrap stack version the local account pretends to have (``cdk bootstrap``).
BOOTSTRAP_VERSION = "30"
_BOOTSTRAP_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
_ACTIVE_LOCK = threading.Lock()
_active: list[LocalAws] = []
_GONE_STATUSES = frozenset({"DELETING", "DELETED"})


def _session(keys: Mapping[str, str]) -> boto3.session.Session:
    """A boto3 session with fake credentials (``AWS_*`` variables) in the emulated region."""
    return boto3.session.Session(
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )


@dataclass
class Inventory:
    """What exists in the local account (to check that nothing is left behind).

    :param packages: ``package id -> status`` of packages not deleted (or being deleted).
    :param associations: ``"domain|package id" -> status``.
    :param rules: EventBridge rule names.
    :param targets: ``rule name -> target ids``.
    :param functions: local Lambda function names.
    :param handler_permissions: ``function -> statement ids`` of permission statements no
        ``AWS::Lambda::Permission`` resource of a stack created (added at run time).
    """

    packages: dict[str, str] = field(default_factory=dict)
    associations: dict[str, str] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)
    targets: dict[str, list[str]] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    handler_permissions: dict[str, list[str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Nothing is left: no package, association, rule, target, function or permission."""
        return not (
            self.packages
            or self.associations
            or self.rules
            or self.targets
            or self.functions
            or self.handler_permissions
        )

    def orphans(self) -> dict[str, Any]:
        """What the handler can leave behind: packages, associations, rules, targets and
        permission statements it added (the stack's own functions do not count)."""
        found: dict[str, Any] = {
            "packages": self.packages,
            "associations": self.associations,
            "rules": self.rules,
            "targets": self.targets,
            "handler_permissions": self.handler_permissions,
        }
        return {key: value for key, value in found.items() if value}


class LocalAws:
    """Everything the offline emulation runs, started and stopped together.

    :param time_scale: real seconds per emulated second for waits that are minutes long on
        AWS: EventBridge rates (``1/60``: a minute lasts a second), Lambda's asynchronous retry
        delays and custom resource ``ServiceTimeout``. Default: real time.
    :param lambda_timeout: when set, every function's timeout in seconds (tests shrink it to
        make the handler hand a long wait over to EventBridge polling).
    :param opensearch: whether to run the local OpenSearch packages API.
    :param opensearch_timeline: its phase durations. Default: its own defaults.
    :param opensearch_faults: faults it injects from the start. Default: none.
    :param events_faults: faults the functions' EventBridge calls meet from the start.
        Default: none.
    :param seed: seeds the local OpenSearch API (package ids, fault draws) and the EventBridge
        fault draws.
    :param quiet: keep werkzeug from logging every HTTP request (moto's server logs them at
        INFO on the ``werkzeug`` logger unless it has a level).
    :param max_workers: resources CloudFormation provisions at the same time.
    :param accounts: other accounts to emulate beside the default one (12-digit ids): a stack
        deployed with ``cloudformation.deploy(..., account=...)`` runs its functions with that
        account's credentials (:func:`.constants.credentials`), which the local OpenSearch API
        maps to the account (packages shared between accounts); moto and the CloudFormation
        stand-in treat every account as the default one.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        lambda_timeout: float | None = None,
        opensearch: bool = True,
        opensearch_timeline: Timeline | None = None,
        opensearch_faults: FaultConfig | None = None,
        events_faults: FaultConfig | None = None,
        seed: int = 0,
        quiet: bool = True,
        max_workers: int = 16,
        accounts: Sequence[str] = (),
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
        for account in accounts:
            if len(account) != 12 or not account.isdigit() or account == ACCOUNT_ID:
                raise ValueError(
                    f"accounts: {account!r} must be a 12-digit account id other than {ACCOUNT_ID}"
                )
        #: Every emulated account, the default one first.
        self.accounts: tuple[str, ...] = (ACCOUNT_ID, *dict.fromkeys(accounts))
        self.time_scale = time_scale
        self._lambda_timeout = lambda_timeout
        self._with_opensearch = opensearch
        self._opensearch_timeline = opensearch_timeline
        self._opensearch_faults = opensearch_faults
        self._events_faults = events_faults
        self._seed = seed
        self._quiet = quiet
        self._max_workers = max_workers
        self._moto: Any = None
        self._work_dir: Path | None = None
        self.moto_url = ""
        self.opensearch: LocalOpenSearchService | None = None
        self._events_proxy: EventBridgeFaultProxy | None = None
        self.logs = LogStore()
        self.environment: dict[str, str] = {}
        self._runner: LambdaRunner | None = None
        self._listener: ResponseListener | None = None
        self._scheduler: EventBridgeScheduler | None = None
        self._cloudformation: LocalCloudFormation | None = None
        self.certificates: LocalCertificates | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalAws:
        """Start moto, the local OpenSearch API, the response listener, the Lambda runner and
        the EventBridge scheduler; bootstrap the account.

        :raises RuntimeError: when another :class:`LocalAws` is running in this process.
        """
        with _ACTIVE_LOCK:
            if _active:
                raise RuntimeError(
                    "another LocalAws is running in this process (moto's state is per "
                    "process): stop it first"
                )
            _active.append(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from moto.server import ThreadedMotoServer

        if self._quiet:
            werkzeug_logger = logging.getLogger("werkzeug")
            if werkzeug_logger.level == logging.NOTSET:
                werkzeug_logger.setLevel(logging.WARNING)
        self._work_dir = Path(tempfile.mkdtemp(prefix="cdk-osp-local-"))
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        urllib.request.urlopen(
            urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST"), timeout=10
        ).close()
        opensearch_url = ""
        if self._with_opensearch:
            from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService

            self.opensearch = LocalOpenSearchService(
                self.moto_url,
                timeline=self._opensearch_timeline,
                faults=self._opensearch_faults,
                region=REGION,
                account_id=ACCOUNT_ID,
                seed=self._seed,
                access_keys={access_key_id(account): account for account in self.accounts[1:]},
            )
            opensearch_url = self.opensearch.start()
        self._events_proxy = EventBridgeFaultProxy(
            self.moto_url, faults=self._events_faults, seed=self._seed
        )
        events_url = self._events_proxy.start()
        self.certificates = create_certificates(self._work_dir / "tls")
        self.environment = self._lambda_environment(opensearch_url, events_url)
        self._listener = ResponseListener(self.certificates)
        self._listener.start()
        self._runner = LambdaRunner(
            base_environment=self.environment,
            log_store=self.logs,
            timeout_override=self._lambda_timeout,
            time_scale=self.time_scale,
            work_dir=self._work_dir / "invocations",
        )
        (self._work_dir / "invocations").mkdir()
        services = ProvisioningServices(
            s3=self.s3,
            iam=self.client("iam"),
            lambda_client=self.lambda_client,
            runner=self._runner,
            listener=self._listener,
            opensearch=self.opensearch,
            code_root=self._work_dir / "functions",
            time_scale=self.time_scale,
            accounts=self.accounts,
        )
        services.code_root.mkdir()
        ssm = self.client("ssm")
        ssm.put_parameter(Name=_BOOTSTRAP_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")
        self.s3.create_bucket(Bucket=bootstrap_bucket_name())
        self._cloudformation = LocalCloudFormation(
            services,
            ssm_parameter=lambda name: str(ssm.get_parameter(Name=name)["Parameter"]["Value"]),
            max_workers=self._max_workers,
        )
        self._scheduler = EventBridgeScheduler(
            events=self.events,
            lambda_client=self.lambda_client,
            runner=self._runner,
            minute=60.0 * self.time_scale,
        )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop everything (running invocations are killed) and remove the temporary files."""
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._runner is not None:
            self._runner.close()
        if self._listener is not None:
            self._listener.stop()
        if self.opensearch is not None:
            self.opensearch.stop()
        if self._events_proxy is not None:
            self._events_proxy.stop()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        self._clients.clear()
        self.moto_url = ""
        if self._work_dir is not None:
            remove_tree(self._work_dir)
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
        with _ACTIVE_LOCK:
            if self in _active:
                _active.remove(self)

    def _lambda_environment(self, opensearch_url: str, events_url: str) -> dict[str, str]:
        assert self._work_dir is not None and self.certificates is not None
        environment = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.moto_url,
            # botocore derives these names from each service id (EventBridge ->
            # AWS_ENDPOINT_URL_EVENTBRIDGE); _EVENTS is kept for tools that use the CLI name.
            # EventBridge goes through the fault proxy (to moto).
            "AWS_ENDPOINT_URL_S3": self.moto_url,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": events_url,
            "AWS_ENDPOINT_URL_EVENTS": events_url,
            "AWS_ENDPOINT_URL_LAMBDA": self.moto_url,
            "AWS_ENDPOINT_URL_STS": self.moto_url,
            "AWS_ENDPOINT_URL_IAM": self.moto_url,
            "AWS_ENDPOINT_URL_SSM": self.moto_url,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self.moto_url,
            # The ResponseURL is HTTPS on 127.0.0.1 with a certificate of a CA made for this run.
            "SSL_CERT_FILE": str(self.certificates.ca_file),
            # Never read the developer's ~/.aws files, never ask an instance metadata service.
            "AWS_CONFIG_FILE": str(self._work_dir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self._work_dir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if opensearch_url:
            environment["AWS_ENDPOINT_URL_OPENSEARCH"] = opensearch_url
        return environment

    # -- parts -------------------------------------------------------------------------------

    @property
    def runner(self) -> LambdaRunner:
        """The local Lambda service."""
        if self._runner is None:
            raise RuntimeError("LocalAws is not running: call start() first")
        return self._runner

    @property
    def listener(self) -> ResponseListener:
        """The ``ResponseURL`` endpoint."""
        if self._listener is None:
            raise RuntimeError("LocalAws is not running: call start() first")
        return self._listener

    @property
    def scheduler(self) -> EventBridgeScheduler:
        """The EventBridge scheduler."""
        if self._scheduler is None:
            raise RuntimeError("LocalAws is not running: call start() first")
        return self._scheduler

    @property
    def events_proxy(self) -> EventBridgeFaultProxy:
        """The proxy in front of moto's EventBridge that the Lambda functions call."""
        if self._events_proxy is None:
            raise RuntimeError("LocalAws is not running: call start() first")
        return self._events_proxy

    @property
    def events_faults(self) -> FaultInjector:
        """The faults the functions' EventBridge calls meet, e.g.
        ``aws.events_faults.set(throttle=0.3, operations=["PutTargets"], seed=4)``."""
        return self.events_proxy.faults

    def events_calls(self, operation: str | None = None) -> list[EventBridgeCall]:
        """The EventBridge calls the Lambda functions made, oldest first.

        :param operation: only this operation's (``PutRule``). Default: - all.
        """
        return self.events_proxy.calls(operation)

    @property
    def cloudformation(self) -> LocalCloudFormation:
        """The CloudFormation stand-in."""
        if self._cloudformation is None:
            raise RuntimeError("LocalAws is not running: call start() first")
        return self._cloudformation

    def client(self, service_name: str) -> Any:
        """A boto3 client of the local account for any service moto (or the local OpenSearch
        API, for ``opensearch``) serves."""
        if not self.moto_url:
            raise RuntimeError("LocalAws is not running: call start() first")
        with self._clients_lock:
            if service_name in self._clients:
                return self._clients[service_name]
        endpoint = self.moto_url
        if service_name == "opensearch":
            if self.opensearch is None:
                raise RuntimeError("this LocalAws runs without the local OpenSearch API")
            endpoint = self.opensearch.endpoint_url
        client = _session(FAKE_CREDENTIALS).client(  # type: ignore[call-overload]
            service_name, endpoint_url=endpoint
        )
        with self._clients_lock:
            return self._clients.setdefault(service_name, client)

    def credentials(self, account_id: str) -> dict[str, str]:
        """The fake credentials (environment variables) of an emulated account."""
        if account_id not in self.accounts:
            raise KeyError(f"account {account_id} is not emulated: LocalAws(accounts=[...])")
        return credentials(account_id)

    def opensearch_client_for(self, account_id: str) -> OpenSearchServiceClient:
        """A client of the local OpenSearch packages API that calls as ``account_id``."""
        if self.opensearch is None:
            raise RuntimeError("this LocalAws runs without the local OpenSearch API")
        client: OpenSearchServiceClient = _session(self.credentials(account_id)).client(
            "opensearch", endpoint_url=self.opensearch.endpoint_url
        )
        return client

    @property
    def s3(self) -> S3Client:
        """moto's S3."""
        client: S3Client = self.client("s3")
        return client

    @property
    def events(self) -> EventBridgeClient:
        """moto's EventBridge, directly (never through the fault proxy)."""
        client: EventBridgeClient = self.client("events")
        return client

    @property
    def lambda_client(self) -> LambdaClient:
        """moto's Lambda (function registry and resource-based policies)."""
        client: LambdaClient = self.client("lambda")
        return client

    @property
    def opensearch_client(self) -> OpenSearchServiceClient:
        """A client of the local OpenSearch packages API."""
        client: OpenSearchServiceClient = self.client("opensearch")
        return client

    # -- inspection --------------------------------------------------------------------------

    def inventory(self) -> Inventory:
        """What exists now: packages, associations, rules, targets, functions, and the
        permission statements that no stack created."""
        found = Inventory()
        if self.opensearch is not None:
            for package in self.opensearch.packages():
                if package.get("PackageStatus") not in _GONE_STATUSES:
                    found.packages[str(package["PackageID"])] = str(package.get("PackageStatus"))
            for association in self.opensearch.associations():
                key = f"{association['DomainName']}|{association['PackageID']}"
                found.associations[key] = str(association.get("DomainPackageStatus"))
        for rule in self.events.list_rules().get("Rules", []):
            name = rule["Name"]
            found.rules.append(name)
            targets = self.events.list_targets_by_rule(Rule=name).get("Targets", [])
            if targets:
                found.targets[name] = [target["Id"] for target in targets]
        stack_statements = {
            state.physical_id
            for stack in self.cloudformation.stacks()
            for state in stack.resources.values()
            if state.resource_type == "AWS::Lambda::Permission"
        }
        for function in self.runner.functions():
            found.functions.append(function.name)
            try:
                document = self.lambda_client.get_policy(FunctionName=function.name)["Policy"]
            except ClientError:
                continue  # no policy at all
            policy = json.loads(document)
            extra = [
                str(statement.get("Sid"))
                for statement in policy.get("Statement", [])
                if statement.get("Sid") not in stack_statements
            ]
            if extra:
                found.handler_permissions[function.name] = extra
        return found
