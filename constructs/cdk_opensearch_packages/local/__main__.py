"""``python -m cdk_opensearch_packages.local demo|deploy|serve``.

- ``demo``: synthesize the example app, deploy it to the local AWS, update it, delete it, and
  check that nothing is left (``make demo``).
- ``deploy ASSEMBLY [ASSEMBLY ...]``: rehearse your own stacks: deploy each synthesized cloud
  assembly (``cdk synth -o DIR``) in turn; ``--destroy`` deletes them at the end and checks
  that nothing is left behind.
- ``serve``: run the local AWS until interrupted and print the environment variables that
  point the AWS CLI or boto3 at it.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from cdk_opensearch_packages.local.demo.run import DemoOptions, run_demo, run_deploy

__all__ = ["main"]


def _options(arguments: argparse.Namespace) -> DemoOptions:
    return DemoOptions(
        show_logs=arguments.logs,
        verbose=arguments.verbose,
        time_scale=arguments.time_scale,
        lambda_timeout=arguments.lambda_timeout,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cdk_opensearch_packages.local",
        description="Offline emulation of CloudFormation, Lambda, EventBridge, S3 and the "
        "OpenSearch Service packages API, to rehearse cdk-opensearch-packages stacks.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="deploy, update and delete the example app")
    demo.add_argument("--app", type=Path, help="the CDK app to run (default: ./app.py)")
    deploy = commands.add_parser("deploy", help="deploy synthesized cloud assemblies")
    deploy.add_argument("assemblies", type=Path, nargs="+", help="cdk.out directories, in order")
    deploy.add_argument("--stack", help="only this stack of each assembly")
    deploy.add_argument(
        "--destroy", action="store_true", help="delete the stacks at the end, check leftovers"
    )
    for command in (demo, deploy):
        command.add_argument("--logs", action="store_true", help="print the Lambda output")
        command.add_argument("--verbose", action="store_true", help="print every stack event")
        command.add_argument(
            "--time-scale",
            type=float,
            default=1 / 30,
            help="real seconds per emulated second for EventBridge schedules, Lambda retries "
            "and ServiceTimeout (default: 1/30, an EventBridge minute lasts 2 s)",
        )
        command.add_argument(
            "--lambda-timeout", type=float, help="override every function's timeout (seconds)"
        )
    commands.add_parser("serve", help="run the local AWS until interrupted")
    return parser


def _serve() -> int:
    from cdk_opensearch_packages.local.aws.env import LocalAws

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalAws() as aws:
        print("# The local AWS is running; paste these lines into a shell, Ctrl-C stops it.")
        for name, value in sorted(aws.environment.items()):
            print(f"export {name}={shlex.quote(value)}")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    if arguments.command == "demo":
        return run_demo(app=arguments.app, options=_options(arguments))
    if arguments.command == "deploy":
        return run_deploy(
            arguments.assemblies,
            stack=arguments.stack,
            destroy=arguments.destroy,
            options=_options(arguments),
        )
    return _serve()


if __name__ == "__main__":
    sys.exit(main())
