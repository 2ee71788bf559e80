"""The CDK apps the benchmarks synthesize, generated into a temporary directory.

- :func:`write_packages_app`: one stack holding ``count`` ``OpenSearchPackage`` constructs (the
  provider stays one function), each with its own synonyms file as an asset. Used for the
  ``cdk synth`` benchmark and, deployed on the emulation, for the provider's overhead.
- :func:`write_crhelper_app`: the baseline, ``count`` ``Custom::CrhelperPackage`` resources served
  by one plain crhelper function (:mod:`bench.crhelper_default`).

Apps are plain Python files run in a fresh process (``python app.py`` with ``CDK_OUTDIR``); the
library is found through ``PYTHONPATH`` (:func:`app_environment`), so no path of this machine is
written into the repository.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "CRHELPER_STACK",
    "PACKAGES_STACK",
    "REPO_ROOT",
    "SynthRun",
    "app_environment",
    "synthesize",
    "write_crhelper_app",
    "write_packages_app",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PACKAGES_STACK = "OspBenchPackages"
CRHELPER_STACK = "OspBenchCrhelper"

_PACKAGES_APP = '''"""Benchmark app: {count} packages in one stack (from bench/apps.py)."""

from pathlib import Path

import aws_cdk
from cdk_opensearch_packages import DictionaryKind, OpenSearchPackage, PackageSource, PackageType

HERE = Path(__file__).resolve().parent
app = aws_cdk.App()
stack = aws_cdk.Stack(app, "{stack}")
for index in range({count}):
    OpenSearchPackage(
        stack,
        f"Package{{index}}",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(HERE / "dictionaries" / f"synonyms-{{index}}.txt")),
        dictionary_kind=DictionaryKind.SYNONYMS,
        description=f"benchmark package {{index}}",
    )
app.synth()
'''

_CRHELPER_APP = '''"""Baseline app: {count} packages served by crhelper (from bench/apps.py)."""

from pathlib import Path

import aws_cdk
from aws_cdk import aws_iam, aws_lambda, aws_s3_assets

HERE = Path(__file__).resolve().parent
app = aws_cdk.App()
stack = aws_cdk.Stack(app, "{stack}")
function = aws_lambda.Function(
    stack,
    "Handler",
    code=aws_lambda.Code.from_asset(str(HERE / "handler")),
    handler="index.handler",
    runtime=aws_lambda.Runtime.PYTHON_3_13,
    timeout=aws_cdk.Duration.minutes(5),
    memory_size=256,
)
function.add_to_role_policy(
    aws_iam.PolicyStatement(
        actions=["es:CreatePackage", "es:DescribePackages", "es:DeletePackage"], resources=["*"]
    )
)
function.add_to_role_policy(
    aws_iam.PolicyStatement(
        actions=[
            "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule"
        ],
        resources=["*"],
    )
)
function.add_to_role_policy(
    aws_iam.PolicyStatement(
        actions=["lambda:AddPermission", "lambda:RemovePermission"], resources=["*"]
    )
)
for index in range({count}):
    source = aws_s3_assets.Asset(
        stack, f"Source{{index}}", path=str(HERE / "dictionaries" / f"synonyms-{{index}}.txt")
    )
    source.grant_read(function)
    aws_cdk.CustomResource(
        stack,
        f"Package{{index}}",
        service_token=function.function_arn,
        resource_type="Custom::CrhelperPackage",
        properties={{
            "PackageName": f"crhelper-bench-{{index}}",
            "PackageType": "TXT-DICTIONARY",
            "PackageSource": {{
                "S3BucketName": source.s3_bucket_name,
                "S3Key": source.s3_object_key,
            }},
        }},
    )
app.synth()
'''


def _write_dictionaries(directory: Path, count: int) -> None:
    target = directory / "dictionaries"
    target.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (target / f"synonyms-{index}.txt").write_text(
            f"# benchmark dictionary {index}\n"
            f"laptop, notebook, portable computer {index}\n"
            "tv, television\n"
            "sneakers => running shoes\n",
            encoding="utf-8",
        )


def write_packages_app(directory: Path, count: int, stack: str = PACKAGES_STACK) -> Path:
    """Write an app with ``count`` packages in one stack.

    :param directory: where (created when missing).
    :param count: how many ``OpenSearchPackage`` constructs.
    :param stack: the stack name.
    :return: the ``app.py`` written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _write_dictionaries(directory, count)
    app = directory / "app.py"
    app.write_text(_PACKAGES_APP.format(count=count, stack=stack), encoding="utf-8")
    return app


def write_crhelper_app(directory: Path, count: int, stack: str = CRHELPER_STACK) -> Path:
    """Write the baseline app: ``count`` packages served by the plain crhelper handler.

    The handler directory holds ``bench/crhelper_default/index.py`` and a copy of crhelper from
    this environment (the function's own dependency; boto3 comes from the runtime).

    :param directory: where (created when missing).
    :param count: how many ``Custom::CrhelperPackage`` resources.
    :param stack: the stack name.
    :return: the ``app.py`` written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _write_dictionaries(directory, count)
    handler = directory / "handler"
    if handler.exists():
        shutil.rmtree(handler)
    handler.mkdir()
    shutil.copyfile(BENCH_DIR / "crhelper_default" / "index.py", handler / "index.py")
    spec = importlib.util.find_spec("crhelper")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("crhelper is not installed (pip install -r requirements.txt)")
    shutil.copytree(
        Path(spec.origin).parent,
        handler / "crhelper",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    app = directory / "app.py"
    app.write_text(_CRHELPER_APP.format(count=count, stack=stack), encoding="utf-8")
    return app


def app_environment() -> dict[str, str]:
    """The environment a generated app runs in: this one, plus the library on ``PYTHONPATH``,
    the venv's ``bin`` (Node.js for jsii) on ``PATH`` and CDK's notices/telemetry off."""
    environment = dict(os.environ)
    library = str(REPO_ROOT / "constructs")
    existing = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = library if not existing else f"{library}{os.pathsep}{existing}"
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}"
    environment.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    environment.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    environment.setdefault("CDK_CLI_TELEMETRY_DISABLED", "1")
    return environment


@dataclass(frozen=True)
class SynthRun:
    """One synthesis.

    :param seconds: wall time of the process.
    :param out_dir: the cloud assembly written.
    """

    seconds: float
    out_dir: Path


def synthesize(app: Path, out_dir: Path, *, cli: bool = False) -> SynthRun:
    """Synthesize an app in a fresh process and time it.

    :param app: the ``app.py``.
    :param out_dir: the cloud assembly directory (removed first).
    :param cli: run the CDK CLI (``npx --no-install cdk synth`` from the repository, whose
        ``cdk.json`` context applies) instead of ``python app.py`` with ``CDK_OUTDIR``.
    :raises RuntimeError: when the synthesis fails (its output is in the message).
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    environment = app_environment()
    if cli:
        command = [
            "npx",
            "--no-install",
            "cdk",
            "synth",
            "--quiet",
            "--no-notices",
            "--no-version-reporting",
            "--app",
            f"{sys.executable} {app}",
            "--output",
            str(out_dir),
        ]
        cwd = REPO_ROOT
    else:
        command = [sys.executable, str(app)]
        environment["CDK_OUTDIR"] = str(out_dir)
        cwd = app.parent
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"synthesis of {app.name} failed ({completed.returncode}):\n"
            f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    return SynthRun(seconds, out_dir)
