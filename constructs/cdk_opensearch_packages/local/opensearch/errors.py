"""AWS errors of the local OpenSearch packages API: the catalogue of every error answer.

An :class:`ApiError` becomes a REST-JSON error response: the HTTP status from the error shape's
metadata in the service model, the ``x-amzn-ErrorType`` header and a ``{"message": ...}`` body,
so that botocore raises the modelled exception class (``client.exceptions.ConflictException``).

:data:`ERROR_CASES` is the catalogue: one :class:`ErrorCase` per situation the emulated service
answers with an error, each with a stable id (``E-...``), the operations that can answer it, the
code and whether public evidence shows that code for that situation. Every error the state
raises names its case (:func:`service_error`); the server refuses to answer a case for an
operation the case does not list (an emulator bug, reported as an InternalException). The
evidence table in ``docs/SERVICE-BEHAVIOUR.md`` has one row per case, with its source; a test
keeps the two in step.

:data:`ERRORS_BY_OPERATION` (every code each operation can answer, faults included),
:data:`UNMODELLED_ERRORS` (codes the model does not list for their operation) and
:data:`UNVERIFIED_ERRORS` (answers whose code is the emulator's assumption) are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "ERRORS_BY_OPERATION",
    "ERROR_CASES",
    "FAULT_ERROR_CODES",
    "SERVED_OPERATIONS",
    "UNMODELLED_ERRORS",
    "UNVERIFIED_CASES",
    "UNVERIFIED_ERRORS",
    "ApiError",
    "ErrorCase",
    "Evidence",
    "case",
    "conflict",
    "not_found",
    "service_error",
    "validation_error",
]

#: How far public evidence backs a catalogued behaviour: ``CONFIRMED`` (a public source shows
#: it), ``UNVERIFIED`` (the emulator's assumption; no public source shows the code or the rule),
#: ``BATCH`` (contradicted or unknown, and left to the batch-associations work).
Evidence = Literal["CONFIRMED", "UNVERIFIED", "BATCH"]


@dataclass(frozen=True)
class ErrorCase:
    """One situation the emulated service answers with an error.

    :param id: the stable id (``E-...``), also the row id in ``docs/SERVICE-BEHAVIOUR.md``.
    :param operations: the operations that answer it.
    :param code: the AWS error code.
    :param situation: when it is answered.
    :param evidence: how far public evidence backs the code for this situation.
    :param unmodelled: the model does not list the code for these operations (why it is
        answered anyway is in ``situation``).
    """

    id: str
    operations: tuple[str, ...]
    code: str
    situation: str
    evidence: Evidence
    unmodelled: bool = False


_PAGED = (
    "DescribePackages",
    "GetPackageVersionHistory",
    "ListDomainsForPackage",
    "ListPackagesForDomain",
)
_BY_PACKAGE_ID = (
    "DescribePackages",
    "UpdatePackage",
    "DeletePackage",
    "GetPackageVersionHistory",
    "AssociatePackage",
    "AssociatePackages",
    "ListDomainsForPackage",
    "UpdatePackageScope",
)
_ASSOCIATE = ("AssociatePackage", "AssociatePackages")
_DISSOCIATE = ("DissociatePackage", "DissociatePackages")
#: The operations the local API implements (every other operation of the model is answered
#: with HTTP 501 ``NotImplemented``); :mod:`.model` re-exports it.
SERVED_OPERATIONS: Final = (
    "CreatePackage",
    "DescribePackages",
    "UpdatePackage",
    "DeletePackage",
    "GetPackageVersionHistory",
    "AssociatePackage",
    "DissociatePackage",
    "AssociatePackages",
    "DissociatePackages",
    "ListDomainsForPackage",
    "ListPackagesForDomain",
    "UpdatePackageScope",
)

#: Every error situation of the emulated service.
ERROR_CASES: Final[tuple[ErrorCase, ...]] = (
    ErrorCase(
        "E-INPUT-INVALID",
        SERVED_OPERATIONS,
        "ValidationException",
        "the request breaks the model's constraints (types, lengths, patterns, enums, required "
        "members) or its body is not a JSON object",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-FAULT-THROTTLING",
        SERVED_OPERATIONS,
        "ThrottlingException",
        "injected fault (throttle): HTTP 429",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-FAULT-INTERNAL",
        SERVED_OPERATIONS,
        "InternalException",
        "injected fault (server_error, error_after): HTTP 500 or 503",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-NAME-INVALID",
        ("CreatePackage",),
        "ValidationException",
        "PackageName is not 3-256 characters of [a-z][a-z0-9-]+ as a whole (the model checks "
        "the pattern only as a search)",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-SOURCE-INCOMPLETE",
        ("CreatePackage", "UpdatePackage"),
        "ValidationException",
        "PackageSource lacks S3BucketName or S3Key (both optional in the model)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-ENGINE-REQUIRED",
        ("CreatePackage",),
        "ValidationException",
        "a ZIP-PLUGIN without EngineVersion: 'Operation not allowed. EngineVersion is a "
        "required parameter for this operation.'",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-ENGINE-NOT-PLUGIN",
        ("CreatePackage",),
        "ValidationException",
        "EngineVersion given for a type other than ZIP-PLUGIN (the rule is the model's; the "
        "code and message are assumed)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PLUGIN-ONLY-OPTION",
        ("CreatePackage", "UpdatePackage"),
        "ValidationException",
        "PackageConfiguration or a KmsKeyIdentifier given for a type other than ZIP-PLUGIN",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-NAME-TAKEN",
        ("CreatePackage",),
        "ResourceAlreadyExistsException",
        "a package of that name exists: for ZIP-PLUGIN one of the same EngineVersion, for other "
        "types any (the exact uniqueness rule and the message are assumed)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PACKAGE-QUOTA",
        ("CreatePackage",),
        "LimitExceededException",
        "the Region already holds package_quota (25) packages, DELETING ones included (the "
        "quota is documented; the code, message and whether DELETING counts are assumed)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PACKAGE-NOT-FOUND",
        _BY_PACKAGE_ID,
        "ResourceNotFoundException",
        "no package has the PackageID (default answer; DescribePackages: none of the filter's "
        "ids exists)",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-PACKAGE-NOT-FOUND-VALIDATION",
        _BY_PACKAGE_ID,
        "ValidationException",
        "no package has the PackageID, answered 'Package not found' "
        "(package_not_found='ValidationException')",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-FILTER-INVALID",
        ("DescribePackages",),
        "ValidationException",
        "a filter without Name or Value",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PAGE-INVALID",
        _PAGED,
        "ValidationException",
        "MaxResults below 1, or a NextToken that does not belong to the request",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-UPDATE-BUSY",
        ("UpdatePackage",),
        "ConflictException",
        "updating a package that is COPYING, VALIDATING or DELETING: the model lists no "
        "conflict error for UpdatePackage; the emulated service still refuses a second pipeline",
        "UNVERIFIED",
        unmodelled=True,
    ),
    ErrorCase(
        "E-DELETE-IN-USE",
        ("DeletePackage",),
        "ConflictException",
        "deleting a package associated with a domain or listed as a prerequisite there (the "
        "model's ConflictException is 'remove a resource that is currently in use')",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-DOMAIN-INVALID",
        (*_ASSOCIATE, *_DISSOCIATE, "ListPackagesForDomain"),
        "ValidationException",
        "DomainName is not [a-z][a-z0-9-]+ as a whole",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-DOMAIN-NOT-FOUND",
        (*_ASSOCIATE, *_DISSOCIATE, "ListPackagesForDomain"),
        "ResourceNotFoundException",
        "no domain has the DomainName",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PREREQUISITE-NOT-FOUND",
        _ASSOCIATE,
        "ResourceNotFoundException",
        "a PrerequisitePackageIDList entry names no package",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PREREQUISITE-NOT-ACTIVE",
        _ASSOCIATE,
        "ValidationException",
        "a PrerequisitePackageIDList entry that is not ACTIVE on the domain (AssociatePackage: "
        "'before'), or, in AssociatePackages, neither ACTIVE nor in the same batch ('before or "
        "simultaneously'); the code is assumed",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-ASSOCIATE-UNAVAILABLE",
        _ASSOCIATE,
        "ConflictException",
        "the package has no AVAILABLE version yet (its first version is COPYING or VALIDATING, "
        "or failed), or it is DELETING",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-ASSOCIATE-ALREADY",
        _ASSOCIATE,
        "ConflictException",
        "the domain already runs the package's available version ACTIVE: 'Package is already "
        "in desired state'",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-DOMAIN-BUSY",
        (*_ASSOCIATE, *_DISSOCIATE),
        "ConflictException",
        "another association of the domain is ASSOCIATING or DISSOCIATING: 'Another package "
        "operation is in progress...' (one operation at a time is documented by practitioners; "
        "the code is assumed, the domain-config analogue is a ValidationException)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-DOMAIN-QUOTA",
        _ASSOCIATE,
        "LimitExceededException",
        "the domain already has domain_package_quota (20) packages: the quota is documented, "
        "the code is assumed and not in the model for AssociatePackage (botocore's standard "
        "retry mode treats it as throttling and retries it)",
        "UNVERIFIED",
        unmodelled=True,
    ),
    ErrorCase(
        "E-NOT-ASSOCIATED",
        _DISSOCIATE,
        "ValidationException",
        "the package is not associated with the domain: 'Package is not associated to this "
        "domain' (default answer)",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-NOT-ASSOCIATED-NOT-FOUND",
        _DISSOCIATE,
        "ResourceNotFoundException",
        "the package is not associated with the domain (not_associated="
        "'ResourceNotFoundException')",
        "CONFIRMED",
    ),
    ErrorCase(
        "E-BATCH-EMPTY",
        ("AssociatePackages", "DissociatePackages"),
        "ValidationException",
        "an empty PackageList (the model sets no minimum)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-BATCH-DUPLICATE",
        ("AssociatePackages",),
        "ValidationException",
        "a PackageList that lists a package twice",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-SCOPE-NOT-VENDED",
        ("UpdatePackageScope",),
        "ValidationException",
        "sharing a package whose PackageVendingOptions.VendingEnabled is not true (the model "
        "also lists DisabledOperationException; which one AWS answers is not documented)",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PACKAGE-NOT-OWNED",
        ("UpdatePackage", "DeletePackage", "UpdatePackageScope"),
        "ResourceNotFoundException",
        "another account's package, even one shared with the caller: only the owner creates, "
        "updates and scopes a package (documented); the code is assumed",
        "UNVERIFIED",
    ),
    ErrorCase(
        "E-PACKAGE-NOT-SHARED",
        _BY_PACKAGE_ID,
        "ResourceNotFoundException",
        "another account's package that is not vended, or does not (or no longer) allow-list "
        "the caller or GLOBAL: it does not exist for the caller (the scope 'defines users who "
        "can view and associate a package' is documented; the code is assumed)",
        "UNVERIFIED",
    ),
)

_CASES: Final = MappingProxyType({entry.id: entry for entry in ERROR_CASES})


def case(case_id: str) -> ErrorCase:
    """:return: the catalogued case ``case_id``.

    :raises KeyError: no such case.
    """
    return _CASES[case_id]


class ApiError(Exception):
    """An error answer of the API.

    :param code: the AWS error code (an error shape name, e.g. ``ConflictException``).
    :param message: the human-readable message.
    :param status: the HTTP status. Default: - the status of the error shape in the model.
    :param case_id: the :data:`ERROR_CASES` id of the situation. Default: - none (the server's
        own answers: unknown routes, emulator bugs).
    """

    def __init__(
        self, code: str, message: str, status: int | None = None, *, case_id: str | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.case_id = case_id


def service_error(case_id: str, message: str) -> ApiError:
    """:return: the error of a catalogued situation (its code, this message)."""
    return ApiError(case(case_id).code, message, case_id=case_id)


def validation_error(message: str) -> ApiError:
    """:return: a ValidationException (400) for a request that breaks the model's constraints
    (:data:`ERROR_CASES` ``E-INPUT-INVALID``)."""
    return service_error("E-INPUT-INVALID", message)


def not_found(message: str, case_id: str = "E-PACKAGE-NOT-FOUND") -> ApiError:
    """:return: a ResourceNotFoundException (409) of a catalogued situation."""
    return service_error(case_id, message)


def conflict(message: str, case_id: str) -> ApiError:
    """:return: a ConflictException (409) of a catalogued situation."""
    return service_error(case_id, message)


#: Codes the fault injection answers with, whatever the operation: ``ThrottlingException``
#: (HTTP 429, a code botocore retries as throttling) and ``InternalException`` (HTTP 500 or 503).
FAULT_ERROR_CODES: Final = frozenset({"ThrottlingException", "InternalException"})


def _codes_by_operation() -> dict[str, frozenset[str]]:
    codes: dict[str, set[str]] = {}
    for entry in ERROR_CASES:
        for operation in entry.operations:
            codes.setdefault(operation, set()).add(entry.code)
    return {operation: frozenset(found) for operation, found in codes.items()}


#: Every error code each served operation can answer with (faults included).
ERRORS_BY_OPERATION: Final = MappingProxyType(_codes_by_operation())

#: (operation, code) pairs the model does not list for the operation, with the reason.
UNMODELLED_ERRORS: Final = MappingProxyType(
    {
        (operation, entry.code): entry.situation
        for entry in ERROR_CASES
        if entry.unmodelled
        for operation in entry.operations
    }
)

#: The ids of the cases whose code is the emulator's assumption (``UNVERIFIED``) or left to
#: the batch-associations work (``BATCH``).
UNVERIFIED_CASES: Final = frozenset(
    entry.id for entry in ERROR_CASES if entry.evidence != "CONFIRMED"
)

#: (operation, code) pairs answered in a situation whose code has not been checked against
#: AWS, with the situation(s).
UNVERIFIED_ERRORS: Final = MappingProxyType(
    {
        (operation, code): "; ".join(
            entry.situation
            for entry in ERROR_CASES
            if entry.evidence != "CONFIRMED"
            and entry.code == code
            and operation in entry.operations
        )
        for entry in ERROR_CASES
        if entry.evidence != "CONFIRMED"
        for operation in entry.operations
        for code in (entry.code,)
    }
)
