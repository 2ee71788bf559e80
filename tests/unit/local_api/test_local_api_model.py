"""The emulation against botocore's service model: operations, routes, errors, validation."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.retries.standard import ThrottledRetryableChecker
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService
from cdk_opensearch_packages.local.opensearch.errors import (
    ERRORS_BY_OPERATION,
    FAULT_ERROR_CODES,
    UNMODELLED_ERRORS,
    UNVERIFIED_ERRORS,
    ApiError,
)
from cdk_opensearch_packages.local.opensearch.model import (
    SERVED_OPERATIONS,
    build_url_map,
    error_status,
    parse_input,
    service_model,
    validate_shape,
)

MODEL = botocore.session.get_session().get_service_model("opensearch")
THROTTLING_CODES = set(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)


def modelled_errors(operation: str) -> set[str]:
    return {shape.name for shape in MODEL.operation_model(operation).error_shapes}


def test_every_served_operation_exists_in_the_model() -> None:
    assert set(SERVED_OPERATIONS) <= set(MODEL.operation_names)
    assert set(ERRORS_BY_OPERATION) == set(SERVED_OPERATIONS)
    assert service_model().operation_names == MODEL.operation_names


@pytest.mark.parametrize("operation", SERVED_OPERATIONS)
def test_every_error_code_is_modelled_for_its_operation_or_throttling(operation: str) -> None:
    for code in ERRORS_BY_OPERATION[operation]:
        modelled = code in modelled_errors(operation)
        documented = (operation, code) in UNMODELLED_ERRORS
        assert modelled or code in THROTTLING_CODES or documented, f"{operation}: {code}"
        assert not (modelled and documented), f"{operation}: {code} is modelled after all"


def test_unmodelled_errors_are_declared_error_shapes_of_the_service() -> None:
    for operation, code in UNMODELLED_ERRORS:
        assert code in ERRORS_BY_OPERATION[operation]
        assert code not in modelled_errors(operation)
        shape = MODEL.shape_for(code)
        assert shape.metadata.get("exception") is True
    # throttling answers are a 429 with a code botocore's retry handler knows
    assert "ThrottlingException" in THROTTLING_CODES
    assert sorted(FAULT_ERROR_CODES) == ["InternalException", "ThrottlingException"]
    assert all("InternalException" in modelled_errors(op) for op in SERVED_OPERATIONS)


def test_the_guessed_error_codes_are_listed_and_answerable() -> None:
    assert {
        ("AssociatePackage", "ValidationException"),
        ("AssociatePackages", "ValidationException"),
        ("DissociatePackages", "ResourceNotFoundException"),
    } <= set(UNVERIFIED_ERRORS)
    for (operation, code), situation in UNVERIFIED_ERRORS.items():
        assert code in ERRORS_BY_OPERATION[operation], (operation, code)
        assert situation


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ValidationException", 400),
        ("AccessDeniedException", 403),
        ("InternalException", 500),
        ("ResourceNotFoundException", 409),
        ("ResourceAlreadyExistsException", 409),
        ("ConflictException", 409),
        ("LimitExceededException", 409),
        ("InvalidTypeException", 409),
        ("ThrottlingException", 429),
    ],
)
def test_error_status_comes_from_the_model(code: str, status: int) -> None:
    assert error_status(MODEL, code) == status


@pytest.mark.parametrize("operation", SERVED_OPERATIONS)
def test_each_operation_is_routed_by_its_method_and_uri(operation: str) -> None:
    http = MODEL.operation_model(operation).http
    path = (
        http["requestUri"].replace("{PackageID}", "F123456789").replace("{DomainName}", "my-domain")
    )
    adapter = build_url_map(MODEL).bind("localhost")
    endpoint, values = adapter.match(path, method=http["method"])
    assert endpoint == operation
    assert set(values) <= {"PackageID", "DomainName"}


def test_input_is_read_from_uri_querystring_and_body() -> None:
    operation = MODEL.operation_model("ListPackagesForDomain")
    params = parse_input(
        operation,
        {"DomainName": "search"},
        MultiDict({"maxResults": "5", "nextToken": "abc"}),
        b"",
    )
    assert params == {"DomainName": "search", "MaxResults": 5, "NextToken": "abc"}
    body = b'{"PackageID": "F1", "PackageSource": {"S3BucketName": "bkt", "S3Key": "k"}}'
    update = parse_input(MODEL.operation_model("UpdatePackage"), {}, MultiDict(), body)
    assert update["PackageSource"] == {"S3BucketName": "bkt", "S3Key": "k"}


def test_a_querystring_integer_that_is_not_one_is_refused() -> None:
    operation = MODEL.operation_model("ListDomainsForPackage")
    with pytest.raises(ApiError) as excinfo:
        parse_input(operation, {"PackageID": "F1"}, MultiDict({"maxResults": "many"}), b"")
    assert excinfo.value.code == "ValidationException"
    assert "maxResults" in excinfo.value.message or "MaxResults" in excinfo.value.message


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["'packageName' failed to satisfy constraint: Member must not be null"]),
        (
            {"PackageName": "ab"},
            ["Member must have length greater than or equal to 3"],
        ),
        (
            {"PackageName": "a" * 257},
            ["Member must have length less than or equal to 256"],
        ),
        ({"PackageName": "123"}, ["Member must satisfy regular expression pattern"]),
        ({"PackageType": "TXT"}, ["Member must satisfy enum value set"]),
        ({"PackageDescription": "d" * 1025}, ["less than or equal to 1024"]),
        ({"PackageSource": {"S3BucketName": "b"}}, ["'packageSource.s3BucketName'"]),
        ({"EngineVersion": "OpenSearch_2"}, ["regular expression pattern"]),
        ({"PackageVendingOptions": {}}, ["'packageVendingOptions.vendingEnabled'"]),
        ({"PackageVendingOptions": {"VendingEnabled": "yes"}}, ["Member must be of type boolean"]),
        ({"PackageName": 5}, ["Member must be of type string"]),
        (
            {"PackageConfiguration": {"LicenseRequirement": "MAYBE"}},
            ["enum value set: [REQUIRED, OPTIONAL, NONE]", "configurationRequirement"],
        ),
        (
            {
                "PackageConfiguration": {
                    "LicenseRequirement": "NONE",
                    "ConfigurationRequirement": "NONE",
                    "LicenseFilepath": "../etc/passwd",
                }
            },
            ["licenseFilepath"],
        ),
    ],
)
def test_create_package_input_is_validated_against_the_model(
    params: dict[str, Any], expected: list[str]
) -> None:
    base: dict[str, Any] = {
        "PackageName": "good-name",
        "PackageType": "TXT-DICTIONARY",
        "PackageSource": {"S3BucketName": "bucket", "S3Key": "key"},
    }
    shape = MODEL.operation_model("CreatePackage").input_shape
    value = params if not params else {**base, **params}
    problems = "; ".join(validate_shape(shape, value))
    for fragment in expected:
        assert fragment in problems


def test_valid_input_has_no_problems() -> None:
    shape = MODEL.operation_model("DescribePackages").input_shape
    assert validate_shape(shape, {"Filters": [{"Name": "PackageName", "Value": ["x*"]}]}) == []
    problems = validate_shape(shape, {"MaxResults": 101, "Filters": [{"Name": "Bogus"}]})
    assert any("less than or equal to 100" in problem for problem in problems)
    assert any("enum value set" in problem for problem in problems)


def test_an_error_an_operation_may_not_answer_becomes_an_internal_error(
    service: LocalOpenSearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def misbehave(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError("InvalidTypeException", "not allowed for DescribePackages")

    monkeypatch.setattr(service._store, "handle", misbehave)
    environ = EnvironBuilder(
        path="/2021-01-01/packages/describe", method="POST", data=b"{}"
    ).get_environ()
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)

    body = b"".join(service.wsgi_app(environ, start_response))
    assert status == ["500 INTERNAL SERVER ERROR"]
    assert b"Emulator bug" in body
    [call] = service.calls()
    assert (call.operation, call.status, call.error_code) == (
        "DescribePackages",
        500,
        "InternalException",
    )


@pytest.mark.parametrize(
    ("operation", "params", "member"),
    [
        ("CreatePackage", {"PackageName": "My-name"}, "packageName"),
        ("CreatePackage", {"EngineVersion": "OpenSearch_2.19\n"}, "engineVersion"),
        ("CreatePackage", {"EngineVersion": "xOpenSearch_2.19"}, "engineVersion"),
        ("UpdatePackage", {"PackageID": "F123456789\n"}, "packageID"),
        (
            "AssociatePackage",
            {
                "AssociationConfiguration": {
                    "KeyStoreAccessOption": {
                        "KeyAccessRoleArn": "junk:arn:aws:iam::123456789012:role/keys",
                        "KeyStoreAccessEnabled": True,
                    }
                }
            },
            "associationConfiguration.keyStoreAccessOption.keyAccessRoleArn",
        ),
    ],
)
def test_patterns_must_match_the_whole_value(
    operation: str, params: dict[str, Any], member: str
) -> None:
    base: dict[str, Any] = {
        "CreatePackage": {
            "PackageName": "good-name",
            "PackageType": "ZIP-PLUGIN",
            "PackageSource": {"S3BucketName": "bucket", "S3Key": "key"},
            "EngineVersion": "OpenSearch_2.19",
        },
        "UpdatePackage": {
            "PackageID": "F123456789",
            "PackageSource": {"S3BucketName": "bucket", "S3Key": "key"},
        },
        "AssociatePackage": {"PackageID": "F123456789", "DomainName": "search"},
    }[operation]
    shape = MODEL.operation_model(operation).input_shape
    assert validate_shape(shape, base) == []
    (problem,) = validate_shape(shape, {**base, **params})
    assert f"at '{member}' failed to satisfy constraint: Member must satisfy regular " in problem


def test_an_anchored_pattern_refuses_a_trailing_newline_over_http(
    service: LocalOpenSearchService, raw_client: Any
) -> None:
    with pytest.raises(raw_client.exceptions.ValidationException) as excinfo:
        raw_client.create_package(
            PackageName="plugin",
            PackageType="ZIP-PLUGIN",
            PackageSource={"S3BucketName": "bucket", "S3Key": "plugin.zip"},
            EngineVersion="OpenSearch_2.19\n",
        )
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "'engineVersion' failed to satisfy constraint" in response["Error"]["Message"]
    arn = "arn:aws:iam::123456789012:role/keys"
    for refused in (f"junk{arn}", f"{arn}\n"):
        with pytest.raises(raw_client.exceptions.ValidationException) as excinfo:
            raw_client.associate_package(
                PackageID="F123456789",
                DomainName="search",
                AssociationConfiguration={
                    "KeyStoreAccessOption": {
                        "KeyAccessRoleArn": refused,
                        "KeyStoreAccessEnabled": True,
                    }
                },
            )
        assert "keyAccessRoleArn" in excinfo.value.response["Error"]["Message"]
    # The same call with a valid ARN passes validation and reaches the service's rules.
    with pytest.raises(raw_client.exceptions.ResourceNotFoundException):
        raw_client.associate_package(
            PackageID="F123456789",
            DomainName="search",
            AssociationConfiguration={
                "KeyStoreAccessOption": {"KeyAccessRoleArn": arn, "KeyStoreAccessEnabled": True}
            },
        )
    with pytest.raises(ValueError, match="invalid engine version"):
        service.register_domain("search", "OpenSearch_2.19\n")
    with pytest.raises(ValueError, match="invalid engine version"):
        service.register_domain("search", "v-OpenSearch_2.19")
    service.register_domain("search", "Elasticsearch_7.10")
