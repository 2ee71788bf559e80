"""``python -m osp_acceptance`` (with ``tests/acceptance`` and ``constructs`` on the path):

- ``replay FILE...``: replay recordings on the emulator and print every difference
  (exit 1 when a difference is not in the recording's ``accepted_differences``);
- ``cleanup RUN_ID``: on the account of the usual AWS credentials, delete what an interrupted
  run left: its stacks (``OspAcc<run id>-*``, newest first) and the packages named
  ``osp-acc-<run id>-*`` (dissociated first).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _replay(files: list[str]) -> int:
    from osp_acceptance.replay import load, replay, unaccepted

    status = 0
    for name in files:
        recording = load(Path(name))
        differences = replay(recording)
        left = unaccepted(recording, differences)
        print(f"{name}: {recording['label']}")
        print(f"  {len(differences)} difference(s), {len(left)} not accepted")
        for difference in differences:
            print(f"  {'  ' if difference not in left else '! '}{difference}")
        status = status or (1 if left else 0)
    return status


def _cleanup(run_id: str) -> int:
    import time

    import boto3
    from botocore.exceptions import ClientError
    from osp_acceptance.settings import RunSettings

    settings = RunSettings(target="aws", run_id=run_id)
    cloudformation = boto3.client("cloudformation")
    opensearch = boto3.client("opensearch")
    for stack in reversed(settings.stacks):
        try:
            cloudformation.describe_stacks(StackName=stack)
        except ClientError:
            continue
        print(f"deleting stack {stack}")
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 30, "MaxAttempts": 120}
        )
    found = opensearch.describe_packages(
        Filters=[{"Name": "PackageName", "Value": settings.package_names}]
    )["PackageDetailsList"]
    for package in found:
        if package["PackageStatus"] in ("DELETED", "DELETING"):
            continue
        package_id = package["PackageID"]
        domains = opensearch.list_domains_for_package(PackageID=package_id)
        for association in domains.get("DomainPackageDetailsList", []):
            print(f"dissociating {package_id} from {association['DomainName']}")
            opensearch.dissociate_package(
                PackageID=package_id, DomainName=association["DomainName"]
            )
        while opensearch.list_domains_for_package(PackageID=package_id).get(
            "DomainPackageDetailsList"
        ):
            time.sleep(15)
        print(f"deleting package {package_id} ({package['PackageName']})")
        opensearch.delete_package(PackageID=package_id)
    print("done: check the CloudFormation console for stacks in DELETE_FAILED")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osp_acceptance")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="replay recordings on the emulator")
    replay.add_argument("files", nargs="+")
    cleanup = commands.add_parser("cleanup", help="delete what an interrupted AWS run left")
    cleanup.add_argument("run_id")
    arguments = parser.parse_args(argv)
    if arguments.command == "replay":
        return _replay(arguments.files)
    return _cleanup(arguments.run_id)


if __name__ == "__main__":
    sys.exit(main())
