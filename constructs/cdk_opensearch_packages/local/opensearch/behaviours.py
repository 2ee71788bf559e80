"""The catalogue of the emulated service's behaviours other than error answers.

Each :class:`Behaviour` is a rule, status sequence, limit or shape the emulation models, with a
stable id (``B-...``) and how far public evidence backs it. Together with
:data:`.errors.ERROR_CASES` it is the list ``docs/SERVICE-BEHAVIOUR.md`` documents row by row,
with the public source of each (or ``UNVERIFIED`` and what the emulation assumes); a test keeps
the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cdk_opensearch_packages.local.opensearch.errors import UNVERIFIED_CASES, Evidence

__all__ = ["BEHAVIOURS", "UNVERIFIED_BEHAVIOURS", "UNVERIFIED_IDS", "Behaviour"]


@dataclass(frozen=True)
class Behaviour:
    """One modelled behaviour.

    :param id: the stable id (``B-...``), also the row id in ``docs/SERVICE-BEHAVIOUR.md``.
    :param summary: what the emulation does.
    :param evidence: how far public evidence backs it.
    """

    id: str
    summary: str
    evidence: Evidence


#: Every behaviour the emulation models, beyond its error answers.
BEHAVIOURS: Final[tuple[Behaviour, ...]] = (
    Behaviour(
        "B-PACKAGE-PIPELINE",
        "CreatePackage/UpdatePackage: COPYING, VALIDATING, then AVAILABLE, or COPY_FAILED / "
        "VALIDATION_FAILED with ErrorDetails",
        "CONFIRMED",
    ),
    Behaviour(
        "B-VERSION-LABELS",
        "versions v1, v2...; AvailablePackageVersion moves only when a version becomes "
        "AVAILABLE (it shows the previous one while a new one is COPYING)",
        "CONFIRMED",
    ),
    Behaviour(
        "B-FAILED-VERSION",
        "a failed new version keeps the previous AvailablePackageVersion and does not use up "
        "its number; the package can be updated again",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-DELETE-SEQUENCE",
        "DeletePackage: DELETING, then the package disappears; a DeletePackage of a package "
        "already DELETING answers its details again",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PACKAGE-IDS",
        "user package ids are F followed by 9 digits (ZIP-PLUGIN packages too)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-NAME-RULE",
        "package names are 3 to 256 characters of [a-z][a-z0-9-]+; no 28-character limit",
        "CONFIRMED",
    ),
    Behaviour(
        "B-MODEL-LIMITS",
        "the model's input limits: PackageDescription <= 1024, CommitMessage <= 160, "
        "S3BucketName 3-63, S3Key 1-1024, MaxResults <= 100, EngineVersion OpenSearch_X.Y / "
        "Elasticsearch_X.Y, PackageID F.../G.../pkg-...",
        "CONFIRMED",
    ),
    Behaviour(
        "B-PLUGIN-NAME-PER-ENGINE",
        "a ZIP-PLUGIN name may be used once per engine version",
        "CONFIRMED",
    ),
    Behaviour(
        "B-NAME-UNIQUE",
        "other package names are unique in the Region, whatever the type",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PACKAGE-QUOTA",
        "at most 25 packages per Region (package_quota)",
        "CONFIRMED",
    ),
    Behaviour(
        "B-DOMAIN-QUOTA",
        "at most 20 packages per domain (domain_package_quota)",
        "CONFIRMED",
    ),
    Behaviour(
        "B-DICTIONARY-NOT-TEXT",
        "TXT-DICTIONARY content need not be UTF-8 text (binary dictionaries are accepted)",
        "CONFIRMED",
    ),
    Behaviour(
        "B-DICTIONARY-EMPTY-BOM",
        "an empty TXT-DICTIONARY, or one starting with a UTF-8 byte order mark, ends "
        "VALIDATION_FAILED (ErrorType InvalidDictionary)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-LICENSE-CONFIG-EMPTY",
        "an empty PACKAGE-LICENSE or PACKAGE-CONFIG ends VALIDATION_FAILED (ErrorType "
        "EmptyFile); their content is not checked otherwise",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PLUGIN-ENGINE-MISMATCH",
        "a plugin built for another engine version than the package's EngineVersion ends "
        "VALIDATION_FAILED",
        "CONFIRMED",
    ),
    Behaviour(
        "B-PLUGIN-ARCHIVE-RULES",
        "a plugin zip is also refused (VALIDATION_FAILED) for the synth-time plugin checks' "
        "errors: descriptor at the root with the required properties, a jar holding the plugin "
        "class, the LicenseFilepath inside the zip",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PLUGIN-ERROR-SHAPE",
        "plugin validation failures: ErrorDetails.ErrorType empty, ErrorMessage starting "
        "'PluginValidationFailureReason : '",
        "CONFIRMED",
    ),
    Behaviour(
        "B-PLUGIN-PROPERTIES",
        "an accepted plugin shows AvailablePluginProperties (Name, Description, Version, "
        "ClassName, UncompressedSizeInBytes) read from its descriptor",
        "CONFIRMED",
    ),
    Behaviour(
        "B-S3-COPY-ERRORS",
        "a missing bucket or object, or denied access, ends COPY_FAILED with ErrorType "
        "S3BucketNotFound / S3ObjectNotFound / S3AccessDenied (not a synchronous error)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-FILTER-WILDCARDS",
        "DescribePackages filter values may use * and ?; pages hold 100 entries by default",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-ASSOCIATION-SEQUENCE",
        "AssociatePackage: ASSOCIATING, then ACTIVE or ASSOCIATION_FAILED; DissociatePackage: "
        "DISSOCIATING, then the entry leaves ListPackagesForDomain, or DISSOCIATION_FAILED",
        "CONFIRMED",
    ),
    Behaviour(
        "B-ROLL-OUT-NEW-VERSION",
        "a domain keeps its version until the package is associated again; that re-runs "
        "ASSOCIATING with the new version",
        "CONFIRMED",
    ),
    Behaviour(
        "B-ASSOCIATE-WHILE-COPYING",
        "AssociatePackage of a package COPYING/VALIDATING a new version (or whose new version "
        "failed) succeeds and associates the previous AVAILABLE version",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-REFERENCE-PATH",
        "a TXT-DICTIONARY association's ReferencePath is analyzers/<PackageID>",
        "CONFIRMED",
    ),
    Behaviour(
        "B-ONE-OPERATION-PER-DOMAIN",
        "a domain runs one package operation (ASSOCIATING/DISSOCIATING) at a time",
        "CONFIRMED",
    ),
    Behaviour(
        "B-PLUGIN-WRONG-ENGINE-DOMAIN",
        "a ZIP-PLUGIN associated with a domain of another engine version ends "
        "ASSOCIATION_FAILED (ErrorType IncompatibleEngineVersion), not a synchronous error",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-DICTIONARY-IN-USE",
        "dissociating a dictionary an index uses (mark_in_use) ends DISSOCIATION_FAILED "
        "(ErrorType PackageInUse)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PLUGIN-IN-USE",
        "dissociating a plugin an index uses stays DISSOCIATING (the blue/green deployment is "
        "stuck) until release_in_use; no DISSOCIATION_FAILED",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-ENGINE-UPGRADE",
        "a domain's engine upgrade moves each associated ZIP-PLUGIN to the AVAILABLE "
        "ZIP-PLUGIN of the same name for the new version (the old association disappears, the "
        "new one is ACTIVE at once); without one the upgrade is refused",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-DURATIONS",
        "phase durations (Timeline: copying, validating, deleting, associating, "
        "plugin_associating, dissociating, plugin_dissociating)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-DOMAIN-DELETED",
        "deleting a domain removes its associations at once",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-PREREQUISITE-ORDER",
        "AssociatePackage needs each PrerequisitePackageIDList entry ACTIVE on the domain first "
        "('before'); AssociatePackages also takes one in the same batch ('before or "
        "simultaneously'); a package listed as a prerequisite cannot be deleted while the "
        "association exists",
        "CONFIRMED",
    ),
    Behaviour(
        "B-THIRD-PARTY-DIRECTION",
        "AWS's third-party recipe makes the plugin the prerequisite of its license and "
        "configuration packages, all in one associate-packages call; the emulation accepts "
        "either direction, the provider uses AWS's",
        "CONFIRMED",
    ),
    Behaviour(
        "B-BATCH-CALLS",
        "AssociatePackages / DissociatePackages act on several packages of one domain, refused "
        "as a whole when one entry is refused (assumed); an entry whose prerequisite in the "
        "batch fails ends ASSOCIATION_FAILED too (assumed)",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-BATCH-OPERATIONS",
        "assumed: a batch is one domain operation (every entry done when the longest is), or, "
        "switched, one operation per entry in list order; AWS says 'in a single operation' and "
        "documents neither the duration nor whether one blue/green deployment serves the batch",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-DISSOCIATE-CASCADE",
        "dissociating a plugin also removes its license and configuration packages (the "
        "emulation: every association listing the dissociated package as a prerequisite, in "
        "the same operation)",
        "CONFIRMED",
    ),
    Behaviour(
        "B-SCOPE-OPERATIONS",
        "UpdatePackageScope ADD, REMOVE or OVERRIDE on a PackageUserList of 12-digit account "
        "ids or GLOBAL; the answer lists the users allowed after the change; the owner creates, "
        "updates and scopes a package",
        "CONFIRMED",
    ),
    Behaviour(
        "B-SCOPE-VISIBILITY",
        "another account views (DescribePackages) and associates a package only while its "
        "account or GLOBAL is allow-listed and the package is vended; AllowListedUserList is "
        "shown to the owner only",
        "CONFIRMED",
    ),
    Behaviour(
        "B-SCOPE-LIST-SHAPE",
        "assumed: AllowListedUserList is absent while nobody is allow-listed; an empty OVERRIDE "
        "is accepted; REMOVE of a user that is not listed is ignored",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-VENDING-TYPES",
        "assumed: every package type can be vended and shared",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-SHARED-ASSOCIATION-REMOVED",
        "assumed: an association another account made while allow-listed stays ACTIVE on its "
        "version when the owner removes that account from the list; the account can dissociate "
        "it, not associate the package again",
        "UNVERIFIED",
    ),
    Behaviour(
        "B-SHARED-DELETE",
        "assumed: the owner cannot delete a package another account's domain has associated "
        "(E-DELETE-IN-USE, other accounts' domains not named); a package need not be unshared "
        "before it is deleted; ListDomainsForPackage lists the caller's own domains only",
        "UNVERIFIED",
    ),
)

#: Ids of the behaviours that are the emulation's assumption or left to the batch work.
UNVERIFIED_BEHAVIOURS: Final = frozenset(b.id for b in BEHAVIOURS if b.evidence != "CONFIRMED")

#: Every id (behaviours and error cases) whose evidence is not CONFIRMED.
UNVERIFIED_IDS: Final = UNVERIFIED_BEHAVIOURS | UNVERIFIED_CASES
