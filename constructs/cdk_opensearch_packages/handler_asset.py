"""Locate the provider's handler source and stage it as a Lambda code asset, without Docker.

The handler is plain Python: ``index.py`` (crhelper wiring), the ``osp_handler`` package, the
OpenSearch service model under ``models/`` (loaded through ``AWS_DATA_PATH``) and a copy of the
``crhelper`` library taken from the environment that runs the synthesis. Nothing is built at synth
time: files are copied into a staging directory named by their content hash, so the asset hash is
the same on every machine for the same handler and crhelper files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aws_cdk
from aws_cdk import aws_lambda

__all__ = [
    "HandlerBundle",
    "find_handler_source",
    "handler_code",
    "stage_handler_bundle",
]

_STAGING_PREFIX = "cdk-opensearch-packages-handler-"
_SKIPPED_DIRS = frozenset({"__pycache__"})


@dataclass(frozen=True)
class HandlerBundle:
    """A staged handler bundle.

    :param directory: the staging directory holding the files the Lambda function runs.
    :param asset_hash: sha256 (hex) over the sorted relative file paths and their bytes.
    :param files: the relative paths (POSIX form) of the staged files, sorted.
    """

    directory: Path
    asset_hash: str
    files: tuple[str, ...]


def find_handler_source() -> Path:
    """Return the directory holding the handler source.

    An installed wheel carries the handler as ``cdk_opensearch_packages/_handler``; a checkout of
    the repository keeps it in ``lambda/`` at the repository root.

    :raises FileNotFoundError: when neither location holds an ``index.py``.
    """
    installed = Path(__file__).parent / "_handler"
    repository = Path(__file__).resolve().parents[2] / "lambda"
    for candidate in (installed, repository):
        if (candidate / "index.py").is_file():
            return candidate
    raise FileNotFoundError(
        "cdk-opensearch-packages: the provider handler source was not found "
        f"(looked for index.py in {installed} and {repository}); reinstall the package."
    )


def _find_crhelper() -> Path:
    spec = importlib.util.find_spec("crhelper")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "cdk-opensearch-packages: the 'crhelper' package must be installed where the CDK app "
            "runs (it is copied into the provider's Lambda bundle); pip install crhelper"
        )
    return Path(spec.origin).parent


def _walk(root: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield the files under ``root`` (recursively), skipping ``__pycache__`` directories."""
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in sorted(filenames):
            if suffix is None or name.endswith(suffix):
                yield Path(directory) / name


def _collect(handler_source: Path, crhelper_dir: Path) -> dict[str, Path]:
    """Map each staged relative path (POSIX) to the file it is copied from."""
    files: dict[str, Path] = {"index.py": handler_source / "index.py"}
    package = handler_source / "osp_handler"
    if package.is_dir():
        for path in _walk(package, ".py"):
            files[path.relative_to(handler_source).as_posix()] = path
    models = handler_source / "models"
    if models.is_dir():
        for path in _walk(models):
            files[path.relative_to(handler_source).as_posix()] = path
    for path in _walk(crhelper_dir, ".py"):
        files[f"crhelper/{path.relative_to(crhelper_dir).as_posix()}"] = path
    return files


def _content_hash(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for relative in sorted(files):
        data = files[relative].read_bytes()
        encoded = relative.encode("utf-8")
        # Length prefixes keep (name, bytes) pairs unambiguous.
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def stage_handler_bundle(
    handler_source: Path | None = None,
    *,
    crhelper_dir: Path | None = None,
    staging_root: Path | None = None,
) -> HandlerBundle:
    """Copy the handler files and crhelper into a staging directory named by their hash.

    A directory that already exists for the same hash is reused as is (it is created under a
    temporary name and renamed into place, so it is always complete).

    :param handler_source: the handler source directory. Default: :func:`find_handler_source`.
    :param crhelper_dir: the ``crhelper`` package directory. Default: found with
        ``importlib.util.find_spec("crhelper")``.
    :param staging_root: where staging directories live. Default: ``tempfile.gettempdir()``.
    """
    source = handler_source if handler_source is not None else find_handler_source()
    crhelper = crhelper_dir if crhelper_dir is not None else _find_crhelper()
    if not (source / "index.py").is_file():
        raise FileNotFoundError(f"cdk-opensearch-packages: no index.py in {source}")
    files = _collect(source, crhelper)
    asset_hash = _content_hash(files)
    root = staging_root if staging_root is not None else Path(tempfile.gettempdir())
    target = root / f"{_STAGING_PREFIX}{asset_hash}"
    if not target.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{_STAGING_PREFIX}", dir=root))
        try:
            for relative, origin in files.items():
                destination = partial.joinpath(*relative.split("/"))
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(origin, destination)
            try:
                partial.rename(target)
            except OSError:
                # Another process staged the same bundle first: theirs is identical.
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return HandlerBundle(directory=target, asset_hash=asset_hash, files=tuple(sorted(files)))


def handler_code(bundle: HandlerBundle | None = None) -> aws_lambda.Code:
    """Return the Lambda code asset of the provider handler.

    :param bundle: a staged bundle. Default: :func:`stage_handler_bundle` with its defaults.
    """
    staged = bundle if bundle is not None else stage_handler_bundle()
    return aws_lambda.Code.from_asset(
        str(staged.directory),
        asset_hash=staged.asset_hash,
        asset_hash_type=aws_cdk.AssetHashType.CUSTOM,
    )
