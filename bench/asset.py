"""The provider's code asset: size and cold ``import index`` time, against bundling boto3.

Two ways to give the Lambda function a boto3 that knows the newest OpenSearch package API:

- ``service model`` (this provider's choice): the asset ships only the opensearch service model
  (``models/opensearch/...``, found through ``AWS_DATA_PATH``) and uses the runtime's boto3;
- ``bundled boto3``: the asset also carries a pinned boto3 and its dependencies (boto3, botocore,
  jmespath, s3transfer, dateutil, urllib3, six copied from this environment), which shadow the
  runtime's; the model directory is then unnecessary. Measured twice: with the ``.pyc`` files
  ``pip install --target`` compiles for the running Python, and without them (what a zip built by
  another Python version amounts to: the runtime recompiles the sources on every cold start,
  as ``/var/task`` is read-only).

Zip sizes use the same packaging as the emulation's asset publishing (the CDK CLI's: sorted
entries, deflate level 9). Import times run ``import index`` in a fresh interpreter started like
the Lambda stand-in starts one (``-I -S -s -B``, ``sys.path`` = code directory + the runtime's
libraries), so nothing but the standard library and the function's own files is cached; the OS
file cache is warm after the first run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stats import Summary, summarize

__all__ = ["AssetResult", "AssetVariant", "measure_assets"]

_IMPORT_PROBE = """
import json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
started = time.perf_counter()
import index
imported = time.perf_counter()
import boto3
boto3.client("opensearch")
client = time.perf_counter()
print(json.dumps({"import": imported - started, "client": client - started}))
"""
#: Each variant's ``import index`` runs this many times (interleaved) unless told otherwise.
DEFAULT_IMPORT_RUNS = 7


@dataclass
class AssetVariant:
    """One way of building the code asset.

    :param name: what it is.
    :param files: number of files.
    :param unpacked_bytes: total size of the files.
    :param zip_bytes: size of the zipped asset.
    :param import_seconds: cold ``import index`` times.
    :param client_seconds: cold ``import index`` plus the first ``boto3.client("opensearch")``.
    :param botocore_version: the botocore the function imports.
    """

    name: str
    files: int
    unpacked_bytes: int
    zip_bytes: int
    import_seconds: list[float] = field(default_factory=list)
    client_seconds: list[float] = field(default_factory=list)
    botocore_version: str = ""

    @property
    def import_summary(self) -> Summary:
        """The import times summarized."""
        return summarize(self.import_seconds)

    @property
    def client_summary(self) -> Summary:
        """The import + first client times summarized."""
        return summarize(self.client_seconds)


@dataclass
class AssetResult:
    """The asset measurements.

    :param variants: service model, bundled boto3 (with .pyc), bundled boto3 (sources only).
    :param runs: import runs per variant.
    """

    variants: list[AssetVariant]
    runs: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssetResult:
        """Read :meth:`to_dict`'s form back."""
        variants = [
            AssetVariant(
                name=str(item["name"]),
                files=int(item["files"]),
                unpacked_bytes=int(item["unpacked_bytes"]),
                zip_bytes=int(item["zip_bytes"]),
                import_seconds=[float(v) for v in item["import_seconds"]["values"]],
                client_seconds=[float(v) for v in item["client_seconds"]["values"]],
                botocore_version=str(item["botocore_version"]),
            )
            for item in data["variants"]
        ]
        return cls(variants, int(data["runs"]))

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "runs": self.runs,
            "variants": [
                {
                    "name": v.name,
                    "files": v.files,
                    "unpacked_bytes": v.unpacked_bytes,
                    "zip_bytes": v.zip_bytes,
                    "botocore_version": v.botocore_version,
                    "import_seconds": v.import_summary.to_dict(),
                    "client_seconds": v.client_summary.to_dict(),
                }
                for v in self.variants
            ],
        }


def _tree_size(root: Path) -> tuple[int, int]:
    count = size = 0
    for directory, _dirs, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(directory) / name
            if path.is_file():
                count += 1
                size += path.stat().st_size
    return count, size


def _zip_size(root: Path) -> int:
    from cdk_opensearch_packages.local.cloudformation.assembly import zip_directory

    return len(zip_directory(root))


def _copy_runtime_libraries(target: Path, *, with_pyc: bool) -> None:
    from cdk_opensearch_packages.local.awslambda.runner import (
        RUNTIME_LIBRARIES,
        runtime_library_dir,
    )

    source_dir = runtime_library_dir()
    ignore = None if with_pyc else shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in RUNTIME_LIBRARIES:
        candidates = [source_dir / name, source_dir / f"{name}.py"]
        source = next(path.resolve() for path in candidates if path.exists())
        if source.is_dir():
            shutil.copytree(source, target / source.name, ignore=ignore)
        else:
            shutil.copyfile(source, target / source.name)


def _environment(code_dir: Path, with_models: bool) -> dict[str, str]:
    from cdk_opensearch_packages.local.aws.constants import FAKE_CREDENTIALS, REGION

    environment = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "OSP_RULE_PREFIX": "osp-bench",
        **FAKE_CREDENTIALS,
    }
    if with_models:
        environment["AWS_DATA_PATH"] = str(code_dir / "models")
    return environment


def _import_once(code_dir: Path, runtime_dir: Path, with_models: bool) -> tuple[float, float]:
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-s",
            "-B",
            "-c",
            _IMPORT_PROBE,
            json.dumps([str(code_dir), str(runtime_dir)]),
        ],
        cwd=code_dir,
        env=_environment(code_dir, with_models),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"import index failed in {code_dir.name}:\n{completed.stderr[-3000:]}")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(data["import"]), float(data["client"])


def _botocore_version(code_dir: Path, runtime_dir: Path) -> str:
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-s",
            "-B",
            "-c",
            "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); import botocore; "
            "print(botocore.__version__)",
            json.dumps([str(code_dir), str(runtime_dir)]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def measure_assets(runs: int = DEFAULT_IMPORT_RUNS, work_dir: Path | None = None) -> AssetResult:
    """Build both asset variants in a temporary directory and measure them.

    :param runs: cold imports per variant (interleaved between variants).
    :param work_dir: where to build. Default: - a new temporary directory, removed afterwards.
    """
    from cdk_opensearch_packages.handler_asset import stage_handler_bundle
    from cdk_opensearch_packages.local.awslambda.runner import runtime_library_dir

    owned = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="osp-bench-asset-")) if work_dir is None else work_dir
    try:
        runtime_dir = runtime_library_dir()
        staged = stage_handler_bundle(staging_root=root / "staging").directory
        ours = root / "service-model"
        shutil.copytree(staged, ours)
        layouts: list[tuple[str, Path, bool]] = [("service model (ours)", ours, True)]
        for with_pyc in (True, False):
            bundled = root / ("bundled-pyc" if with_pyc else "bundled-src")
            shutil.copytree(staged, bundled, ignore=shutil.ignore_patterns("models"))
            _copy_runtime_libraries(bundled, with_pyc=with_pyc)
            label = "bundled boto3 (no .pyc)"
            if with_pyc:
                label = "bundled boto3 (.pyc for this Python)"
            layouts.append((label, bundled, False))
        variants = []
        for name, directory, _with_models in layouts:
            count, size = _tree_size(directory)
            variants.append(
                AssetVariant(
                    name=name,
                    files=count,
                    unpacked_bytes=size,
                    zip_bytes=_zip_size(directory),
                    botocore_version=_botocore_version(directory, runtime_dir),
                )
            )
        for _name, directory, models in layouts:  # warm the file cache once, unmeasured
            _import_once(directory, runtime_dir, models)
        for _ in range(runs):
            for variant, (_name, directory, models) in zip(variants, layouts, strict=True):
                imported, client = _import_once(directory, runtime_dir, models)
                variant.import_seconds.append(imported)
                variant.client_seconds.append(client)
        return AssetResult(variants, runs)
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)
