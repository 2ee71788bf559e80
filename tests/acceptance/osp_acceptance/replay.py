"""Replay a recording on the emulator and report every difference.

The emulated packages API runs on a :class:`ManualClock` (time moves only when the replay says)
with the recorded sources served from memory. The recorded exchanges are replayed in order:

1. Before a read, the changes the provider Lambda made unseen are re-created from what the read
   shows (a package never created by a replayed call: CreatePackage with the details the
   service showed and a stand-in source; a package going back to COPYING: UpdatePackage; an
   association appearing or going back to ASSOCIATING: AssociatePackage; DISSOCIATING or gone:
   DissociatePackage; DELETING or gone: DeletePackage; associations seen changing together:
   one AssociatePackages / DissociatePackages when the emulator serves the batch calls). These
   *implied* calls are not compared; a failing one is reported.
2. The clock moves on until every package and association the read shows is in the recorded
   status (or the status that follows it in the recorded sequence); one that never gets there
   is reported.
3. The call is made with the recorded parameters (package ids mapped to the emulator's) and its
   answer compared: HTTP status, error code, error message (ids replaced by placeholders), and
   the shape of the JSON body (keys and JSON types) against the recorded shape and against
   botocore's output shape.

At the end, each package's and association's status sequence on the emulator (its complete
list of transitions) is compared with the recorded sequence. A recorded sequence comes from
polling: on AWS a status shorter than the poll interval can be missing from it, and is then
reported as a difference (the recording's ``metadata.poll_interval`` says how often it polled).

A recording may list ``accepted_differences`` (the exact texts of differences explained in
docs/SERVICE-BEHAVIOUR.md); :func:`unaccepted` leaves them out.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError
from osp_acceptance.plugin import LICENSE_FILEPATH, plugin_zip_bytes
from osp_acceptance.recorder import (
    GONE,
    REDACTED_ACCOUNT,
    Recorder,
    entities_in,
    filter_values,
)

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService
from cdk_opensearch_packages.local.opensearch.model import SERVED_OPERATIONS
from cdk_opensearch_packages.local.opensearch.timeline import ManualClock, Timeline

__all__ = ["Difference", "load", "replay", "replay_file", "unaccepted"]

_READS = frozenset(
    {"DescribePackages", "ListPackagesForDomain", "GetPackageVersionHistory",
     "ListDomainsForPackage"}
)  # fmt: skip
_PHASE_SECONDS = 1.0
#: Clock steps while syncing, and the gap before each change: changes the recording shows one
#: after the other happen one after the other on the emulator too (their phases stay apart).
_STEP = 0.05
_MAX_STEPS = 1200
_ID = re.compile(r"\b(F[0-9]{9}|pkg-[0-9a-f]+)\b")


@dataclass(frozen=True)
class Difference:
    """One difference between the recording and the emulator.

    :param where: the exchange (``#12 probe UpdatePackage``) or the sequence's key.
    :param kind: ``http status``, ``error code``, ``error message``, ``shape``, ``model``,
        ``status``, ``sequence`` or ``replay``.
    :param recorded: what the recording says.
    :param emulator: what the emulator answered.
    """

    where: str
    kind: str
    recorded: Any
    emulator: Any

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: recorded {self.recorded!r}, emulator {self.emulator!r}"


def load(path: Path) -> dict[str, Any]:
    """Read a recording."""
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def unaccepted(recording: dict[str, Any], differences: Iterable[Difference]) -> list[Difference]:
    """The differences the recording does not list in ``accepted_differences``."""
    accepted = set(recording.get("accepted_differences", []))
    return [d for d in differences if str(d) not in accepted]


def replay_file(path: Path) -> list[Difference]:
    """Replay a recording file; every difference."""
    return replay(load(path))


class _MemorySources:
    """Package sources served from memory (``bucket/key -> bytes``)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def read(self, bucket: str, key: str) -> bytes:
        from cdk_opensearch_packages.local.opensearch.source import SourceError

        try:
            return self.objects[f"{bucket}/{key}"]
        except KeyError:
            raise SourceError("S3ObjectNotFound", f"s3://{bucket}/{key} does not exist") from None


def replay(recording: dict[str, Any]) -> list[Difference]:
    """Replay every exchange of a recording on a fresh emulator; return the differences."""
    sources = _MemorySources()
    for name, data in recording.get("sources", {}).items():
        sources.objects[name] = base64.b64decode(data)
    clock = ManualClock()
    metadata = recording.get("metadata", {})
    service = LocalOpenSearchService(
        timeline=Timeline.uniform(_PHASE_SECONDS),
        clock=clock,
        account_id=REDACTED_ACCOUNT,
        region=str(metadata.get("region") or "us-east-1"),
        source_reader=sources,
    )
    with service:
        for domain, engine_version in metadata.get("domains", {}).items():
            service.register_domain(domain, engine_version)
        return _Replay(recording, service, clock, sources).run()


class _Replay:
    def __init__(
        self,
        recording: dict[str, Any],
        service: LocalOpenSearchService,
        clock: ManualClock,
        sources: _MemorySources,
    ) -> None:
        self.recording = recording
        self.service = service
        self.clock = clock
        self.sources = sources
        self.client = service.client(Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.recorder = Recorder("replay")
        self.recorder.attach(self.client)
        self.ids: dict[str, str] = {}
        self.placeholders: dict[str, str] = {}
        self.known: dict[str, str] = {}
        self.versions: dict[str, str | None] = {}
        self.observed: dict[str, list[str]] = {}
        self.observations: list[
            tuple[dict[str, tuple[str, str | None, str | None]], dict[str, int]]
        ] = []
        self.details: dict[str, dict[str, Any]] = {}
        for exchange in recording.get("exchanges", []):
            self._remember_details(exchange["response"])
        self.differences: list[Difference] = []
        self.sequences: dict[str, list[str]] = {
            key: _collapse(s["status"] for s in value["statuses"])
            for key, value in recording.get("sequences", {}).items()
        }
        self.output_shapes = self.client.meta.service_model

    # -- driving -----------------------------------------------------------------------------

    def run(self) -> list[Difference]:
        self.observe_all()
        for index, exchange in enumerate(self.recording.get("exchanges", [])):
            self.exchange(index, exchange)
        self.compare_sequences()
        return self.differences

    def observe_all(self) -> None:
        """What each recorded answer shows (gone ones included), and each status's place in the
        entity's sequence as the exchanges show it (independent of ``sequences``)."""
        known: dict[str, str] = {}
        names: dict[str, str] = {}
        for exchange in self.recording.get("exchanges", []):
            entities = _entities(exchange, known, names)
            positions: dict[str, int] = {}
            for key, (status, _, _) in entities.items():
                if key not in known and status == GONE:
                    continue
                observed = self.observed.setdefault(key, [])
                if not observed or observed[-1] != status:
                    observed.append(status)
                positions[key] = len(observed) - 1
                known[key] = status
            self.observations.append((entities, positions))

    def exchange(self, index: int, exchange: dict[str, Any]) -> None:
        operation = exchange["operation"]
        where = f"#{exchange['i']} {exchange.get('phase') or '-'} {operation}"
        entities, positions = self.observations[index]
        exact = True
        if operation in _READS:
            self.implied(where, entities)
            exact = self.sync(where, entities, positions)
        self.call(where, exchange, shapes=exact)
        for key, (status, version, _) in entities.items():
            if key in self.known or status != GONE:
                self.known[key] = status
                self.versions[key] = version

    def call(self, where: str, exchange: dict[str, Any], *, shapes: bool = True) -> None:
        """Make the recorded call and compare the answers (the body shapes only when the
        emulator shows exactly the recorded statuses: a package a step ahead has more keys)."""
        operation = exchange["operation"]
        params = self.map_ids(exchange["params"])
        if operation not in _READS:
            self.clock.advance(_STEP)
        method = getattr(self.client, _snake(operation))
        with contextlib.suppress(ClientError):
            method(**params)
        answer = self.recorder.exchanges[-1]
        if operation == "CreatePackage" and exchange["http_status"] == 200:
            recorded_id = exchange["response"]["PackageDetails"]["PackageID"]
            if answer["http_status"] == 200:
                self.map(recorded_id, answer["response"]["PackageDetails"]["PackageID"])
        self.compare(where, exchange, answer, shapes=shapes)

    # -- ids ---------------------------------------------------------------------------------

    def map(self, recorded: str, emulated: str) -> None:
        self.ids[recorded] = emulated
        placeholder = f"<package {len(self.placeholders) + 1}>"
        self.placeholders.setdefault(recorded, placeholder)
        self.placeholders.setdefault(emulated, placeholder)

    def map_ids(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.ids.get(value, value)
        if isinstance(value, dict):
            return {key: self.map_ids(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.map_ids(item) for item in value]
        return value

    def canonical(self, text: str | None) -> str | None:
        if text is None:
            return None
        return _ID.sub(lambda m: self.placeholders.get(m.group(0), "<unknown package>"), text)

    # -- comparing ---------------------------------------------------------------------------

    def compare(
        self, where: str, recorded: dict[str, Any], emulated: dict[str, Any], *, shapes: bool
    ) -> None:
        for kind, key in (("http status", "http_status"), ("error code", "error_code")):
            if recorded[key] != emulated[key]:
                self.differences.append(Difference(where, kind, recorded[key], emulated[key]))
        recorded_message = self.canonical(recorded["error_message"])
        emulated_message = self.canonical(emulated["error_message"])
        if recorded_message != emulated_message:
            self.differences.append(
                Difference(where, "error message", recorded_message, emulated_message)
            )
        if not shapes:
            return
        for path, left, right in _shape_differences(recorded["shape"], emulated["shape"], "$"):
            self.differences.append(Difference(where, "shape", f"{path}: {left}", right))
        if emulated["http_status"] == 200:
            output = self.output_shapes.operation_model(recorded["operation"]).output_shape
            for source, shape in (("emulator", emulated["shape"]), ("recorded", recorded["shape"])):
                for problem in _model_differences(shape, output, "$"):
                    self.differences.append(
                        Difference(where, "model", f"{source} body", f"{problem}")
                    )

    def compare_sequences(self) -> None:
        emulated: dict[str, list[str]] = {}
        for transition in self.service.transitions():
            if transition.kind == "package":
                key = f"package:{transition.package_id}"
            else:
                key = f"association:{transition.domain_name}|{transition.package_id}"
            status = GONE if transition.to_status in ("DELETED", "DISSOCIATED") else None
            emulated.setdefault(key, []).append(status or transition.to_status)
        reverse = {emulated_id: recorded for recorded, emulated_id in self.ids.items()}
        for key, statuses in self.sequences.items():
            kind, _, rest = key.partition(":")
            domain, _, package_id = rest.rpartition("|")
            mapped = self.ids.get(package_id)
            if mapped is None:
                self.differences.append(
                    Difference(key, "sequence", statuses, "(never created on the emulator)")
                )
                continue
            emulated_key = f"{kind}:{domain + '|' if domain else ''}{mapped}"
            got = _collapse(emulated.get(emulated_key, []))
            if got != statuses:
                self.differences.append(Difference(key, "sequence", statuses, got))
        for key, statuses in emulated.items():
            kind, _, rest = key.partition(":")
            package_id = rest.rpartition("|")[2]
            recorded_id = reverse.get(package_id)
            domain = rest.rpartition("|")[0]
            recorded_key = f"{kind}:{domain + '|' if domain else ''}{recorded_id}"
            if recorded_id is not None and recorded_key not in self.sequences:
                self.differences.append(
                    Difference(recorded_key, "sequence", [], _collapse(statuses))
                )

    # -- implied changes and clock -----------------------------------------------------------

    def _remember_details(self, response: dict[str, Any]) -> None:
        for details in response.get("PackageDetailsList", []) + (
            [response["PackageDetails"]] if "PackageDetails" in response else []
        ):
            key = f"package:{details.get('PackageID')}"
            # The most complete view of the package: a detail missing early (e.g. the
            # configuration while COPYING) is filled from later answers.
            self.details[key] = {**details, **self.details.get(key, {})}
        for details in response.get("DomainPackageDetailsList", []) + (
            [response["DomainPackageDetails"]] if "DomainPackageDetails" in response else []
        ):
            key = f"association:{details.get('DomainName')}|{details.get('PackageID')}"
            self.details[key] = {**details, **self.details.get(key, {})}

    def implied(self, where: str, entities: dict[str, tuple[str, str | None, str | None]]) -> None:
        changes: dict[str, list[str]] = {}
        for key, (status, version, _) in entities.items():
            package_id = key.partition(":")[2].rpartition("|")[2]
            change = _implied_change(
                key,
                status,
                self.known.get(key),
                version != self.versions.get(key),
                created=package_id in self.ids,
            )
            if change == "CreatePackage" and key not in self.details:
                change = None
            if change is not None:
                changes.setdefault(change, []).append(key)
        for key in changes.get("CreatePackage", []):
            self.implied_create(where, key)
        for key in changes.get("UpdatePackage", []):
            self.implied_call(where, "UpdatePackage", self.update_params(key))
        associations = _prerequisites_first(changes.get("AssociatePackage", []), self.details)
        dissociations = _prerequisites_first(changes.get("DissociatePackage", []), self.details)
        dissociations.reverse()
        if len(associations) > 1 and "AssociatePackages" in SERVED_OPERATIONS:
            # Seen together: one batch call (a provider that associates a package set).
            for domain, keys in _by_domain(associations).items():
                package_list = [self.associate_params(key) for key in keys]
                for item in package_list:
                    del item["DomainName"]
                self.implied_call(
                    where, "AssociatePackages", {"DomainName": domain, "PackageList": package_list}
                )
            associations = []
        if len(dissociations) > 1 and "DissociatePackages" in SERVED_OPERATIONS:
            for domain, keys in _by_domain(dissociations).items():
                ids = [self.ids.get(k.rpartition("|")[2], k.rpartition("|")[2]) for k in keys]
                self.implied_call(
                    where, "DissociatePackages", {"DomainName": domain, "PackageList": ids}
                )
            dissociations = []
        for key in associations:
            self.implied_call(where, "AssociatePackage", self.associate_params(key))
        for key in dissociations:
            domain, _, package_id = key.partition(":")[2].rpartition("|")
            params = {"PackageID": self.ids.get(package_id, package_id), "DomainName": domain}
            self.implied_call(where, "DissociatePackage", params)
        for key in changes.get("DeletePackage", []):
            self.implied_delete(where, key)

    def implied_call(self, where: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.clock.advance(_STEP)
        try:
            answer: dict[str, Any] = getattr(self.client, _snake(operation))(**params)
        except ClientError as error:
            self.differences.append(
                Difference(
                    where,
                    "replay",
                    f"implied {operation} (a change the recording shows)",
                    f"{error.response['Error']['Code']}: {error.response['Error']['Message']}",
                )
            )
            return {}
        return answer

    def implied_create(self, where: str, key: str) -> None:
        details = self.details[key]
        recorded_id = str(details["PackageID"])
        params: dict[str, Any] = {
            "PackageName": details["PackageName"],
            "PackageType": details["PackageType"],
            "PackageSource": self.stand_in(details, 1),
        }
        if details.get("PackageDescription"):
            params["PackageDescription"] = details["PackageDescription"]
        if details.get("EngineVersion"):
            params["EngineVersion"] = details["EngineVersion"]
        if details.get("AvailablePackageConfiguration"):
            params["PackageConfiguration"] = details["AvailablePackageConfiguration"]
        if details.get("PackageVendingOptions"):
            params["PackageVendingOptions"] = details["PackageVendingOptions"]
        answer = self.implied_call(where, "CreatePackage", params)
        if answer:
            self.map(recorded_id, answer["PackageDetails"]["PackageID"])

    def stand_in(self, details: dict[str, Any], serial: int) -> dict[str, str]:
        """A stand-in source of the package's type (the Lambda's source is not observable)."""
        package_type = details.get("PackageType")
        if package_type == "ZIP-PLUGIN":
            engine = str(details.get("EngineVersion") or "OpenSearch_2.19")
            license_path = (details.get("AvailablePackageConfiguration") or {}).get(
                "LicenseFilepath", LICENSE_FILEPATH
            )
            data = plugin_zip_bytes(engine.split("_", 1)[1] + ".0", license_filepath=license_path)
        elif package_type == "PACKAGE-CONFIG":
            data = b'{"replay": "stand-in"}\n'
        elif package_type == "PACKAGE-LICENSE":
            data = b"Replay stand-in license.\n"
        else:
            data = f"replay, stand-in{serial}\n".encode()
        key = f"{details['PackageID']}-{serial}"
        self.sources.objects[f"osp-replay/{key}"] = data
        return {"S3BucketName": "osp-replay", "S3Key": key}

    def update_params(self, key: str) -> dict[str, Any]:
        details = self.details[key]
        package_id = str(details["PackageID"])
        return {
            "PackageID": self.ids.get(package_id, package_id),
            "PackageSource": self.stand_in(details, len(self.sources.objects) + 1),
        }

    def associate_params(self, key: str) -> dict[str, Any]:
        details = self.details.get(key, {})
        domain, _, package_id = key.partition(":")[2].rpartition("|")
        params: dict[str, Any] = {
            "PackageID": self.ids.get(package_id, package_id),
            "DomainName": domain,
        }
        if details.get("PrerequisitePackageIDList"):
            params["PrerequisitePackageIDList"] = self.map_ids(details["PrerequisitePackageIDList"])
        if details.get("AssociationConfiguration"):
            params["AssociationConfiguration"] = details["AssociationConfiguration"]
        return params

    def implied_delete(self, where: str, key: str) -> None:
        package_id = self.ids[key.partition(":")[2]]
        for association in self.service.associations():
            if association["PackageID"] == package_id and association.get(
                "DomainPackageStatus"
            ) not in ("DISSOCIATING",):
                self.implied_call(
                    where,
                    "DissociatePackage",
                    {"PackageID": package_id, "DomainName": association["DomainName"]},
                )
        self.advance_until(lambda: not any(
            a["PackageID"] == package_id for a in self.service.associations()
        ))  # fmt: skip
        self.implied_call(where, "DeletePackage", {"PackageID": package_id})

    def emulated_status(self, key: str) -> str | None:
        kind, _, rest = key.partition(":")
        domain, _, package_id = rest.rpartition("|")
        mapped = self.ids.get(package_id)
        if mapped is None:
            return None
        if kind == "package":
            for package in self.service.packages():
                if package["PackageID"] == mapped:
                    status = str(package["PackageStatus"])
                    return GONE if status == "DELETED" else status
            return GONE
        for association in self.service.associations():
            if association["PackageID"] == mapped and association["DomainName"] == domain:
                return str(association["DomainPackageStatus"])
        return GONE

    def advance_until(self, condition: Any) -> bool:
        for _ in range(_MAX_STEPS):
            if condition():
                return True
            self.clock.advance(_STEP)
        return bool(condition())

    def sync(
        self,
        where: str,
        entities: dict[str, tuple[str, str | None, str | None]],
        positions: dict[str, int],
    ) -> bool:
        """Advance the clock until the emulator shows what the recorded answer showed (or the
        status the recorded answers show next: the emulator may be a step ahead).

        :return: whether the emulator shows exactly the recorded statuses.
        """
        targets = {}
        for key, (status, _, _) in entities.items():
            if key not in positions or key.partition(":")[2].rpartition("|")[2] not in self.ids:
                continue
            position = positions[key]
            targets[key] = (status, set(self.observed[key][position : position + 2]))

        def reached() -> bool:
            return all(self.emulated_status(k) in accepted for k, (_, accepted) in targets.items())

        if not self.advance_until(reached):
            for key, (status, accepted) in targets.items():
                now = self.emulated_status(key)
                if now not in accepted:
                    self.differences.append(Difference(f"{where} {key}", "status", status, now))
        return all(self.emulated_status(k) == status for k, (status, _) in targets.items())


def _entities(
    exchange: dict[str, Any], known: dict[str, str], names: dict[str, str]
) -> dict[str, tuple[str, str | None, str | None]]:
    """What one recorded answer shows: its packages and associations, and those a complete
    listing leaves out (``known``: the last status of each so far; ``names``: package names)."""
    operation = exchange["operation"]
    response = exchange["response"]
    entities = entities_in(operation, exchange["params"], response, exchange["error_code"])
    complete = not response.get("NextToken")
    if operation == "ListPackagesForDomain" and complete:
        domain = exchange["params"].get("DomainName")
        for key, status in known.items():
            if key.startswith(f"association:{domain}|") and status != GONE:
                entities.setdefault(key, (GONE, None, None))
    if operation == "DescribePackages" and complete:
        wanted = filter_values(exchange["params"], "PackageName")
        for key, status in known.items():
            if key.startswith("package:") and names.get(key) in wanted and status != GONE:
                entities.setdefault(key, (GONE, None, None))
    for key, (_, _, name) in entities.items():
        if name:
            names.setdefault(key, name)
    return entities


def _implied_change(
    key: str, status: str, previous: str | None, new_version: bool, *, created: bool
) -> str | None:
    """The call the provider must have made for a read to show ``status`` after ``previous``
    (``None``: nothing, or a change the replay already made)."""
    present = previous not in (None, GONE)
    if key.startswith("package:"):
        if not created:
            return "CreatePackage" if status != GONE else None
        if previous == "AVAILABLE" and (
            status in ("COPYING", "VALIDATING") or (status == "AVAILABLE" and new_version)
        ):
            return "UpdatePackage"
        if status in ("DELETING", GONE) and present and previous != "DELETING":
            return "DeletePackage"
        return None
    if status not in (GONE, "DISSOCIATING") and not present:
        return "AssociatePackage"
    if previous == "ACTIVE" and (status == "ASSOCIATING" or (status == "ACTIVE" and new_version)):
        return "AssociatePackage"
    if status in ("DISSOCIATING", GONE) and present and previous != "DISSOCIATING":
        return "DissociatePackage"
    return None


def _by_domain(keys: list[str]) -> dict[str, list[str]]:
    """Association keys grouped by domain, in order."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        grouped.setdefault(key.partition(":")[2].rpartition("|")[0], []).append(key)
    return grouped


def _collapse(statuses: Iterable[str]) -> list[str]:
    result: list[str] = []
    for status in statuses:
        if not result or result[-1] != status:
            result.append(status)
    return result


def _prerequisites_first(keys: list[str], details: dict[str, dict[str, Any]]) -> list[str]:
    """Association keys ordered so that an association's prerequisites come before it."""
    ordered: list[str] = []

    def visit(key: str, seen: frozenset[str]) -> None:
        if key in ordered or key in seen:
            return
        domain = key.partition(":")[2].rpartition("|")[0]
        for prerequisite in details.get(key, {}).get("PrerequisitePackageIDList", []) or []:
            other = f"association:{domain}|{prerequisite}"
            if other in keys:
                visit(other, seen | {key})
        ordered.append(key)

    for key in keys:
        visit(key, frozenset())
    return ordered


def _shape_differences(recorded: Any, emulated: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Where two body shapes differ: ``(path, recorded, emulated)``."""
    if recorded is None or emulated is None:
        return []  # an empty list or no body on one side: nothing to compare
    if isinstance(recorded, dict) and isinstance(emulated, dict):
        if "object" in recorded and "object" in emulated:
            found = []
            left, right = recorded["object"], emulated["object"]
            for key in sorted(set(left) | set(right)):
                if key not in right:
                    found.append((f"{path}.{key}", "present", "missing"))
                elif key not in left:
                    found.append((f"{path}.{key}", "missing", "present"))
                else:
                    found.extend(_shape_differences(left[key], right[key], f"{path}.{key}"))
            return found
        if "array" in recorded and "array" in emulated:
            return _shape_differences(recorded["array"], emulated["array"], f"{path}[]")
    if recorded != emulated:
        return [(path, _type_name(recorded), _type_name(emulated))]
    return []


def _type_name(shape: Any) -> str:
    if isinstance(shape, dict):
        return "object" if "object" in shape else "array"
    return str(shape)


_JSON_TYPES = {
    "structure": "object",
    "list": "array",
    "map": "object",
    "string": "string",
    "blob": "string",
    "boolean": "boolean",
    "integer": "number",
    "long": "number",
    "float": "number",
    "double": "number",
}


def _model_differences(shape: Any, model: Any, path: str) -> list[str]:
    """Keys and types of a body shape that botocore's output shape does not have."""
    if shape is None or model is None:
        return []
    type_name = model.type_name
    if type_name == "timestamp":
        ok = shape in ("number", "string")
        return [] if ok else [f"{path}: {_type_name(shape)} where the model has a timestamp"]
    expected = _JSON_TYPES.get(type_name)
    if expected is not None and _type_name(shape) != expected:
        return [f"{path}: {_type_name(shape)} where the model has {type_name}"]
    if type_name == "structure" and isinstance(shape, dict):
        members = {m.serialization.get("name", n): m for n, m in model.members.items()}
        found = []
        for key, child in shape["object"].items():
            if key not in members:
                found.append(f"{path}.{key}: not in botocore's model")
            else:
                found.extend(_model_differences(child, members[key], f"{path}.{key}"))
        return found
    if type_name == "list" and isinstance(shape, dict):
        return _model_differences(shape["array"], model.member, f"{path}[]")
    return []


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
