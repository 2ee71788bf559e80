"""The botocore service model as the local API's routing table and request validator.

Routes come from each operation's ``http`` trait (method + ``requestUri``, rest-json), inputs are
read from their modelled locations (URI labels, querystring, JSON body) and validated by walking
the input shape: required members, types, enums, patterns, lengths and ranges. botocore's own
``ParamValidator`` checks neither patterns nor maxima nor enums, so this walk does it all.

Patterns must match the whole value (:func:`re.fullmatch`), as AWS's request validation
matches them (Java's ``String.matches``), although Smithy's ``@pattern`` is not implicitly
anchored: a role ARN with a junk prefix is refused. Unlike :func:`re.search` with a pattern
ending in ``$``, ``re.fullmatch`` also refuses a trailing newline (``"OpenSearch_2.19\\n"``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Map, Rule

from cdk_opensearch_packages.local.opensearch.errors import (
    SERVED_OPERATIONS,
    ApiError,
    validation_error,
)

__all__ = [
    "SERVED_OPERATIONS",
    "build_url_map",
    "error_status",
    "parse_input",
    "service_model",
    "validate_shape",
]

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)\}")


@functools.cache
def service_model() -> ServiceModel:
    """:return: the ``opensearch`` service model of the installed botocore."""
    return botocore.session.get_session().get_service_model("opensearch")


@functools.cache
def build_url_map(model: ServiceModel) -> Map:
    """A werkzeug URL map with one rule per operation of the model.

    :param model: the service model.
    :return: rules whose endpoint is the operation name and whose variables are the URI labels.
    """
    rules = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = str(http["requestUri"]).split("?", 1)[0]
        rules.append(Rule(_LABEL.sub(r"<\1>", path), methods=[str(http["method"])], endpoint=name))
    return Map(rules, strict_slashes=False, merge_slashes=False)


def error_status(model: ServiceModel, code: str) -> int:
    """The HTTP status the model gives an error shape.

    :param model: the service model.
    :param code: the error shape name.
    :return: its ``error.httpStatusCode``, else 400.
    """
    try:
        shape = model.shape_for(code)
    except Exception:
        return 400
    error = shape.metadata.get("error") or {}
    return int(error.get("httpStatusCode", 400))


def parse_input(
    operation: OperationModel,
    uri_params: Mapping[str, str],
    query: MultiDict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """Read an operation's input from where the model puts each member, then validate it.

    :param operation: the operation model.
    :param uri_params: values of the URI labels (already decoded).
    :param query: the querystring.
    :param body: the raw request body (JSON for members without a location).
    :return: the input as botocore's caller wrote it (member names as keys).
    :raises ApiError: ValidationException with every violation found.
    """
    shape = operation.input_shape
    if shape is None:
        return {}
    payload = _json_body(body)
    params: dict[str, Any] = {}
    problems: list[str] = []
    assert isinstance(shape, StructureShape)
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = str(member.serialization.get("name", name))
        if location == "uri":
            if wire in uri_params:
                params[name] = uri_params[wire]
        elif location == "querystring":
            _read_query(member, query.getlist(wire), name, params, problems)
        elif location is None and wire in payload:
            params[name] = payload[wire]
    problems.extend(validate_shape(shape, params))
    if problems:
        raise _validation_failure(problems)
    return params


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise validation_error(f"The request body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise validation_error("The request body must be a JSON object")
    return payload


def _read_query(
    member: Shape, raw_values: list[str], name: str, params: dict[str, Any], problems: list[str]
) -> None:
    if not raw_values:
        return
    if isinstance(member, ListShape):
        params[name] = raw_values
        return
    raw = raw_values[0]
    if member.type_name in ("integer", "long"):
        try:
            params[name] = int(raw)
        except ValueError:
            problems.append(_violation(raw, name, f"Member must be of type {member.type_name}"))
    elif member.type_name == "boolean":
        if raw not in ("true", "false"):
            problems.append(_violation(raw, name, "Member must be of type boolean"))
        else:
            params[name] = raw == "true"
    else:
        params[name] = raw


def _validation_failure(problems: list[str]) -> ApiError:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return validation_error(f"{count} validation {noun} detected: " + "; ".join(problems))


def _path_name(name: str) -> str:
    return name[:1].lower() + name[1:]


def _violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def validate_shape(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``shape``'s constraints.

    :param shape: a botocore shape.
    :param value: the value (JSON types).
    :param path: the member path for messages (empty for the top-level input).
    :return: AWS-style violation messages, empty when the value is valid.
    """
    problems: list[str] = []
    _walk(shape, value, path, problems)
    return problems


def _walk(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        _walk_structure(shape, value, path, problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            problems.append(_violation(value, path, "Member must be of type list"))
            return
        _check_range(shape, len(value), value, path, problems, what="length")
        for index, item in enumerate(value, start=1):
            _walk(shape.member, item, f"{path}.{index}.member", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append(_violation(value, path, "Member must be of type map"))
            return
        _check_range(shape, len(value), value, path, problems, what="length")
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key", problems)
            _walk(shape.value, item, f"{path}.{key}", problems)
    elif kind == "string":
        _walk_string(shape, value, path, problems)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(_violation(value, path, f"Member must be of type {kind}"))
            return
        _check_range(shape, value, value, path, problems, what="value")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(_violation(value, path, f"Member must be of type {kind}"))
            return
        _check_range(shape, value, value, path, problems, what="value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(_violation(value, path, "Member must be of type boolean"))
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            problems.append(_violation(value, path, "Member must be of type timestamp"))
    elif kind == "blob" and not isinstance(value, str):
        problems.append(_violation(value, path, "Member must be of type blob"))


def _walk_structure(shape: StructureShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(_violation(value, path, "Member must be of type structure"))
        return
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(_violation(None, prefix + _path_name(name), "Member must not be null"))
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _walk(member, value[name], prefix + _path_name(name), problems)


def _walk_string(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(_violation(value, path, "Member must be of type string"))
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        problems.append(
            _violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        )
    pattern = shape.metadata.get("pattern")
    if pattern and _compiled(str(pattern)).fullmatch(value) is None:
        problems.append(
            _violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        )
    _check_range(shape, len(value), value, path, problems, what="length")


def _check_range(
    shape: Shape, measure: float, value: Any, path: str, problems: list[str], *, what: str
) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and measure < low:
        problems.append(
            _violation(value, path, f"Member must have {what} greater than or equal to {low}")
        )
    if high is not None and measure > high:
        problems.append(
            _violation(value, path, f"Member must have {what} less than or equal to {high}")
        )
