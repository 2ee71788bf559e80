"""Record what the OpenSearch packages API answers the suite's own client.

:class:`Recorder` hooks botocore's events on an ``opensearch`` client
(``provide-client-params`` keeps the call's parameters, ``after-call`` sees the final HTTP
response of the call, retries included, success or error) and writes, per call: the operation,
its parameters, the HTTP status, the error code and message, the parsed response and the shape
of the raw JSON body (keys and JSON types). From every response that shows a package
(``PackageDetails``) or an association (``DomainPackageDetails``) it keeps the status sequence
of that package or association, with timings; a package or association that a complete answer
no longer lists is recorded as ``(gone)``.

What it cannot see: the calls the provider Lambda makes (on AWS they are not observable from
the suite's client). The suite polls the packages and the domain while CloudFormation works, so
the Lambda's effects appear as status sequences; the replay (:mod:`.replay`) re-creates them on
the emulator from those sequences.

Identical answers to a repeated poll are stored once (``repeat`` counts them). Account ids,
access key ids and presigned URLs are redacted (:func:`redact`) before anything is written.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "GONE",
    "REDACTED_ACCOUNT",
    "Recorder",
    "entities_in",
    "filter_values",
    "raw_shape",
    "redact",
]

#: The recording format's version.
FORMAT = 1
#: A package or association that an answer listing its peers no longer lists.
GONE = "(gone)"
#: What an account id becomes.
REDACTED_ACCOUNT = "000000000000"
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
_PRESIGNED = re.compile(r"X-Amz-(Signature|Credential|Security-Token)=", re.IGNORECASE)
_GONE_STATUSES = {"DELETED": GONE, "DISSOCIATED": GONE}


def redact(value: Any) -> Any:
    """``value`` with account ids, access key ids and presigned URLs replaced (recursively)."""
    if isinstance(value, str):
        if _PRESIGNED.search(value):
            return "(redacted presigned URL)"
        return _ACCESS_KEY.sub("(redacted key)", _ACCOUNT.sub(REDACTED_ACCOUNT, value))
    if isinstance(value, dict):
        return {redact(key): redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def raw_shape(value: Any) -> Any:
    """The shape of a JSON value: ``{"object": {key: shape}}``, ``{"array": shape}`` (the
    union of the elements' shapes, ``None`` when empty) or a type name."""
    if isinstance(value, dict):
        return {"object": {key: raw_shape(item) for key, item in sorted(value.items())}}
    if isinstance(value, list):
        merged: Any = None
        for item in value:
            merged = merge_shapes(merged, raw_shape(item))
        return {"array": merged}
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def merge_shapes(left: Any, right: Any) -> Any:
    """The union of two shapes (keys of both objects; the first type when types differ)."""
    if left is None:
        return right
    if right is None:
        return left
    if isinstance(left, dict) and isinstance(right, dict):
        if "object" in left and "object" in right:
            keys = {**left["object"], **right["object"]}
            return {
                "object": {
                    key: merge_shapes(left["object"].get(key), right["object"].get(key))
                    for key in sorted(keys)
                }
            }
        if "array" in left and "array" in right:
            return {"array": merge_shapes(left["array"], right["array"])}
    return left


def entities_in(
    operation: str, params: dict[str, Any], response: dict[str, Any], error_code: str | None
) -> dict[str, tuple[str, str | None, str | None]]:
    """What one answer says about packages and associations.

    :return: ``key -> (status, version, package name)``; keys ``package:<id>`` and
        ``association:<domain>|<id>``; ``(gone)`` for one a complete listing leaves out.
    """
    found: dict[str, tuple[str, str | None, str | None]] = {}
    for details in _package_details(response):
        status = str(details.get("PackageStatus"))
        found[f"package:{details.get('PackageID')}"] = (
            _GONE_STATUSES.get(status, status),
            details.get("AvailablePackageVersion"),
            details.get("PackageName"),
        )
    for details in _association_details(response):
        status = str(details.get("DomainPackageStatus"))
        key = f"association:{details.get('DomainName')}|{details.get('PackageID')}"
        found[key] = (
            _GONE_STATUSES.get(status, status),
            details.get("PackageVersion"),
            details.get("PackageName"),
        )
    if operation == "DescribePackages" and not response.get("NextToken"):
        for item in params.get("Filters", []):
            if item.get("Name") == "PackageID":
                for package_id in item.get("Value", []):
                    found.setdefault(f"package:{package_id}", (GONE, None, None))
    if (
        operation == "DescribePackages"
        and error_code == "ResourceNotFoundException"
        and len(params.get("Filters", [])) == 1
    ):
        (item,) = params["Filters"]
        if item.get("Name") == "PackageID":
            for package_id in item.get("Value", []):
                found[f"package:{package_id}"] = (GONE, None, None)
    return found


def filter_values(params: dict[str, Any], name: str) -> set[str]:
    """The values of one DescribePackages filter."""
    return {
        str(value)
        for item in params.get("Filters", [])
        if item.get("Name") == name
        for value in item.get("Value", [])
    }


def _package_details(response: dict[str, Any]) -> list[dict[str, Any]]:
    result = list(response.get("PackageDetailsList", []))
    if "PackageDetails" in response:
        result.append(response["PackageDetails"])
    return result


def _association_details(response: dict[str, Any]) -> list[dict[str, Any]]:
    result = list(response.get("DomainPackageDetailsList", []))
    if "DomainPackageDetails" in response:
        result.append(response["DomainPackageDetails"])
    return result


class Recorder:
    """Records the exchanges of the ``opensearch`` clients it is attached to.

    :param target: ``emulator`` or ``aws`` (written into the recording).
    :param metadata: more of the recording's ``metadata`` (Region, domains, tool versions).
    """

    def __init__(self, target: str, metadata: dict[str, Any] | None = None) -> None:
        self.target = target
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.exchanges: list[dict[str, Any]] = []
        self.sequences: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, str] = {}
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._phase = ""
        self._last_poll: dict[str, int] = {}
        self._tracked_domains: set[str] = set()

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, client: Any) -> Any:
        """Hook the recorder onto a boto3 ``opensearch`` client; returns the client."""
        events = client.meta.events
        events.register("provide-client-params.opensearch.*", self._params)
        events.register("after-call.opensearch.*", self._after_call)
        return client

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Label the exchanges made inside the block with a phase name."""
        previous, self._phase = self._phase, name
        try:
            yield
        finally:
            self._phase = previous

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Mark the calls this thread makes inside the block as polls (repeats collapse)."""
        self._local.poll = True
        try:
            yield
        finally:
            self._local.poll = False

    def add_source(self, bucket: str, key: str, data: bytes) -> None:
        """Keep a package source the suite uploaded itself (the replay serves it)."""
        self.sources[redact(f"{bucket}/{key}")] = base64.b64encode(data).decode()

    # -- hooks -------------------------------------------------------------------------------

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["osp_params"] = _json_safe(params)

    def _after_call(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        params = context.get("osp_params", {})
        error = parsed.get("Error") or {}
        response = _json_safe(
            {k: v for k, v in parsed.items() if k not in ("ResponseMetadata", "Error")}
        )
        try:
            body = json.loads(http_response.content or b"null")
        except ValueError:
            body = None
        self.record(
            operation=model.name,
            params=params,
            http_status=int(http_response.status_code),
            error_code=error.get("Code"),
            error_message=error.get("Message"),
            response=response,
            shape=raw_shape(body) if body is not None else None,
            poll=bool(getattr(self._local, "poll", False)),
        )

    def record(
        self,
        *,
        operation: str,
        params: dict[str, Any],
        http_status: int,
        error_code: str | None,
        error_message: str | None,
        response: dict[str, Any],
        shape: Any,
        poll: bool = False,
    ) -> None:
        """Add one exchange (what the hooks call)."""
        t = round(time.monotonic() - self._started, 3)
        entry = redact(
            {
                "operation": operation,
                "params": params,
                "http_status": http_status,
                "error_code": error_code,
                "error_message": error_message,
                "response": response,
                "shape": shape,
            }
        )
        with self._lock:
            entities = entities_in(operation, entry["params"], entry["response"], error_code)
            if operation == "ListPackagesForDomain" and not response.get("NextToken"):
                domain = entry["params"].get("DomainName")
                listed = {key for key in entities if key.startswith("association:")}
                for key, sequence in self.sequences.items():
                    if (
                        key.startswith(f"association:{domain}|")
                        and key not in listed
                        and sequence["statuses"][-1]["status"] != GONE
                    ):
                        entities[key] = (GONE, None, None)
            if operation == "DescribePackages" and not response.get("NextToken"):
                names = filter_values(entry["params"], "PackageName")
                for key, sequence in self.sequences.items():
                    if (
                        key.startswith("package:")
                        and sequence["name"] in names
                        and key not in entities
                        and sequence["statuses"][-1]["status"] != GONE
                    ):
                        entities[key] = (GONE, None, None)
            changed = self._observe(entities, t)
            key = json.dumps([operation, entry["params"]], sort_keys=True)
            if poll and not changed and key in self._last_poll:
                previous = self.exchanges[self._last_poll[key]]
                if all(previous[k] == entry[k] for k in entry):
                    previous["repeat"] += 1
                    previous["t_last"] = t
                    return
            entry = {"i": len(self.exchanges), "t": t, "phase": self._phase, **entry}
            entry.update(poll=poll, repeat=1, t_last=t)
            self.exchanges.append(entry)
            if poll:
                self._last_poll[key] = entry["i"]

    def _observe(self, entities: dict[str, tuple[str, str | None, str | None]], t: float) -> bool:
        changed = False
        for key, (status, version, name) in entities.items():
            sequence = self.sequences.get(key)
            if sequence is None:
                if status == GONE:
                    continue  # never seen: nothing went
                sequence = self.sequences[key] = {"name": name, "statuses": []}
            statuses = sequence["statuses"]
            last = statuses[-1] if statuses else None
            if last is not None and last["status"] == status and last["version"] == version:
                last["t_last"] = t
                last["n"] += 1
                continue
            statuses.append({"status": status, "version": version, "t": t, "t_last": t, "n": 1})
            changed = True
        return changed

    # -- output ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The recording (JSON-ready, redacted)."""
        with self._lock:
            return {
                "format": FORMAT,
                "source": self.target,
                "label": (
                    "EMULATOR recording (made by the local emulation, NOT by AWS)"
                    if self.target == "emulator"
                    else "AWS recording (made against a real account)"
                ),
                "metadata": redact(self.metadata),
                "exchanges": self.exchanges,
                "sequences": self.sequences,
                "sources": self.sources,
            }

    def save(self, path: Path) -> Path:
        """Write the recording to ``path`` (directories created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n", "utf-8")
        return path
