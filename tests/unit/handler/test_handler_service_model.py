"""The service model shipped in lambda/models (loaded through AWS_DATA_PATH)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import botocore.session
import pytest
from botocore.loaders import Loader

from .handler_fakes import REPOSITORY

MODELS = REPOSITORY / "lambda" / "models"
SHIPPED = MODELS / "opensearch" / "2021-01-01" / "service-2.json"


def test_a_loader_pointed_only_at_the_models_directory_finds_the_newest_parameters() -> None:
    loader = Loader(extra_search_paths=[str(MODELS)], include_default_search_paths=False)

    model = loader.load_service_model("opensearch", "service-2")

    members = model["shapes"]["CreatePackageRequest"]["members"]
    assert {"PackageEncryptionOptions", "PackageVendingOptions", "EngineVersion"} <= set(members)
    assert "PackageConfiguration" in members


def test_aws_data_path_makes_botocore_use_the_shipped_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(MODELS))
    session = botocore.session.Session()
    loader = session.get_component("data_loader")

    _, path = loader.load_data_with_path("opensearch/2021-01-01/service-2")
    client = session.create_client("opensearch", region_name="eu-west-1")

    assert Path(path).resolve() == SHIPPED.with_suffix("").resolve()
    shape = client.meta.service_model.operation_model("CreatePackage").input_shape
    assert shape is not None
    assert "PackageEncryptionOptions" in shape.members


def test_the_shipped_model_is_the_installed_botocore_model_minified() -> None:
    installed = Path(botocore.__file__).parent / "data" / "opensearch" / "2021-01-01"
    with gzip.open(installed / "service-2.json.gz", "rt", encoding="utf-8") as handle:
        current = json.load(handle)
    text = SHIPPED.read_text(encoding="utf-8")

    assert json.loads(text) == current, (
        "lambda/models is stale: rewrite it from botocore/data/opensearch/2021-01-01/"
        "service-2.json.gz as minified JSON"
    )
    assert "\n" not in text
