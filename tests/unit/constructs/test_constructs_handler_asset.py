"""Staging the provider handler (handler files + crhelper) as a Lambda asset, without Docker."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import aws_cdk
import pytest
from aws_cdk import aws_s3
from cdk_nag import AwsSolutionsChecks

from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType
from cdk_opensearch_packages.handler_asset import find_handler_source, stage_handler_bundle

REPOSITORY = Path(__file__).resolve().parents[3]


def crhelper_dir() -> Path:
    spec = importlib.util.find_spec("crhelper")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def crhelper_files() -> list[str]:
    return sorted(f"crhelper/{path.name}" for path in crhelper_dir().glob("*.py"))


def make_handler(root: Path) -> Path:
    source = root / "handler"
    (source / "osp_handler" / "sub").mkdir(parents=True)
    (source / "osp_handler" / "__pycache__").mkdir()
    (source / "models" / "opensearch" / "2021-01-01").mkdir(parents=True)
    (source / "index.py").write_text("def handler(event, context): ...\n")
    (source / "osp_handler" / "__init__.py").write_text("")
    (source / "osp_handler" / "logic.py").write_text("X = 1\n")
    (source / "osp_handler" / "sub" / "deep.py").write_text("Y = 2\n")
    (source / "osp_handler" / "notes.md").write_text("not code\n")
    (source / "osp_handler" / "__pycache__" / "logic.cpython-313.pyc").write_bytes(b"\0")
    (source / "models" / "opensearch" / "2021-01-01" / "service-2.json").write_text("{}")
    (source / "README.md").write_text("not shipped\n")
    return source


def test_stages_handler_files_models_and_crhelper(tmp_path: Path) -> None:
    bundle = stage_handler_bundle(make_handler(tmp_path), staging_root=tmp_path / "staging")
    expected = sorted(
        [
            "index.py",
            "models/opensearch/2021-01-01/service-2.json",
            "osp_handler/__init__.py",
            "osp_handler/logic.py",
            "osp_handler/sub/deep.py",
            *crhelper_files(),
        ]
    )
    assert list(bundle.files) == expected
    staged = sorted(
        path.relative_to(bundle.directory).as_posix()
        for path in bundle.directory.rglob("*")
        if path.is_file()
    )
    assert staged == expected
    assert (bundle.directory / "crhelper" / "__init__.py").read_bytes() == (
        crhelper_dir() / "__init__.py"
    ).read_bytes()
    assert bundle.directory.name == f"cdk-opensearch-packages-handler-{bundle.asset_hash}"


def test_hash_is_stable_for_identical_inputs(tmp_path: Path) -> None:
    first = stage_handler_bundle(make_handler(tmp_path / "a"), staging_root=tmp_path / "s1")
    second = stage_handler_bundle(make_handler(tmp_path / "b"), staging_root=tmp_path / "s2")
    assert first.asset_hash == second.asset_hash
    assert len(first.asset_hash) == 64


def test_hash_changes_with_content_and_names(tmp_path: Path) -> None:
    source = make_handler(tmp_path)
    staging = tmp_path / "staging"
    original = stage_handler_bundle(source, staging_root=staging).asset_hash
    (source / "osp_handler" / "logic.py").write_text("X = 2\n")
    changed = stage_handler_bundle(source, staging_root=staging).asset_hash
    (source / "osp_handler" / "logic.py").rename(source / "osp_handler" / "logic2.py")
    renamed = stage_handler_bundle(source, staging_root=staging).asset_hash
    assert len({original, changed, renamed}) == 3
    # Bytecode caches and non-code files do not count.
    (source / "osp_handler" / "__pycache__" / "other.pyc").write_bytes(b"\1")
    (source / "osp_handler" / "more-notes.txt").write_text("x")
    assert stage_handler_bundle(source, staging_root=staging).asset_hash == renamed


def test_existing_staging_directory_is_reused(tmp_path: Path) -> None:
    source = make_handler(tmp_path)
    staging = tmp_path / "staging"
    first = stage_handler_bundle(source, staging_root=staging)
    marker = first.directory / "marker"
    marker.write_text("still here")
    second = stage_handler_bundle(source, staging_root=staging)
    assert second.directory == first.directory
    assert marker.read_text() == "still here"
    assert [path.name for path in staging.iterdir()] == [first.directory.name]


def test_fails_without_index_py(tmp_path: Path) -> None:
    source = make_handler(tmp_path)
    (source / "index.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"no index\.py"):
        stage_handler_bundle(source, staging_root=tmp_path / "staging")


def test_finds_the_repository_handler() -> None:
    assert find_handler_source() == REPOSITORY / "lambda"


@pytest.mark.parametrize(
    "env",
    [None, aws_cdk.Environment(account="123456789012", region="eu-west-1")],
    ids=["env-agnostic", "env-specific"],
)
def test_synthesized_function_asset_has_index_and_crhelper_and_is_nag_clean(
    tmp_path: Path, env: aws_cdk.Environment | None
) -> None:
    """The real app path: a cdk-nag checked synth whose function asset holds the handler."""
    app = aws_cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = aws_cdk.Stack(app, "Nag", env=env)
    dictionary = tmp_path / "stopwords.txt"
    dictionary.write_text("a\nan\nthe\n", encoding="utf-8")
    bucket = aws_s3.Bucket.from_bucket_name(stack, "Bucket", "my-packages-bucket")
    key = aws_cdk.aws_kms.Key(stack, "Key", enable_key_rotation=True)
    stopwords = OpenSearchPackage(
        stack,
        "Stopwords",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(dictionary)),
    )
    plugin = OpenSearchPackage(
        stack,
        "Plugin",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_bucket(bucket, "plugin.zip"),
        engine_version="OpenSearch_2.19",
        encryption_key=key,
    )
    stopwords.associate("search-domain")
    plugin.associate("search-domain")
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    assembly = app.synth()  # raises when cdk-nag reports an unacknowledged finding

    template = json.loads((Path(assembly.directory) / "Nag.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1
    asset_hash = functions[0]["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    staged = Path(assembly.directory) / f"asset.{asset_hash}"
    assert (staged / "index.py").is_file()
    assert (staged / "crhelper" / "__init__.py").is_file()
    assert (staged / "crhelper" / "resource_helper.py").is_file()
    assert (staged / "models" / "opensearch" / "2021-01-01" / "service-2.json").is_file()
    assert not list(staged.rglob("__pycache__"))
