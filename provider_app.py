#!/usr/bin/env python3
"""The shared provider stack, for users of plain CloudFormation templates (no CDK).

A CDK app of its own: ``cdk synth --app ".venv/bin/python provider_app.py"`` synthesizes the stack
into ``cdk.out`` as any app does. ``make provider-template`` runs it with ``--publish
dist/provider``, which also writes what a user uploads:

- ``opensearch-package-provider.template.json``: deploy it with ``aws cloudformation deploy``
  (no CDK bootstrap needed), passing ``CodeBucket`` (and ``CodeKey`` when the zip has another key);
- ``opensearch-package-provider-<hash>.zip``: the handler; upload it to ``CodeBucket``.

cdk-nag's AWS Solutions checks run as a validation plugin, as in ``app.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The library lives in constructs/ (a source root, never a package itself).
sys.path.insert(0, str(HERE / "constructs"))

import aws_cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from cdk_opensearch_packages.provider_stack import (  # noqa: E402
    OpenSearchPackageProviderStack,
    publish_provider,
)

STACK_NAME = "OpenSearchPackageProvider"


def main(argv: list[str] | None = None) -> int:
    """Synthesize the provider stack; with ``--publish DIR``, write the template and zip there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--publish",
        metavar="DIR",
        type=Path,
        help="write the provider template and its handler zip into DIR",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="osp-provider-") as scratch:
        # Run by the CDK CLI, the app writes where the CLI says (CDK_OUTDIR); run directly, into a
        # scratch directory: the published files are what matters then.
        app = aws_cdk.App(outdir=None if _run_by_cli() else scratch)
        stack = OpenSearchPackageProviderStack(app, STACK_NAME)
        aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        assembly = app.synth()  # raises when cdk-nag reports an unacknowledged finding
        if args.publish is not None:
            template = assembly.get_stack_artifact(stack.artifact_id).template
            artifacts = publish_provider(template, stack.bundle, args.publish)
            print(f"template: {artifacts.template}")
            print(f"code:     {artifacts.code_zip}")
            print(
                "upload the zip to a bucket of the target Region, then: aws cloudformation deploy "
                f"--stack-name {STACK_NAME} --template-file {artifacts.template} "
                "--capabilities CAPABILITY_IAM --parameter-overrides CodeBucket=<bucket> "
                "AllowedSourceBuckets=<buckets> AllowedDomainNames=<domains>"
            )
    return 0


def _run_by_cli() -> bool:
    return "CDK_OUTDIR" in os.environ


if __name__ == "__main__":
    sys.exit(main())
