"""``python -m cdk_opensearch_packages.local COMMAND``: rehearse stacks offline.

The local account lasts between commands, in ``.cdk-opensearch-local/`` of the working directory
(``--state DIR`` or ``CDK_OPENSEARCH_LOCAL_STATE`` choose another folder):

- ``deploy [ASSEMBLY ...]``: create or update the stacks, like ``cdk deploy``. Without an
  assembly folder (``cdk synth -o DIR``) the app of ``cdk.json`` (or ``--app``) is synthesized
  first. Several folders are deployed in turn; ``--destroy`` deletes the stacks at the end and
  checks that nothing is left behind. ``--seed FILE`` adds packages made elsewhere first.
- ``destroy [--stack S]``: delete the stacks (default: all).
- ``status``: stacks, packages, versions, associations and domains.
- ``reset``: forget everything.
- ``packages add --name N --type T [--version vN] [--id F...]`` or ``packages add --from FILE``:
  make packages exist as if made elsewhere, for stacks that import them
  (``from_package_id``, ``from_package_name``, ``from_package_attributes``).
- ``demo``: synthesize the example app, deploy, update and delete it (keeps no state).
- ``serve``: run the local AWS until interrupted and print the environment variables that point
  the AWS CLI or boto3 at it (keeps no state).
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
from typing import Any

__all__ = ["main"]

_MISSING_EXTRA = (
    "python -m cdk_opensearch_packages.local needs the [local] extra (moto, boto3) that is not "
    "installed ({missing}): pip install 'cdk-opensearch-packages[local]'"
)


def _options(arguments: argparse.Namespace) -> Any:
    from cdk_opensearch_packages.local.demo.run import DemoOptions

    phases = getattr(arguments, "opensearch_phases", None)
    timeline = None
    if phases is not None:
        from cdk_opensearch_packages.local.opensearch.timeline import Timeline

        timeline = Timeline.uniform(phases).to_dict()
    return DemoOptions(
        show_logs=arguments.logs,
        verbose=arguments.verbose,
        time_scale=arguments.time_scale,
        lambda_timeout=arguments.lambda_timeout,
        timeline=timeline,
    )


def _state_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--state",
        metavar="DIR",
        help="the folder of the local account (default: $CDK_OPENSEARCH_LOCAL_STATE, else "
        "./.cdk-opensearch-local)",
    )


def _run_options(command: argparse.ArgumentParser) -> None:
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
    command.add_argument(
        "--opensearch-phases",
        type=float,
        metavar="SECONDS",
        help="every OpenSearch status phase (COPYING, VALIDATING, ASSOCIATING, ...) lasts this "
        "long (default: the emulation's own, 2 to 30 s)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cdk_opensearch_packages.local",
        description="Offline emulation of CloudFormation, Lambda, EventBridge, S3 and the "
        "OpenSearch Service packages API, to rehearse cdk-opensearch-packages stacks. The "
        "local account lasts between commands (see --state).",
        epilog="A rehearsal, in the folder of your cdk.json: `deploy`, edit, `deploy` (an "
        "update), `status`, `destroy`. Stacks that import packages made elsewhere: `packages "
        "add --name NAME --type TXT-DICTIONARY --version v3` first.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser(
        "deploy", help="create or update stacks (synthesizes cdk.json's app without ASSEMBLY)"
    )
    deploy.add_argument(
        "assemblies",
        type=Path,
        nargs="*",
        metavar="ASSEMBLY",
        help="cloud assembly folders (cdk synth -o DIR), deployed in turn",
    )
    deploy.add_argument("--app", help='the app command (default: cdk.json\'s "app")')
    deploy.add_argument("--stack", action="append", default=[], help="only this stack (repeatable)")
    deploy.add_argument(
        "--destroy", action="store_true", help="delete the stacks at the end, check leftovers"
    )
    deploy.add_argument(
        "--seed", type=Path, metavar="FILE", help="add the packages of FILE (JSON) first"
    )
    destroy = commands.add_parser("destroy", help="delete stacks (default: all)")
    destroy.add_argument(
        "--stack", action="append", default=[], help="only this stack (repeatable)"
    )
    status = commands.add_parser("status", help="stacks, packages, versions, associations")
    reset = commands.add_parser("reset", help="forget the local account")
    packages = commands.add_parser("packages", help="packages made elsewhere")
    package_commands = packages.add_subparsers(dest="packages_command", required=True)
    add = package_commands.add_parser(
        "add", help="make a package exist, AVAILABLE, as if made elsewhere"
    )
    add.add_argument("--name", help="the package name")
    add.add_argument("--type", dest="package_type", help="TXT-DICTIONARY, ZIP-PLUGIN, ...")
    add.add_argument("--version", default="v1", help="its available version (default: v1)")
    add.add_argument("--id", dest="package_id", help="its id, F + digits (default: a new one)")
    add.add_argument("--description", help="its description")
    add.add_argument("--engine-version", help="required for ZIP-PLUGIN, e.g. OpenSearch_2.19")
    add.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help='a JSON list of packages: [{"name": ..., "type": ..., "version": ..., "id": ...}]',
    )
    demo = commands.add_parser("demo", help="deploy, update and delete the example app")
    demo.add_argument("--app", type=Path, help="the CDK app to run (default: ./app.py)")
    for command in (deploy, destroy, status, reset, add):
        _state_option(command)
    for command in (demo, deploy, destroy):
        _run_options(command)
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


def _packages_add(arguments: argparse.Namespace) -> int:
    from cdk_opensearch_packages.local.demo.rehearse import load_seed, run_packages_add

    if arguments.from_file is not None:
        try:
            packages = load_seed(arguments.from_file)
        except (OSError, ValueError) as error:
            print(f"packages add failed: {error}")
            return 1
    elif arguments.name and arguments.package_type:
        packages = [
            {
                key: value
                for key, value in {
                    "name": arguments.name,
                    "package_type": arguments.package_type,
                    "version": arguments.version,
                    "package_id": arguments.package_id,
                    "description": arguments.description,
                    "engine_version": arguments.engine_version,
                }.items()
                if value is not None
            }
        ]
    else:
        print("packages add needs --name and --type, or --from FILE")
        return 2
    return run_packages_add(packages, state=arguments.state)


def _run(arguments: argparse.Namespace) -> int:
    from cdk_opensearch_packages.local.demo import rehearse
    from cdk_opensearch_packages.local.demo.run import run_demo

    if arguments.command == "demo":
        return run_demo(app=arguments.app, options=_options(arguments))
    if arguments.command == "deploy":
        return rehearse.run_deploy(
            arguments.assemblies,
            app=arguments.app,
            stacks=arguments.stack,
            destroy=arguments.destroy,
            seed=arguments.seed,
            state=arguments.state,
            options=_options(arguments),
        )
    if arguments.command == "destroy":
        return rehearse.run_destroy(
            arguments.stack, state=arguments.state, options=_options(arguments)
        )
    if arguments.command == "status":
        return rehearse.run_status(state=arguments.state)
    if arguments.command == "reset":
        return rehearse.run_reset(state=arguments.state)
    if arguments.command == "packages":
        return _packages_add(arguments)
    return _serve()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    try:
        return _run(arguments)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in ("boto3", "botocore", "moto", "werkzeug"):
            print(_MISSING_EXTRA.format(missing=error.name), file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
