"""What ``make provider-template`` publishes: the template and the handler zip; cfn-lint on the
published template and on the example templates."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from cfnlint.api import lint_file
from provider_stack_support import EXAMPLES, ProviderTemplate

from cdk_opensearch_packages.handler_asset import stage_handler_bundle
from cdk_opensearch_packages.provider_stack import (
    SERVICE_TOKEN_EXPORT,
    TEMPLATE_FILE_NAME,
    code_file_name,
    publish_provider,
    write_handler_zip,
)


def _zip(published: Path) -> Path:
    (code,) = published.glob("*.zip")
    return code


def test_publishes_the_template_and_the_zip(published: Path, provider: ProviderTemplate) -> None:
    bundle = provider.stack.bundle
    assert sorted(path.name for path in published.iterdir()) == sorted(
        [TEMPLATE_FILE_NAME, code_file_name(bundle)]
    )
    template = json.loads((published / TEMPLATE_FILE_NAME).read_text(encoding="utf-8"))
    assert template == provider.json
    assert template["Parameters"]["CodeKey"]["Default"] == _zip(published).name


def test_zip_holds_the_staged_handler_bundle(published: Path, provider: ProviderTemplate) -> None:
    bundle = provider.stack.bundle
    with zipfile.ZipFile(_zip(published)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [info.filename for info in infos] == list(bundle.files)
        for info in infos:
            assert archive.read(info) == (bundle.directory / info.filename).read_bytes()
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
    assert {"index.py", "crhelper/__init__.py"} <= set(bundle.files)
    assert "models/opensearch/2021-01-01/service-2.json" in bundle.files


def test_zip_is_deterministic_and_readable(published: Path, tmp_path: Path) -> None:
    again = write_handler_zip(stage_handler_bundle(), tmp_path / "again")
    assert again.name == _zip(published).name
    assert again.read_bytes() == _zip(published).read_bytes()
    assert stat.S_IMODE(again.stat().st_mode) == 0o644
    assert [path.name for path in again.parent.iterdir()] == [again.name]  # no partial file


def test_fails_when_the_template_expects_another_bundle(
    provider: ProviderTemplate, tmp_path: Path
) -> None:
    handler = tmp_path / "handler"
    handler.mkdir()
    (handler / "index.py").write_text("def handler(event, context):\n    return None\n")
    other = stage_handler_bundle(handler, staging_root=tmp_path / "staging")
    with pytest.raises(ValueError, match=r"expects the code zip 'opensearch-package-provider-"):
        publish_provider(provider.json, other, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_published_template_passes_cfn_lint(published: Path) -> None:
    matches = lint_file(published / TEMPLATE_FILE_NAME)
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("template", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_templates_pass_cfn_lint(template: Path) -> None:
    matches = lint_file(template)
    assert [str(match) for match in matches] == []


def test_example_templates_import_the_service_token() -> None:
    templates = sorted(EXAMPLES.glob("*.yaml"))
    assert templates
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert f"ServiceToken: !ImportValue {SERVICE_TOKEN_EXPORT}" in text
        assert "Custom::OpenSearchPackage\n" in text
        assert "Custom::OpenSearchDomainPackages\n" in text
