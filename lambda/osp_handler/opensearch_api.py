"""Typed helpers over the OpenSearch Service client: errors, package and association lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from .cfn_response import MAX_REASON_CHARS
from .outcome import ResourceFailure

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient
    from types_boto3_opensearch.type_defs import (
        DescribePackagesFilterTypeDef,
        DomainPackageDetailsTypeDef,
        PackageDetailsTypeDef,
    )

__all__ = [
    "BUSY_DOMAIN_STATUSES",
    "DomainNotFound",
    "describe_error",
    "describe_package",
    "described_packages",
    "domain_packages",
    "domains_for_package",
    "error_code",
    "error_message",
    "failure_message",
    "failure_reason",
    "find_domain_package",
    "find_package_by_name",
    "is_transient",
    "not_associated",
    "package_gone",
    "pages",
    "response_reason",
]

#: Error codes that mean "try again later" (throttling and server-side trouble).
TRANSIENT_ERROR_CODES = frozenset(
    {
        "InternalException",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "PriorRequestNotComplete",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


def error_code(error: BaseException) -> str:
    """Return the service error code of a :class:`ClientError` ("" for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(error: BaseException) -> str:
    """Return the service's error message of a :class:`ClientError`, else ``str(error)``."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return str(message) if message else str(error)
    return str(error)


def _http_status(error: ClientError) -> int:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return int(status or 0)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is throttling, a server error or a connection problem (retry it)."""
    if isinstance(error, ClientError):
        status = _http_status(error)
        return error_code(error) in TRANSIENT_ERROR_CODES or status == 429 or status >= 500
    return isinstance(error, BotocoreConnectionError | HTTPClientError)


def describe_error(error: BaseException) -> str:
    """Return ``"Code: message"`` for a service error, ``"Type: text"`` for anything else."""
    if isinstance(error, ClientError):
        return f"{error_code(error)}: {error_message(error)}"
    return f"{type(error).__name__}: {error}"


def failure_reason(error: BaseException) -> str:
    """Return the FAILED reason for ``error``, the service's message first.

    ``ResourceFailure`` messages are used as they are; a service error reads
    ``"<message> (<Code> from <Operation>)"``; anything else ``"<text> (<Type>)"``.
    """
    if isinstance(error, ResourceFailure):
        return str(error)
    if isinstance(error, ClientError):
        return f"{error_message(error)} ({error_code(error)} from {error.operation_name})"
    text = str(error)
    return f"{text} ({type(error).__name__})" if text else type(error).__name__


_CUT = "..."


def response_reason(error: BaseException, limit: int = MAX_REASON_CHARS) -> str:
    """Return the FAILED reason to send: :func:`failure_reason` when it fits in ``limit``
    characters; else, for a failure that knows its remedy, the remedy first and the problem cut
    after it, so that what to do is never the part cut off (the full text is in the log)."""
    full = failure_reason(error)
    if len(full) <= limit or not isinstance(error, ResourceFailure) or not error.remedy:
        return full
    remedy = error.remedy[0].upper() + error.remedy[1:]
    text = f"{remedy}. Why: {error.problem}"
    return text if len(text) <= limit else text[: limit - len(_CUT)] + _CUT


def package_gone(error: BaseException) -> bool:
    """Whether ``error`` says the package (or domain) does not exist.

    The service answers ResourceNotFoundException, or a ValidationException whose message says
    "not found", for ids that no longer exist.
    """
    code = error_code(error)
    if code == "ResourceNotFoundException":
        return True
    return code == "ValidationException" and "not found" in error_message(error).lower()


def not_associated(error: BaseException) -> bool:
    """Whether a DissociatePackage(s) error says a package is not (or no longer) associated.

    The service answers ResourceNotFoundException, or ValidationException "Package is not
    associated to this domain" (terraform-provider-aws handles both); either means the
    dissociation is already done, e.g. a plugin's license that left with the plugin.
    """
    if package_gone(error):
        return True
    return error_code(error) == "ValidationException" and (
        "not associated" in error_message(error).lower()
    )


def failure_message(details: PackageDetailsTypeDef | DomainPackageDetailsTypeDef) -> str:
    """Return the service's message of a failed package or association ("" when none is given)."""
    error_details = details.get("ErrorDetails") or {}
    message = error_details.get("ErrorMessage") or error_details.get("ErrorType") or ""
    return str(message).strip()


def describe_package(
    client: OpenSearchServiceClient, package_id: str
) -> PackageDetailsTypeDef | None:
    """Return the package's details, or ``None`` when it does not exist (any more).

    An empty list, ResourceNotFoundException, a ValidationException "not found" and the status
    DELETED all mean the package is gone.
    """
    try:
        response = client.describe_packages(Filters=[{"Name": "PackageID", "Value": [package_id]}])
    except ClientError as error:
        if package_gone(error):
            return None
        raise
    for details in response.get("PackageDetailsList", []):
        if details.get("PackageID") == package_id:
            return None if details.get("PackageStatus") == "DELETED" else details
    return None


def find_package_by_name(
    client: OpenSearchServiceClient, name: str, *, engine_version: str | None = None
) -> PackageDetailsTypeDef | None:
    """Return the details of the package named ``name``, or ``None``.

    :param engine_version: only a package of this ``EngineVersion`` (ZIP-PLUGIN names are unique
        per engine version, not per account). Default: - any.
    """
    filters: list[DescribePackagesFilterTypeDef] = [{"Name": "PackageName", "Value": [name]}]
    if engine_version:
        filters.append({"Name": "EngineVersion", "Value": [engine_version]})
    for details in described_packages(client, filters):
        if (
            details.get("PackageName") == name
            and details.get("PackageStatus") != "DELETED"
            and (not engine_version or details.get("EngineVersion") == engine_version)
        ):
            return details
    return None


def described_packages(
    client: OpenSearchServiceClient, filters: list[DescribePackagesFilterTypeDef]
) -> Iterator[PackageDetailsTypeDef]:
    """Yield the packages of every page of ``DescribePackages`` with ``filters`` (filter values
    may hold wildcards: callers check what they need). ResourceNotFoundException or a
    ValidationException "not found" mean none."""
    try:
        for page in pages(client.describe_packages, Filters=filters):
            yield from page.get("PackageDetailsList", [])
    except ClientError as error:
        if not package_gone(error):
            raise


class DomainNotFound(Exception):
    """The domain does not exist."""


def find_domain_package(
    client: OpenSearchServiceClient, domain_name: str, package_id: str
) -> DomainPackageDetailsTypeDef | None:
    """Return the domain's association with the package, or ``None`` when it has none.

    :raises DomainNotFound: when the domain does not exist.
    """
    for details in domain_packages(client, domain_name):
        if details.get("PackageID") == package_id:
            return details
    return None


#: Association statuses of a package operation still running on a domain.
BUSY_DOMAIN_STATUSES = frozenset({"ASSOCIATING", "DISSOCIATING"})


def pages(call: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    """Yield every page of a paginated call: each answer's ``NextToken`` goes to the next call.

    :param call: the client method (or a wrapper taking its keyword arguments).
    :param kwargs: the request, without ``NextToken``.
    """
    token: str | None = None
    while True:
        response = call(**kwargs) if token is None else call(**kwargs, NextToken=token)
        yield response
        token = response.get("NextToken") or None
        if token is None:
            return


def domain_packages(
    client: OpenSearchServiceClient, domain_name: str
) -> Iterator[DomainPackageDetailsTypeDef]:
    """Yield the domain's package associations from every page of ``ListPackagesForDomain``.

    :raises DomainNotFound: when the domain does not exist.
    """
    try:
        for page in pages(client.list_packages_for_domain, DomainName=domain_name):
            yield from page.get("DomainPackageDetailsList", [])
    except ClientError as error:
        if package_gone(error):  # ResourceNotFoundException, or a ValidationException "not found"
            raise DomainNotFound(error_message(error)) from error
        raise


def domains_for_package(client: OpenSearchServiceClient, package_id: str) -> list[tuple[str, str]]:
    """Return ``(domain name, association status)`` of every domain ``ListDomainsForPackage``
    lists for the package (every page)."""
    return [
        (str(details.get("DomainName", "?")), str(details.get("DomainPackageStatus", "?")))
        for page in pages(client.list_domains_for_package, PackageID=package_id)
        for details in page.get("DomainPackageDetailsList", [])
    ]
