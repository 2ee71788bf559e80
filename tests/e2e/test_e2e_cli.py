"""The command line: ``deploy`` rehearses a user's cloud assembly, ``demo`` deploys, updates
and deletes a package stack (``make demo`` synthesizes the example app for it). The new-user
path runs as separate commands (``packages add``, ``deploy``, ``deploy`` after an edit,
``status``, ``destroy``) over the state folder, each starting its own local AWS.

Each command starts its own local AWS (one per process at a time), so these tests use no shared
fixture.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import (
    FAKE_ASSEMBLY,
    FIXTURES,
    TEST_TIMELINE,
    PackageStackSpec,
    synth_package_stack,
)

from cdk_opensearch_packages.local.__main__ import main
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly
from cdk_opensearch_packages.local.demo.run import (
    DemoOptions,
    run_demo,
    synth_problems,
    synthesize,
)

CONTEXT_APP = FIXTURES / "context_app"


def test_deploy_then_destroy_a_cloud_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state", str(tmp_path / "state")]
    status = main(["deploy", str(FAKE_ASSEMBLY), "--destroy", "--time-scale", str(1 / 60), *state])

    output = capsys.readouterr().out
    assert status == 0, output
    assert "=> FakeStack: CREATE_COMPLETE" in output
    assert re.search(r"ThingName +one", output)
    assert "=> FakeStack: DELETE_COMPLETE" in output
    assert "FAIL" not in output
    assert "ok   no EventBridge rules or targets left" in output


def test_deploy_reports_a_missing_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["deploy", str(tmp_path), "--state", str(tmp_path / "state")])

    assert status == 1
    assert "is not a cloud assembly (no manifest.json)" in capsys.readouterr().out


def test_synthesize_passes_the_context_like_the_cdk_cli(tmp_path: Path) -> None:
    process = synthesize(CONTEXT_APP / "app.py", tmp_path / "out", {"synonyms_file": "v2.txt"})

    assert process.wait(timeout=60) == 0
    (stack,) = CloudAssembly.load(tmp_path / "out").stacks
    context = json.loads(stack.template["Outputs"]["Context"]["Value"])
    # cdk.json's context, overridden by -c values, and the path metadata the CLI asks for.
    assert context == {
        "@aws-cdk/core:checkSecretUsage": True,
        "aws:cdk:enable-path-metadata": True,
        "synonyms_file": "v2.txt",
    }


def test_demo_deploys_updates_and_deletes_a_package_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "OpenSearchPackagesExample"
    files = tmp_path / "files"
    files.mkdir()
    (files / "v1.txt").write_text("couch, sofa\n", encoding="utf-8")
    (files / "v2.txt").write_text("couch, sofa\nfridge, refrigerator\n", encoding="utf-8")
    v1 = synth_package_stack(tmp_path / "v1", name, PackageStackSpec(dictionary=files / "v1.txt"))
    v2 = synth_package_stack(tmp_path / "v2", name, PackageStackSpec(dictionary=files / "v2.txt"))

    status = run_demo(assemblies=(v1, v2), options=DemoOptions(timeline=TEST_TIMELINE))

    output = capsys.readouterr().out
    assert status == 0, output
    for expected in (
        "=> OpenSearchPackagesExample: CREATE_COMPLETE",
        "AssociatedVersion  v1",
        "=> OpenSearchPackagesExample: UPDATE_COMPLETE",
        "AssociatedVersion  v2",
        "=> OpenSearchPackagesExample: DELETE_COMPLETE",
        "COPYING -> VALIDATING",
        "ok   no packages left",
        "ok   no ResponseURL signature in the Lambda logs",
    ):
        assert expected in output


def _user_app(outdir: Path, dictionary: Path) -> None:
    """A user's app: a domain, a dictionary of its own and a package made elsewhere (looked up
    by name, and imported with its attributes and associated)."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import (
        DictionaryKind,
        OpenSearchPackage,
        PackageSource,
        PackageType,
    )

    # The CDK CLI asks for the construct paths in the template (aws:cdk:path).
    app = aws_cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = aws_cdk.Stack(app, "UserApp")
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name="search",
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    synonyms = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(dictionary)),
        dictionary_kind=DictionaryKind.SYNONYMS,
    )
    association = synonyms.associate(domain)
    aws_cdk.CfnOutput(stack, "AssociatedVersion", value=association.package_version)
    by_name = OpenSearchPackage.from_package_name(stack, "StopWordsByName", "shared-stopwords")
    aws_cdk.CfnOutput(stack, "LookedUpVersion", value=str(by_name.package_version))
    shared = OpenSearchPackage.from_package_attributes(
        stack,
        "StopWords",
        package_id="F123456789",
        package_name="shared-stopwords",
        package_version="v3",
    )
    aws_cdk.CfnOutput(stack, "SharedPath", value=shared.associate(domain).reference_path)
    app.synth()


@pytest.mark.slow
def test_the_new_user_path_as_separate_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state", str(tmp_path / "state")]
    fast = ["--time-scale", str(1 / 60), "--opensearch-phases", "0.3"]
    (tmp_path / "v1.txt").write_text("couch, sofa\n", encoding="utf-8")
    (tmp_path / "v2.txt").write_text("couch, sofa\nfridge, refrigerator\n", encoding="utf-8")
    _user_app(tmp_path / "v1", tmp_path / "v1.txt")
    _user_app(tmp_path / "v2", tmp_path / "v2.txt")

    # A package made elsewhere, then the first deploy.
    added = ["--name", "shared-stopwords", "--type", "TXT-DICTIONARY", "--version", "v3"]
    assert main(["packages", "add", *added, "--id", "F123456789", *state]) == 0
    assert "added package F123456789 shared-stopwords" in capsys.readouterr().out
    assert main(["deploy", str(tmp_path / "v1"), *state, *fast]) == 0
    output = capsys.readouterr().out
    assert "=> UserApp: CREATE_COMPLETE" in output, output
    assert re.search(r"AssociatedVersion +v1", output)
    assert re.search(r"LookedUpVersion +v3", output)
    assert re.search(r"SharedPath +analyzers/F123456789", output)
    # Event lines name the construct beside the logical id, status changes the construct.
    assert re.search(
        r"CREATE_COMPLETE +Custom::OpenSearchPackage +Synonyms\w+ \(Synonyms\)", output
    )
    assert re.search(r"package F\d+ v1 +VALIDATING -> AVAILABLE +\(Synonyms\)", output), output
    # Both associations in one AssociatePackages, labelled with the domain's package set.
    for package in (r"F\d+ v1", "F123456789 v3"):
        line = f"search <- {package} +ASSOCIATING -> ACTIVE +\\(DomainPackages\\)"
        assert re.search(line, output), output

    # An edit, deployed by a later command: an update of the stored stack.
    assert main(["deploy", str(tmp_path / "v2"), *state, *fast]) == 0
    output = capsys.readouterr().out
    assert "=> UserApp: UPDATE_COMPLETE" in output, output
    assert re.search(r"AssociatedVersion +v2", output)
    assert main(["deploy", str(tmp_path / "v2"), *state, *fast]) == 0
    assert "UserApp: no changes" in capsys.readouterr().out

    assert main(["status", *state]) == 0
    output = capsys.readouterr().out
    assert "UserApp  UPDATE_COMPLETE" in output
    assert re.search(
        r"TXT-DICTIONARY  AVAILABLE  available v2 \(versions: v1, v2\)  UserApp/Synonyms", output
    ), output
    assert re.search(
        r"F123456789  shared-stopwords  TXT-DICTIONARY  AVAILABLE  available v3 .*made elsewhere, "
        r"looked up by UserApp/StopWordsByName",
        output,
    )
    # Associations belong to the domain's package set (Custom::OpenSearchDomainPackages).
    assert re.search(r"search <- F123456789 v3  ACTIVE  UserApp/\S*Packages", output), output

    assert main(["destroy", *state, *fast]) == 0
    output = capsys.readouterr().out
    assert "=> UserApp: DELETE_COMPLETE" in output
    assert "FAIL" not in output
    assert main(["status", *state]) == 0
    output = capsys.readouterr().out
    assert "Stacks (0)" in output
    assert "Packages (1)" in output  # the package made elsewhere stays
    assert main(["reset", *state]) == 0
    assert main(["status", *state]) == 0
    assert "nothing deployed yet" in capsys.readouterr().out


def test_an_interrupted_command_is_reported_and_a_running_one_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock = {
        "pid": int(finished.stdout),
        "host": socket.gethostname(),
        "command": "deploy",
        "started": "2026-01-01 10:00:00",
        "operation": "UPDATE",
        "stack": "UserApp",
    }
    (folder / "lock").write_text(json.dumps(lock), encoding="utf-8")

    assert main(["status", "--state", str(folder)]) == 0
    output = capsys.readouterr().out
    assert "was interrupted while UPDATE of stack UserApp was in progress" in output
    assert not (folder / "lock").exists()

    (folder / "lock").write_text(json.dumps({**lock, "pid": os.getppid()}), encoding="utf-8")
    assert main(["destroy", "--state", str(folder)]) == 1
    assert f"is in use by `deploy` (pid {os.getppid()}" in capsys.readouterr().out


def test_synth_problems_are_listed_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        "import sys\n"
        "print('Traceback (most recent call last):', file=sys.stderr)\n"
        "print('  File \"app.py\", line 9, in <module>', file=sys.stderr)\n"
        "print('RuntimeError: ValidationFailedWithErrors: Validation failed with the following "
        "errors:', file=sys.stderr)\n"
        "print('  [S/One] package_name: bad. Use another', file=sys.stderr)\n"
        "print('  [S/Two] description: too long. Shorten it', file=sys.stderr)\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    status = main(["deploy", "--app", f"{sys.executable} {app}", "--state", str(tmp_path / "s")])

    output = capsys.readouterr().out
    assert status == 1
    assert "synthesis failed, 2 problems:\n  [S/One] package_name: bad. Use another\n" in output
    assert "Traceback" not in output


def test_a_missing_local_extra_names_the_install_command() -> None:
    code = (
        "import runpy, sys; sys.modules['boto3'] = None; sys.argv = ['x', 'status'];"
        "runpy.run_module('cdk_opensearch_packages.local', run_name='__main__')"
    )
    import cdk_opensearch_packages

    source_root = str(Path(cdk_opensearch_packages.__file__).resolve().parents[1])
    environment = {**os.environ, "PYTHONPATH": source_root}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=environment,
    )

    assert result.returncode == 2, result.stderr
    assert "pip install 'cdk-opensearch-packages[local]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_packages_made_elsewhere_from_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state", str(tmp_path / "state")]
    seed = tmp_path / "packages.json"
    seed.write_text(
        json.dumps(
            [
                {"name": "shared-synonyms", "type": "TXT-DICTIONARY", "version": "v2"},
                {
                    "name": "shared-plugin",
                    "type": "ZIP-PLUGIN",
                    "engine_version": "OpenSearch_2.19",
                },
            ]
        ),
        encoding="utf-8",
    )

    assert main(["packages", "add", "--from", str(seed), *state]) == 0
    assert main(["packages", "add", "--from", str(seed), *state]) == 0  # again: nothing new
    assert main(["packages", "add", "--name", "Bad_Name", "--type", "TXT-DICTIONARY", *state]) == 1
    assert main(["status", *state]) == 0

    output = capsys.readouterr().out
    assert output.count("added package") == 2
    assert output.count("already there") == 2
    assert "invalid package name 'Bad_Name'" in output
    assert "Packages (2)" in output
    assert re.search(
        r"shared-synonyms  TXT-DICTIONARY  AVAILABLE  available v2 \(versions: v1, v2\)  "
        r"made elsewhere",
        output,
    )


def test_a_construction_error_is_shown_as_its_message() -> None:
    output = (
        "Traceback (most recent call last):\n"
        '  File "app.py", line 7, in <module>\n'
        "    OpenSearchPackage(stack, 'Synonyms', package_type='TXT', ...)\n"
        "ValueError: S/Synonyms: package_type: 'TXT' is invalid: it must be one of "
        "TXT-DICTIONARY, ZIP-PLUGIN. Use a PackageType member\n"
    )

    assert synth_problems(output) == (
        "  S/Synonyms: package_type: 'TXT' is invalid: it must be one of TXT-DICTIONARY, "
        "ZIP-PLUGIN. Use a PackageType member"
    )
    assert synth_problems("no idea\n") == "no idea"
