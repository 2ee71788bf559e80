"""A local Amazon OpenSearch Service packages API over real HTTP (werkzeug, rest-json).

moto and LocalStack implement none of the package operations, so the end-to-end tests, the
benchmarks and ``make demo`` run against this emulation. An unmodified boto3 ``opensearch``
client talks to it (``endpoint_url=service.endpoint_url`` or ``AWS_ENDPOINT_URL_OPENSEARCH``)::

    with LocalOpenSearchService(s3_endpoint_url, timeline=Timeline.uniform(0.5)) as service:
        service.register_domain("search")
        client = service.client()
        client.create_package(PackageName="synonyms", PackageType="TXT-DICTIONARY",
                              PackageSource={"S3BucketName": "b", "S3Key": "synonyms.txt"})

Served: CreatePackage, DescribePackages, UpdatePackage, DeletePackage, GetPackageVersionHistory,
AssociatePackage, DissociatePackage, AssociatePackages, DissociatePackages, ListDomainsForPackage,
ListPackagesForDomain, UpdatePackageScope. The calling account follows from the access key id of
the request's SigV4 ``Authorization`` header (``access_keys``: access key id -> account id; any
other key is the service's ``account_id``), so packages can be shared between emulated accounts.
Requests are
routed and validated with botocore's service model (:mod:`.os_model`); the service's rules and
timeline live in :mod:`.os_state`; faults in :mod:`.os_faults`.

Inspection and control (never an AWS path), JSON in and out:

- ``GET /_local/health``; ``GET /_local/state`` (packages, associations, domains, faults,
  timeline, clock); ``GET /_local/calls[?operation=X]``;
  ``GET /_local/transitions[?package_id=F..&kind=package]``;
- ``GET|POST|DELETE /_local/faults`` (read, change as :meth:`.FaultInjector.set_from_mapping`,
  clear); ``GET|POST /_local/timeline`` (phase seconds, partial update);
- ``GET|POST /_local/answers`` (``{"package_not_found"?, "not_associated"?}``: which of the two
  reported answers the service gives, see :class:`LocalOpenSearchService`);
- ``GET|POST /_local/domains`` (``{"DomainName", "EngineVersion"?, "AccountId"?}``),
  ``DELETE /_local/domains/<name>``; ``POST|DELETE /_local/in-use``
  (``{"DomainName", "PackageID"}``: mark, release);
- ``GET|POST /_local/batch-mode`` (``{"mode": "one-operation" | "per-package"}``: how a domain
  runs an AssociatePackages/DissociatePackages batch); ``GET /_local/domain-operations``
  (every domain operation: domain, operation, packages, start, end);
- ``POST /_local/reset``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from cdk_opensearch_packages.local.aws.wsgi_server import BackgroundWsgiServer
from cdk_opensearch_packages.local.faults import (
    ConnectionDropped,
    Fault,
    FaultConfig,
    FaultDecision,
    FaultInjector,
    drop_connection,
)
from cdk_opensearch_packages.local.opensearch.errors import ERRORS_BY_OPERATION, ApiError, case
from cdk_opensearch_packages.local.opensearch.model import (
    SERVED_OPERATIONS,
    build_url_map,
    error_status,
    parse_input,
    service_model,
)
from cdk_opensearch_packages.local.opensearch.source import (
    S3SourceReader,
    SourceError,
    SourceReader,
)
from cdk_opensearch_packages.local.opensearch.state import (
    BATCH_MODES,
    DEFAULT_ENGINE_VERSION,
    DomainOperation,
    NotAssociatedCode,
    PackageNotFoundCode,
    PackageStore,
    Transition,
    UpgradeRefused,
)
from cdk_opensearch_packages.local.opensearch.timeline import (
    Clock,
    ManualClock,
    SystemClock,
    Timeline,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from types_boto3_opensearch.client import OpenSearchServiceClient

__all__ = [
    "BATCH_MODES",
    "DEFAULT_ENGINE_VERSION",
    "SERVED_OPERATIONS",
    "CallRecord",
    "Clock",
    "DomainOperation",
    "Fault",
    "FaultConfig",
    "FaultInjector",
    "LocalOpenSearchService",
    "ManualClock",
    "S3SourceReader",
    "SourceError",
    "SourceReader",
    "SystemClock",
    "Timeline",
    "Transition",
    "UpgradeRefused",
]

_LOG = logging.getLogger(__name__)
# One boto3 session for :meth:`LocalOpenSearchService.client` (it caches the loaded models);
# creating clients from a session is not thread-safe, hence the lock.
_SESSIONS: list[boto3.session.Session] = []
_SESSION_LOCK = threading.Lock()
_LOCAL_PREFIX = "/_local"
#: The access key id in a SigV4 ``Authorization`` header.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class CallRecord:
    """One AWS API call received.

    :param operation: the operation name (``UnknownOperation`` when no route matched).
    :param t: when it arrived, on the emulation clock's monotonic scale.
    :param wall: when it arrived, epoch seconds.
    :param duration: seconds spent answering (real time, injected latency included).
    :param status: the HTTP status answered, ``None`` when the connection was dropped.
    :param error_code: the AWS error code answered, ``None`` on success.
    :param faults: the faults injected (``latency``, ``drop``, ``throttle``, ``server_error``,
        ``drop_after``, ``error_after``).
    :param request_id: the ``x-amzn-RequestId`` answered.
    :param params: the validated input, ``None`` when the request was not read that far.
    :param lost_status: the HTTP status of the answer a ``drop_after`` or ``error_after`` fault
        lost (the call was applied: 200 when it succeeded), else ``None``.
    :param lost_error_code: the AWS error code of that lost answer (``None`` on success).
    :param account_id: the calling account (from the access key id).
    """

    operation: str
    t: float
    wall: float
    duration: float
    status: int | None
    error_code: str | None
    faults: tuple[str, ...]
    request_id: str
    params: dict[str, Any] | None
    lost_status: int | None = None
    lost_error_code: str | None = None
    account_id: str | None = None

    @property
    def applied(self) -> bool:
        """Whether the service carried the call out successfully, even if its answer was lost
        (``status == 200``, or ``lost_status == 200``)."""
        return self.status == 200 or self.lost_status == 200

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form (same keys, and ``applied``)."""
        return {**asdict(self), "faults": list(self.faults), "applied": self.applied}


@dataclass
class _Call:
    """What is known of a call while it is answered."""

    t: float
    wall: float
    started: float = field(default_factory=time.perf_counter)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    operation: str = "UnknownOperation"
    decision: FaultDecision = field(default_factory=FaultDecision)
    params: dict[str, Any] | None = None
    account_id: str | None = None


class LocalOpenSearchService(BackgroundWsgiServer):
    """The local OpenSearch Service packages API (a WSGI app plus its own server thread).

    :param s3_endpoint_url: S3 endpoint the package sources are read from (moto's server).
        ``None``: boto3's usual resolution (e.g. ``AWS_ENDPOINT_URL_S3``).
    :param timeline: phase durations. Default: - :class:`Timeline` defaults (seconds).
    :param faults: faults in force at start. Default: - none.
    :param region: the emulated Region (package names are unique within it).
    :param account_id: the account (``PackageOwner``).
    :param seed: seeds package ids and fault draws (same calls, same ids and faults).
    :param clock: the time source. Default: - :class:`SystemClock`.
    :param host: interface to listen on.
    :param port: port to listen on; 0 picks a free one.
    :param package_quota: packages per Region (the service's 25).
    :param domain_package_quota: packages per domain (the service's 20).
    :param source_reader: reads package sources instead of S3 at ``s3_endpoint_url``.
    :param access_keys: access key id -> account id of the other emulated accounts (a request
        signed with any other key is ``account_id``'s).
    :param package_not_found: the answer for an unknown package id, one of the two public
        sources show: ``"ResourceNotFoundException"`` (default) or ``"ValidationException"``
        ("Package not found").
    :param not_associated: the answer of DissociatePackage for a package the domain does not
        have, one of the two public sources show: ``"ValidationException"`` (default, "Package
        is not associated to this domain") or ``"ResourceNotFoundException"``.
    """

    def __init__(
        self,
        s3_endpoint_url: str | None = None,
        *,
        timeline: Timeline | None = None,
        faults: FaultConfig | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        seed: int = 0,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        package_quota: int = 25,
        domain_package_quota: int = 20,
        source_reader: SourceReader | None = None,
        access_keys: Mapping[str, str] | None = None,
        package_not_found: PackageNotFoundCode = "ResourceNotFoundException",
        not_associated: NotAssociatedCode = "ValidationException",
    ) -> None:
        self.region = region
        self.account_id = account_id
        #: Access key id -> account id (other accounts than ``account_id``); may grow at run time.
        self.access_keys: dict[str, str] = dict(access_keys or {})
        self.clock: Clock = clock or SystemClock()
        self._model = service_model()
        self._url_map = build_url_map(self._model)
        self._local_map = _local_url_map()
        self.faults = FaultInjector(faults, seed, known_operations=self._model.operation_names)
        self._store = PackageStore(
            clock=self.clock,
            timeline=timeline or Timeline(),
            reader=source_reader or S3SourceReader(s3_endpoint_url, region),
            account_id=account_id,
            region=region,
            seed=seed,
            package_quota=package_quota,
            domain_package_quota=domain_package_quota,
            package_not_found=package_not_found,
            not_associated=not_associated,
        )
        self._calls: list[CallRecord] = []
        self._calls_lock = threading.Lock()
        super().__init__(host=host, port=port, description="the local OpenSearch API", logger=_LOG)

    # --------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalOpenSearchService:
        self.start()
        return self

    def client(
        self, config: Config | None = None, *, account_id: str | None = None
    ) -> OpenSearchServiceClient:
        """A boto3 ``opensearch`` client for this endpoint (dummy credentials).

        :param config: botocore client configuration (retries, timeouts).
        :param account_id: the account to call as (one of :attr:`access_keys`' accounts).
            Default: - ``account_id``.
        :raises KeyError: an account without an access key.
        """
        access_key = "local"
        if account_id is not None and account_id != self.account_id:
            keys = [key for key, account in self.access_keys.items() if account == account_id]
            if not keys:
                raise KeyError(f"no access key of account {account_id} is known")
            access_key = keys[0]
        with _SESSION_LOCK:
            if not _SESSIONS:
                _SESSIONS.append(boto3.session.Session())
            return _SESSIONS[0].client(
                "opensearch",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key="local",
                config=config,
            )

    # ------------------------------------------------------------------- in-process control

    @property
    def timeline(self) -> Timeline:
        """The phase durations for operations from now on (settable at run time)."""
        return self._store.timeline

    @timeline.setter
    def timeline(self, value: Timeline) -> None:
        self._store.timeline = value

    @property
    def batch_mode(self) -> str:
        """How a domain runs an AssociatePackages/DissociatePackages batch: ``one-operation``
        (the default: one domain operation, every entry done when the longest is) or
        ``per-package`` (one operation per entry, one after the other). AWS documents
        neither; a provider must be correct under both."""
        return self._store.batch_mode

    @batch_mode.setter
    def batch_mode(self, value: str) -> None:
        self._store.batch_mode = value

    def domain_operations(self) -> list[DomainOperation]:
        """:return: every package operation the domains ran, oldest first."""
        return self._store.domain_operations()

    @property
    def package_not_found(self) -> PackageNotFoundCode:
        """The answer for an unknown package id (settable at run time)."""
        return self._store.package_not_found

    @package_not_found.setter
    def package_not_found(self, value: PackageNotFoundCode) -> None:
        self._store.package_not_found = value

    @property
    def not_associated(self) -> NotAssociatedCode:
        """DissociatePackage's answer for a package the domain does not have (settable)."""
        return self._store.not_associated

    @not_associated.setter
    def not_associated(self, value: NotAssociatedCode) -> None:
        self._store.not_associated = value

    def answers(self) -> dict[str, str]:
        """:return: which reported answer the service gives where public sources show two:
        ``{"package_not_found": ..., "not_associated": ...}``."""
        return {"package_not_found": self.package_not_found, "not_associated": self.not_associated}

    def register_domain(
        self,
        name: str,
        engine_version: str = DEFAULT_ENGINE_VERSION,
        *,
        account_id: str | None = None,
    ) -> None:
        """Make a domain exist (idempotent; a new engine version is an upgrade, which moves each
        associated plugin to its package of the same name for the new version).

        :param name: the domain name.
        :param engine_version: ``OpenSearch_X.Y`` or ``Elasticsearch_X.Y``.
        :param account_id: the account it belongs to. Default: - ``account_id``.
        :raises ValueError: invalid name or engine version, or a name another account uses.
        :raises UpgradeRefused: a plugin has no package of its name for the new version.
        """
        self._store.register_domain(name, engine_version, account_id=account_id)

    def caller_account(self, authorization: str | None) -> str:
        """The account of a request, from its ``Authorization`` header's access key id.

        :param authorization: the header (``None`` or unsigned: ``account_id``).
        """
        match = _CREDENTIAL.search(authorization or "")
        if match is None:
            return self.account_id
        return self.access_keys.get(match.group(1), self.account_id)

    def unregister_domain(self, name: str) -> None:
        """Delete a domain and its associations (no-op when unknown).

        :param name: the domain name.
        """
        self._store.unregister_domain(name)

    def mark_in_use(self, domain_name: str, package_id: str) -> None:
        """Mark the package as used by an index of the domain: the next dissociation of a
        dictionary ends in DISSOCIATION_FAILED; a plugin's stays DISSOCIATING (a stuck
        blue/green deployment) until :meth:`release_in_use`.

        :param domain_name: the domain.
        :param package_id: the package.
        """
        self._store.mark_in_use(domain_name, package_id)

    def release_in_use(self, domain_name: str, package_id: str) -> None:
        """The index no longer uses the package: clear the mark; a plugin's stuck dissociation
        finishes.

        :param domain_name: the domain.
        :param package_id: the package.
        """
        self._store.release_in_use(domain_name, package_id)

    def packages(self) -> list[dict[str, Any]]:
        """:return: every package, shaped as DescribePackages' ``PackageDetails`` (timestamps in
        epoch seconds)."""
        return self._store.packages()

    def associations(self) -> list[dict[str, Any]]:
        """:return: every association, shaped as ``DomainPackageDetails``."""
        return self._store.associations()

    def domains(self) -> list[dict[str, Any]]:
        """:return: the registered domains (``DomainName``, ``EngineVersion``,
        ``RegisteredAt``)."""
        return self._store.domains()

    def versions(self, package_id: str) -> list[dict[str, Any]]:
        """:return: a package's version history (``PackageVersionHistory`` entries).

        :raises KeyError: unknown package.
        """
        return self._store.versions(package_id)

    def export_state(self) -> dict[str, Any]:
        """:return: the packages, associations and domains as JSON types (see
        :meth:`.PackageStore.export_state`), for :meth:`import_state` in a later process."""
        return self._store.export_state()

    def import_state(self, data: dict[str, Any]) -> None:
        """Replace the packages, associations and domains with exported ones.

        :raises ValueError: unknown format.
        """
        self._store.import_state(data)

    def add_existing_package(self, **details: Any) -> dict[str, Any]:
        """Make an AVAILABLE package exist as if made elsewhere (keywords of
        :meth:`.PackageStore.add_existing_package`).

        :raises ValueError: a rule is broken.
        """
        return self._store.add_existing_package(**details)

    def calls(self) -> list[CallRecord]:
        """:return: every AWS call received, in arrival order."""
        with self._calls_lock:
            return list(self._calls)

    def transitions(self) -> list[Transition]:
        """:return: every status change so far (packages and associations), in time order."""
        return self._store.transitions()

    def state(self) -> dict[str, Any]:
        """:return: what ``GET /_local/state`` answers."""
        return {
            "packages": self.packages(),
            "associations": self.associations(),
            "domains": self.domains(),
            "faults": self.faults.config.to_dict(),
            "timeline": self.timeline.to_dict(),
            "batch_mode": self.batch_mode,
            "answers": self.answers(),
            "clock": {"t": self.clock.monotonic(), "wall": self.clock.time()},
        }

    def reset(self) -> None:
        """Back to the start: no packages, domains, calls or transitions; the construction-time
        timeline, answers, faults and seeds."""
        self._store.reset()
        self.faults.reset()
        with self._calls_lock:
            self._calls.clear()

    # --------------------------------------------------------------------------------- WSGI

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application (AWS API plus ``/_local`` inspection)."""
        request = Request(environ)
        if request.path == _LOCAL_PREFIX or request.path.startswith(_LOCAL_PREFIX + "/"):
            response = self._local(request)
        else:
            response = self._aws(request, environ)
        return response(environ, start_response)

    def _aws(self, request: Request, environ: WSGIEnvironment) -> Response:
        call = _Call(self.clock.monotonic(), self.clock.time())
        status, error_code, response = self._answer(call, request, environ)
        decision = call.decision
        if decision.action == "drop_after":
            self._log(call, None, None, lost=(status, error_code))
            drop_connection(environ)
        if decision.action == "error_after":
            self._log(call, decision.status, "InternalException", lost=(status, error_code))
            return _error_response(
                decision.status,
                "InternalException",
                "Injected fault: an internal error occurred after the request was processed.",
                call.request_id,
            )
        self._log(call, status, error_code)
        return response

    def _answer(
        self, call: _Call, request: Request, environ: WSGIEnvironment
    ) -> tuple[int, str | None, Response]:
        """Route, fault, validate and run one AWS call.

        :return: the HTTP status, the error code (``None`` on success) and the response.
        """
        try:
            try:
                endpoint, uri_params = self._url_map.bind_to_environ(environ).match()
            except HTTPException:
                raise ApiError(
                    "UnknownOperationException",
                    f"No operation of the OpenSearch API is {request.method} {request.path}.",
                    404,
                ) from None
            call.operation = str(endpoint)
            if call.operation not in SERVED_OPERATIONS:
                raise ApiError(
                    "NotImplemented",
                    f"{call.operation} is not served by the local OpenSearch packages API.",
                    501,
                )
            call.decision = decision = self.faults.decide(call.operation)
            body = request.get_data()
            if decision.delay:
                time.sleep(decision.delay)
            if decision.action == "drop":
                self._log(call, None, None)
                drop_connection(environ)
            if decision.action == "throttle":
                raise ApiError("ThrottlingException", "Rate exceeded", 429)
            if decision.action == "server_error":
                raise ApiError(
                    "InternalException",
                    "Injected fault: the service is temporarily unavailable.",
                    decision.status,
                )
            operation_model = self._model.operation_model(call.operation)
            call.params = parse_input(operation_model, uri_params, request.args, body)
            call.account_id = self.caller_account(request.headers.get("Authorization"))
            with self._store.acting_as(call.account_id):
                result = self._store.handle(call.operation, call.params)
            return 200, None, _json_response(200, result, call.request_id)
        except ApiError as error:
            allowed = ERRORS_BY_OPERATION.get(call.operation)
            misplaced = error.case_id is not None and (
                call.operation not in case(error.case_id).operations
            )
            if (allowed is not None and error.code not in allowed) or misplaced:
                _LOG.error("emulator bug: %s answered %s", call.operation, error)
                error = ApiError("InternalException", f"Emulator bug: {error}", 500)
            status = error.status or error_status(self._model, error.code)
            response = _error_response(status, error.code, error.message, call.request_id)
            return status, error.code, response
        except ConnectionDropped:
            raise
        except Exception as error:
            _LOG.exception("%s failed", call.operation)
            response = _error_response(
                500, "InternalException", f"Emulator error: {error}", call.request_id
            )
            return 500, "InternalException", response

    def _log(
        self,
        call: _Call,
        status: int | None,
        error_code: str | None,
        *,
        lost: tuple[int, str | None] | None = None,
    ) -> None:
        record = CallRecord(
            operation=call.operation,
            t=call.t,
            wall=call.wall,
            duration=time.perf_counter() - call.started,
            status=status,
            error_code=error_code,
            faults=tuple(call.decision.names),
            request_id=call.request_id,
            params=call.params,
            lost_status=None if lost is None else lost[0],
            lost_error_code=None if lost is None else lost[1],
            account_id=call.account_id,
        )
        with self._calls_lock:
            self._calls.append(record)

    # ----------------------------------------------------------------- inspection endpoints

    def _local(self, request: Request) -> Response:
        try:
            endpoint, matched = self._local_map.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return _json_response(error.code or 404, {"message": str(error.description)}, None)
        try:
            payload = _local_body(request)
            action = self._local_action(str(endpoint), dict(matched), request, payload)
            return _json_response(200, action)
        except (ValueError, KeyError, TypeError) as error:
            return _json_response(400, {"message": f"{type(error).__name__}: {error}"})

    def _local_action(
        self, endpoint: str, args: dict[str, Any], request: Request, payload: dict[str, Any]
    ) -> dict[str, Any]:
        if endpoint == "health":
            return {"status": "ok"}
        if endpoint == "state":
            return self.state()
        if endpoint == "calls":
            operation = request.args.get("operation")
            return {
                "calls": [
                    call.to_dict()
                    for call in self.calls()
                    if operation is None or call.operation == operation
                ]
            }
        if endpoint == "transitions":
            package_id = request.args.get("package_id")
            kind = request.args.get("kind")
            return {
                "transitions": [
                    item.to_dict()
                    for item in self.transitions()
                    if (package_id is None or item.package_id == package_id)
                    and (kind is None or item.kind == kind)
                ]
            }
        if endpoint == "faults":
            if request.method == "POST":
                self.faults.set_from_mapping(payload)
            elif request.method == "DELETE":
                self.faults.clear()
            return self.faults.config.to_dict()
        if endpoint == "timeline":
            if request.method == "POST":
                self.timeline = Timeline.from_mapping(payload, self.timeline)
            return self.timeline.to_dict()
        if endpoint == "answers":
            if request.method == "POST":
                unknown = sorted(set(payload) - {"package_not_found", "not_associated"})
                if unknown:
                    raise KeyError(f"unknown answers {unknown}")
                if "package_not_found" in payload:
                    self.package_not_found = payload["package_not_found"]
                if "not_associated" in payload:
                    self.not_associated = payload["not_associated"]
            return self.answers()
        if endpoint == "domains":
            if request.method == "POST":
                account = payload.get("AccountId")
                self.register_domain(
                    str(payload["DomainName"]),
                    str(payload.get("EngineVersion", DEFAULT_ENGINE_VERSION)),
                    account_id=None if account is None else str(account),
                )
            return {"domains": self.domains()}
        if endpoint == "domain":
            self.unregister_domain(str(args["name"]))
            return {"domains": self.domains()}
        if endpoint == "in-use":
            pair = {"DomainName": payload["DomainName"], "PackageID": payload["PackageID"]}
            if request.method == "DELETE":
                self.release_in_use(str(pair["DomainName"]), str(pair["PackageID"]))
                return {"released": pair}
            self.mark_in_use(str(pair["DomainName"]), str(pair["PackageID"]))
            return {"marked": pair}
        if endpoint == "batch-mode":
            if request.method == "POST":
                self.batch_mode = str(payload["mode"])
            return {"mode": self.batch_mode}
        if endpoint == "domain-operations":
            return {"operations": [item.to_dict() for item in self.domain_operations()]}
        if endpoint == "reset":
            self.reset()
            return {"reset": True}
        raise KeyError(endpoint)


def _local_url_map() -> Map:
    prefix = _LOCAL_PREFIX
    return Map(
        [
            Rule(f"{prefix}/health", methods=["GET"], endpoint="health"),
            Rule(f"{prefix}/state", methods=["GET"], endpoint="state"),
            Rule(f"{prefix}/calls", methods=["GET"], endpoint="calls"),
            Rule(f"{prefix}/transitions", methods=["GET"], endpoint="transitions"),
            Rule(f"{prefix}/faults", methods=["GET", "POST", "DELETE"], endpoint="faults"),
            Rule(f"{prefix}/timeline", methods=["GET", "POST"], endpoint="timeline"),
            Rule(f"{prefix}/answers", methods=["GET", "POST"], endpoint="answers"),
            Rule(f"{prefix}/domains", methods=["GET", "POST"], endpoint="domains"),
            Rule(f"{prefix}/domains/<name>", methods=["DELETE"], endpoint="domain"),
            Rule(f"{prefix}/in-use", methods=["POST", "DELETE"], endpoint="in-use"),
            Rule(f"{prefix}/batch-mode", methods=["GET", "POST"], endpoint="batch-mode"),
            Rule(f"{prefix}/domain-operations", methods=["GET"], endpoint="domain-operations"),
            Rule(f"{prefix}/reset", methods=["POST"], endpoint="reset"),
        ]
    )


def _local_body(request: Request) -> dict[str, Any]:
    data = request.get_data()
    if not data.strip():
        return {}
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError("the request body must be a JSON object")
    return payload


def _json_response(status: int, body: dict[str, Any], request_id: str | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    if request_id is not None:
        response.headers["x-amzn-RequestId"] = request_id
    return response


def _error_response(status: int, code: str, message: str, request_id: str) -> Response:
    response = _json_response(status, {"message": message}, request_id)
    response.headers["x-amzn-ErrorType"] = code
    return response
