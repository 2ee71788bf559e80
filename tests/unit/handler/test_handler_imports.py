"""The handler imports only what Lambda's Python runtime ships and what its asset bundles.

Lambda's Python runtimes carry the standard library, boto3 and botocore (with jmespath,
s3transfer, urllib3, python-dateutil and six); the asset adds ``index``, ``osp_handler`` and a
copy of ``crhelper``. A module imported at run time from anywhere else (``types_boto3_*`` outside
``TYPE_CHECKING``, ``aws_cdk``, the library's own ``cdk_opensearch_packages``) would fail on
Lambda only. ``make matrix`` runs these tests in a venv holding boto3, botocore and pytest alone,
with the staged asset on ``PYTHONPATH``, which also catches imports made lazily by the code paths
the tests exercise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HANDLER_SOURCE = Path(__file__).resolve().parents[3] / "lambda"
#: Top-level packages of Lambda's Python runtimes besides the standard library.
LAMBDA_RUNTIME = frozenset(
    {"boto3", "botocore", "jmespath", "s3transfer", "urllib3", "dateutil", "six"}
)
#: What the asset bundles (handler_asset.stage_handler_bundle).
BUNDLED = frozenset({"index", "osp_handler", "crhelper"})

# boto3 and botocore first: whatever they import (optional extras such as certifi included) is
# theirs. Then every module of the handler, as Lambda would import them over its invocations.
_PROBE = """
import importlib, json, pkgutil, sys
import boto3, botocore.session, botocore.exceptions
before = {name.split(".")[0] for name in sys.modules}
import index, osp_handler
for module in pkgutil.walk_packages(osp_handler.__path__, "osp_handler."):
    importlib.import_module(module.name)
after = {name.split(".")[0] for name in sys.modules}
print(json.dumps(sorted(after - before)))
"""


def _imported_by_the_handler() -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=HANDLER_SOURCE,
        env=dict(os.environ),  # the fixtures' region and dummy credentials (index.py needs them)
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_the_handler_imports_only_the_standard_library_boto3_and_its_bundle() -> None:
    imported = _imported_by_the_handler()
    assert imported >= BUNDLED  # the probe did import the handler
    foreign = {
        name
        for name in imported - BUNDLED - LAMBDA_RUNTIME
        if name not in sys.stdlib_module_names and not name.startswith("__")
    }
    assert not foreign, (
        f"the handler imports {sorted(foreign)}, which Lambda's Python runtime does not ship "
        "and the asset does not bundle"
    )
