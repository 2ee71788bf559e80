"""Read a synthesized cloud assembly (``cdk.out``) and publish its file assets.

The assembly's ``manifest.json`` lists the stack artifacts (also inside nested assemblies of
stages) with their template file and the asset manifest (``<stack>.assets.json``) each depends
on. :func:`publish_file_assets` uploads the file assets to their destination bucket in the local
S3 the way the CDK CLI does: a directory is zipped (regular files only, following links, sorted,
every entry dated 1980-01-01 with its file mode), a file is uploaded as is, and an object that is
already there is not uploaded again. The bootstrap bucket is created when missing (the local
stand-in of ``cdk bootstrap``).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, PARTITION, REGION
from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

__all__ = [
    "CloudAssembly",
    "FileAsset",
    "StackArtifact",
    "publish_file_assets",
    "zip_directory",
]

_STACK_TYPE = "aws:cloudformation:stack"
_ASSETS_TYPE = "cdk:asset-manifest"
_NESTED_TYPE = "cdk:cloud-assembly"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileAsset:
    """One file asset of an asset manifest.

    :param asset_id: the asset's id (its hash).
    :param source: the file or directory in the assembly.
    :param packaging: ``zip`` (a directory) or ``file``.
    :param bucket: the destination bucket (placeholders resolved).
    :param key: the destination object key.
    """

    asset_id: str
    source: Path
    packaging: str
    bucket: str
    key: str


@dataclass(frozen=True)
class StackArtifact:
    """A stack of a cloud assembly.

    :param artifact_id: the artifact id in the manifest (the construct's unique id).
    :param stack_name: the CloudFormation stack name.
    :param display_name: the construct path shown by the CDK CLI.
    :param template: the parsed template.
    :param assets: the file assets the stack's template needs.
    :param dependencies: stack names this stack depends on (deployed first).
    """

    artifact_id: str
    stack_name: str
    display_name: str
    template: dict[str, Any]
    assets: tuple[FileAsset, ...] = ()
    dependencies: tuple[str, ...] = ()


@dataclass
class CloudAssembly:
    """The stacks of a synthesized cloud assembly directory.

    :param directory: the assembly directory.
    :param stacks: the stacks, in an order that deploys dependencies first.
    """

    directory: Path
    stacks: list[StackArtifact] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path | str) -> CloudAssembly:
        """Read ``manifest.json`` of ``directory`` (and of the nested assemblies of stages).

        :raises TemplateError: when the directory holds no cloud assembly.
        """
        root = Path(directory)
        if not (root / "manifest.json").is_file():
            raise TemplateError(f"{root} is not a cloud assembly (no manifest.json); run cdk synth")
        found: list[StackArtifact] = []
        _read_assembly(root, found)
        return cls(directory=root, stacks=_dependency_order(found))

    def stack(self, name: str) -> StackArtifact:
        """Find a stack by stack name, artifact id or display name."""
        for artifact in self.stacks:
            if name in (artifact.stack_name, artifact.artifact_id, artifact.display_name):
                return artifact
        known = ", ".join(artifact.stack_name for artifact in self.stacks) or "none"
        raise TemplateError(f"No stack named {name!r} in the assembly (stacks: {known})")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from error


def _read_assembly(directory: Path, found: list[StackArtifact]) -> None:
    manifest = _read_json(directory / "manifest.json")
    artifacts: Mapping[str, Any] = manifest.get("artifacts", {})
    names = {
        artifact_id: artifact.get("properties", {}).get("stackName", artifact_id)
        for artifact_id, artifact in artifacts.items()
        if artifact.get("type") == _STACK_TYPE
    }
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == _NESTED_TYPE:
            _read_assembly(directory / properties["directoryName"], found)
            continue
        if kind != _STACK_TYPE:
            continue
        dependencies = list(artifact.get("dependencies", []))
        assets: list[FileAsset] = []
        for dependency in dependencies:
            dependency_artifact = artifacts.get(dependency, {})
            if dependency_artifact.get("type") == _ASSETS_TYPE:
                assets.extend(
                    _read_asset_manifest(
                        directory, directory / dependency_artifact["properties"]["file"]
                    )
                )
        found.append(
            StackArtifact(
                artifact_id=artifact_id,
                stack_name=names[artifact_id],
                display_name=artifact.get("displayName", artifact_id),
                template=_read_json(directory / properties["templateFile"]),
                assets=tuple(assets),
                dependencies=tuple(names[d] for d in dependencies if d in names),
            )
        )


def _placeholders(text: str) -> str:
    return (
        text.replace("${AWS::AccountId}", ACCOUNT_ID)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", PARTITION)
    )


def _read_asset_manifest(directory: Path, path: Path) -> list[FileAsset]:
    manifest = _read_json(path)
    if manifest.get("dockerImages"):
        raise TemplateError(
            f"{path.name}: Docker image assets are not supported by the local emulation"
        )
    assets = []
    for asset_id, entry in manifest.get("files", {}).items():
        source = entry.get("source", {})
        if "path" not in source:
            raise TemplateError(
                f"{path.name}: asset {asset_id} is built by a command (executable); "
                "the local emulation publishes only file and directory assets"
            )
        for destination in entry.get("destinations", {}).values():
            assets.append(
                FileAsset(
                    asset_id=asset_id,
                    source=directory / source["path"],
                    packaging=source.get("packaging", "file"),
                    bucket=_placeholders(destination["bucketName"]),
                    key=_placeholders(destination["objectKey"]),
                )
            )
    return assets


def _dependency_order(stacks: list[StackArtifact]) -> list[StackArtifact]:
    by_name = {stack.stack_name: stack for stack in stacks}
    ordered: list[StackArtifact] = []
    visiting: set[str] = set()

    def visit(stack: StackArtifact) -> None:
        if stack in ordered:
            return
        if stack.stack_name in visiting:
            raise TemplateError(f"stack dependency cycle through {stack.stack_name}")
        visiting.add(stack.stack_name)
        for dependency in stack.dependencies:
            if dependency in by_name:
                visit(by_name[dependency])
        visiting.discard(stack.stack_name)
        ordered.append(stack)

    for stack in stacks:
        visit(stack)
    return ordered


def zip_directory(directory: Path) -> bytes:
    """Zip a directory the way the CDK CLI packages a directory asset.

    Regular files only (links followed, directories implied), sorted by relative path, every
    entry dated 1980-01-01 and carrying its file mode, deflated.
    """
    entries: list[tuple[str, Path]] = []
    for current, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames.sort()
        for name in filenames:
            path = Path(current) / name
            if path.is_file():
                entries.append((path.relative_to(directory).as_posix(), path))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for relative, path in sorted(entries):
            info = zipfile.ZipInfo(relative, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def publish_file_assets(s3: S3Client, assets: tuple[FileAsset, ...] | list[FileAsset]) -> int:
    """Upload file assets to the local S3 (skipping objects already there).

    :return: how many objects were uploaded.
    :raises TemplateError: when an asset's source is missing from the assembly.
    """
    uploaded = 0
    existing_buckets = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for asset in assets:
        if asset.bucket not in existing_buckets:
            s3.create_bucket(Bucket=asset.bucket)
            existing_buckets.add(asset.bucket)
        try:
            s3.head_object(Bucket=asset.bucket, Key=asset.key)
            continue
        except s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        if not asset.source.exists():
            raise TemplateError(f"asset {asset.asset_id}: {asset.source} does not exist")
        source = asset.source
        body = zip_directory(source) if source.is_dir() else source.read_bytes()
        s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=body)
        uploaded += 1
    return uploaded
