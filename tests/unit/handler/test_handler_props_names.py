"""Property conversion (stringified CloudFormation values) and the names/ids the handler makes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from osp_handler.names import (
    generated_package_name,
    is_package_id,
    parse_domain_packages_physical_id,
    placeholder_physical_id,
    polling_rule_name,
)
from osp_handler.props import (
    PropertyError,
    coerce,
    is_control_property,
    package_props,
    parse_bool,
    service_timeout,
)

from .handler_fakes import load_event

if TYPE_CHECKING:
    from botocore.model import ServiceModel
    from types_boto3_opensearch.client import OpenSearchServiceClient

STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/search-stack/5b5e3e30-1f5e-11ef"


@pytest.fixture
def model(opensearch: OpenSearchServiceClient) -> ServiceModel:
    """The OpenSearch Service model."""
    return opensearch.meta.service_model


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("FALSE", False), (" True ", True), (True, True), (False, False)],
)
def test_parse_bool_accepts_cloudformation_strings(value: object, expected: bool) -> None:
    assert parse_bool(value, "X") is expected


@pytest.mark.parametrize("value", ["yes", "1", "", None, 1])
def test_parse_bool_refuses_anything_else(value: object) -> None:
    with pytest.raises(PropertyError, match="property X must be 'true' or 'false'"):
        parse_bool(value, "X")


def test_integers_are_converted_where_the_model_wants_them(model: ServiceModel) -> None:
    input_shape = model.operation_model("ListPackagesForDomain").input_shape
    assert input_shape is not None
    shape = input_shape.members["MaxResults"]

    assert coerce("25", shape, "MaxResults") == 25
    assert coerce(7, shape, "MaxResults") == 7
    with pytest.raises(PropertyError, match=re.escape("must be an integer, got '2.5'")):
        coerce("2.5", shape, "MaxResults")
    with pytest.raises(PropertyError, match="must be an integer"):
        coerce(True, shape, "MaxResults")


def test_control_properties_never_reach_the_api(model: ServiceModel) -> None:
    event = load_event("package_create")
    props = package_props(event["ResourceProperties"], model)

    assert set(props.params) == {"PackageType", "PackageDescription", "PackageSource"}
    assert props.source_version == event["ResourceProperties"]["OspSourceVersion"]
    assert [n for n in ("ServiceToken", "ServiceTimeout", "OspAnything") if is_control_property(n)]
    assert not is_control_property("PackageName")


def test_create_kwargs_use_the_api_names_and_types(model: ServiceModel) -> None:
    event = load_event("package_create_plugin")
    props = package_props(event["ResourceProperties"], model)

    kwargs: dict[str, Any] = dict(props.create_kwargs("analysis-plugin"))

    input_shape = model.operation_model("CreatePackage").input_shape
    assert input_shape is not None
    assert set(kwargs) <= set(input_shape.members)
    assert kwargs["PackageConfiguration"]["RequiresRestartForConfigurationUpdate"] is True
    assert kwargs["PackageVendingOptions"] == {"VendingEnabled": False}
    assert kwargs["PackageEncryptionOptions"]["EncryptionEnabled"] is True


def test_update_kwargs_carry_only_what_update_package_changes(model: ServiceModel) -> None:
    event = load_event("package_create_plugin")
    props = package_props(event["ResourceProperties"], model)

    kwargs: dict[str, Any] = dict(props.update_kwargs("F1"))

    assert set(kwargs) == {
        "PackageID",
        "PackageSource",
        "PackageDescription",
        "PackageConfiguration",
        "PackageEncryptionOptions",
    }


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, 3600), ("", 3600), ("900", 900), ("0", 1), ("99999", 3600), ("soon", 3600)],
)
def test_service_timeout_never_fails(raw: str | None, seconds: int) -> None:
    props = {} if raw is None else {"ServiceTimeout": raw}
    assert service_timeout(props) == seconds


@pytest.mark.parametrize(
    "logical_id",
    [
        "SynonymsPackage1A2B3C4D",
        "A",
        "1stPackage",
        "123",
        "X" * 255,
        "Package_With-Odd.Chars",
    ],
)
def test_generated_names_are_valid_and_at_most_28_characters(logical_id: str) -> None:
    name = generated_package_name(
        stack_id=STACK,
        logical_id=logical_id,
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=False,
    )

    assert len(name) <= 28
    assert re.fullmatch(r"[a-z][a-z0-9\-]+", name)
    assert re.fullmatch(r".*-[0-9a-f]{8}", name)


def test_generated_names_change_exactly_when_the_package_is_replaced() -> None:
    base: dict[str, Any] = {
        "stack_id": STACK,
        "logical_id": "SynonymsPackage",
        "package_type": "TXT-DICTIONARY",
        "engine_version": "",
        "vending_enabled": False,
    }
    name = generated_package_name(**base)

    assert generated_package_name(**base) == name
    assert name.startswith("synonymspackage-")
    for change in (
        {"package_type": "ZIP-PLUGIN"},
        {"engine_version": "OpenSearch_2.17"},
        {"vending_enabled": True},
        {"stack_id": STACK + "0"},
        {"logical_id": "OtherPackage"},
    ):
        assert generated_package_name(**{**base, **change}) != name


def test_polling_rule_names_fit_whatever_the_logical_id() -> None:
    name = polling_rule_name(
        "osp-0123456789ab-", stack_id=STACK, logical_id="L" * 255, request_id="r-1"
    )

    assert len(name) <= 64
    assert re.fullmatch(r"osp-0123456789ab-[0-9a-f]{32}", name)
    assert name == polling_rule_name(
        "osp-0123456789ab-", stack_id=STACK, logical_id="L" * 255, request_id="r-1"
    )
    assert name != polling_rule_name(
        "osp-0123456789ab-", stack_id=STACK, logical_id="L" * 255, request_id="r-2"
    )
    long_prefix = "p" * 50
    assert len(polling_rule_name(long_prefix, stack_id=STACK, logical_id="A", request_id="r")) == 64


@pytest.mark.parametrize("prefix", ["", "p" * 57, "bad prefix", "rule/"])
def test_fails_on_an_unusable_rule_prefix(prefix: str) -> None:
    with pytest.raises(ValueError, match="OSP_RULE_PREFIX"):
        polling_rule_name(prefix, stack_id=STACK, logical_id="A", request_id="r")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("F123", True), ("G7", True), ("pkg-0a9f", True), ("F", False), ("pkg-XY", False)],
)
def test_package_ids(value: str, expected: bool) -> None:
    assert is_package_id(value) is expected


@pytest.mark.parametrize("logical_id", ["pkg", "F1", "SynonymsPackage"])
def test_placeholder_ids_are_never_package_or_association_ids(logical_id: str) -> None:
    placeholder = placeholder_physical_id(stack_id=STACK, logical_id=logical_id, request_id="r")

    assert not is_package_id(placeholder)
    assert parse_domain_packages_physical_id(placeholder) is None
    assert placeholder == placeholder_physical_id(
        stack_id=STACK, logical_id=logical_id, request_id="r"
    )


@pytest.mark.parametrize(
    ("length", "valid"), [(2, False), (3, True), (29, True), (256, True), (257, False)]
)
def test_package_names_follow_the_models_3_to_256_characters(length: int, valid: bool) -> None:
    """No 28-character limit: the model allows 256 and no public source shows less."""
    from osp_handler.names import is_valid_package_name

    assert is_valid_package_name("a" * length) is valid
