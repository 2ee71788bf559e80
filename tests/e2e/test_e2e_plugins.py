"""A third-party plugin with its license and configuration, end to end on the local emulation.

AWS's recipe (developer guide, "Installing third-party plugins"): ONE AssociatePackages call, the
plugin first, the license and configuration packages each listing the plugin as their
prerequisite. ``plugin.associate(domain, license=..., configuration=...)`` does exactly that,
next to the stack's dictionaries; a change of two packages is one more call; deleting the stack
one DissociatePackages (which takes the license and configuration with the plugin). The
provider must be right whether the emulated domain runs a batch as one operation or as one per
package (AWS documents neither).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from e2e_support import FIXTURES

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly

HELLO = FIXTURES.parent.parent / "fixtures" / "files" / "plugins" / "hello"
CONFIG = FIXTURES.parent.parent / "fixtures" / "files" / "config" / "plugin-config.json"
DOMAIN = "plugins"
OLD_DOMAIN = "old-engine"


def _plugin_zip(directory: Path) -> Path:
    """The ``hello`` fixture plugin: its descriptor, LICENSE.txt and a jar with its class."""
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("org/example/hello/HelloPlugin.class", b"\xca\xfe\xba\xbe")
    path = directory / "hello-1.0.0.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("plugin-descriptor.properties", "LICENSE.txt"):
            archive.writestr(name, (HELLO / name).read_bytes())
        archive.writestr("hello-1.0.0.jar", jar.getvalue())
    return path


def _synth(
    outdir: Path, stack_name: str, plugin: Path, license_file: Path, dictionary: Path
) -> CloudAssembly:
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import (
        OpenSearchPackage,
        PackageConfiguration,
        PackageSource,
        PackageType,
        RequirementLevel,
    )

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=DOMAIN,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_asset(str(license_file)),
    )
    config_package = OpenSearchPackage(
        stack,
        "Config",
        package_type=PackageType.PACKAGE_CONFIG,
        source=PackageSource.from_asset(str(CONFIG)),
    )
    hello = OpenSearchPackage(
        stack,
        "Hello",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_asset(str(plugin)),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            configuration_requirement=RequirementLevel.REQUIRED,
            license_filepath="LICENSE.txt",
        ),
    )
    synonyms = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(dictionary)),
    )
    on_domain = synonyms.associate(domain)
    association = hello.associate(domain, license=license_package, configuration=config_package)
    assert association.license is not None
    aws_cdk.CfnOutput(stack, "HelloId", value=hello.package_id)
    aws_cdk.CfnOutput(stack, "LicenseId", value=license_package.package_id)
    aws_cdk.CfnOutput(stack, "ConfigId", value=config_package.package_id)
    aws_cdk.CfnOutput(stack, "SynonymsId", value=synonyms.package_id)
    aws_cdk.CfnOutput(stack, "HelloVersion", value=association.package_version)
    aws_cdk.CfnOutput(stack, "LicenseVersion", value=association.license.package_version)
    aws_cdk.CfnOutput(stack, "SynonymsPath", value=on_domain.reference_path)
    app.synth()
    return CloudAssembly.load(outdir)


def _domain_calls(aws: LocalAws, since: int) -> list[tuple[str, list[str]]]:
    assert aws.opensearch is not None
    calls = []
    for call in aws.opensearch.calls()[since:]:
        if call.operation in ("AssociatePackages", "DissociatePackages") and call.applied:
            listed = (call.params or {})["PackageList"]
            ids = [item if isinstance(item, str) else item["PackageID"] for item in listed]
            calls.append((call.operation, ids))
    return calls


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["one-operation", "per-package"])
def test_a_third_party_plugin_is_associated_updated_and_removed_as_aws_documents(
    aws: LocalAws, tmp_path: Path, mode: str
) -> None:
    assert aws.opensearch is not None
    aws.opensearch.batch_mode = mode
    stack = f"Plugin{uuid.uuid4().hex[:8]}"
    plugin = _plugin_zip(tmp_path)
    license_v1 = _write(tmp_path / "v1" / "license.txt", "licensed to: search team\nkey: 1111\n")
    license_v2 = _write(tmp_path / "v2" / "license.txt", "licensed to: search team\nkey: 2222\n")
    synonyms_v1 = _write(tmp_path / "v1" / "synonyms.txt", "tv, television\n")
    synonyms_v2 = _write(tmp_path / "v2" / "synonyms.txt", "tv, television, telly\n")
    calls_before = len(aws.opensearch.calls())
    operations_before = len(aws.opensearch.domain_operations())

    created = aws.cloudformation.deploy(
        _synth(tmp_path / "o1", stack, plugin, license_v1, synonyms_v1), stack
    )

    assert created.status == "CREATE_COMPLETE", created.describe()
    out = created.outputs
    hello, license_id, config_id = out["HelloId"], out["LicenseId"], out["ConfigId"]
    # One call: the plugin first, its license and configuration listing it as prerequisite.
    assert _domain_calls(aws, calls_before) == [
        ("AssociatePackages", [out["SynonymsId"], hello, license_id, config_id])
    ]
    associated = {
        a["PackageID"]: a for a in aws.opensearch.associations() if a["DomainName"] == DOMAIN
    }
    assert {a["DomainPackageStatus"] for a in associated.values()} == {"ACTIVE"}
    assert "PrerequisitePackageIDList" not in associated[hello]
    assert associated[license_id]["PrerequisitePackageIDList"] == [hello]
    assert associated[config_id]["PrerequisitePackageIDList"] == [hello]
    assert out["SynonymsPath"] == f"analyzers/{out['SynonymsId']}"
    expected_operations = 1 if mode == "one-operation" else 4
    assert len(aws.opensearch.domain_operations()) - operations_before == expected_operations

    # A new license and a new dictionary: one more call with both; the plugin is not touched.
    calls_before = len(aws.opensearch.calls())
    operations_before = len(aws.opensearch.domain_operations())
    updated = aws.cloudformation.deploy(
        _synth(tmp_path / "o2", stack, plugin, license_v2, synonyms_v2), stack
    )

    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    assert (out["LicenseVersion"], updated.outputs["LicenseVersion"]) == ("v1", "v2")
    assert updated.outputs["HelloVersion"] == out["HelloVersion"]
    assert _domain_calls(aws, calls_before) == [
        ("AssociatePackages", [out["SynonymsId"], license_id])
    ]
    expected_operations = 1 if mode == "one-operation" else 2
    assert len(aws.opensearch.domain_operations()) - operations_before == expected_operations

    calls_before = len(aws.opensearch.calls())
    deleted = aws.cloudformation.delete(stack)

    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    [(operation, ids)] = _domain_calls(aws, calls_before)
    assert operation == "DissociatePackages"
    assert set(ids) == {out["SynonymsId"], hello, license_id, config_id}
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}


def _synth_failing(outdir: Path, stack_name: str, dictionary: Path, plugin: Path | None) -> Any:
    """A dictionary on a domain given by name; with ``plugin``, a plugin for another engine."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    synonyms = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(dictionary)),
    )
    synonyms.associate(OLD_DOMAIN)
    if plugin is not None:
        hello = OpenSearchPackage(
            stack,
            "Hello",
            package_type=PackageType.ZIP_PLUGIN,
            package_name="hello-plugin",
            source=PackageSource.from_asset(str(plugin)),
            engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        )
        hello.associate(OLD_DOMAIN)
    app.synth()
    return CloudAssembly.load(outdir)


def test_a_failed_association_fails_the_update_and_the_rollback_restores_the_set(
    aws: LocalAws, tmp_path: Path
) -> None:
    assert aws.opensearch is not None
    # The domain runs another engine version than the plugin's: the plugin ends
    # ASSOCIATION_FAILED (the synth check cannot see the engine of a domain given by name).
    aws.opensearch.register_domain(OLD_DOMAIN, "OpenSearch_1.3")
    stack = f"Rollback{uuid.uuid4().hex[:8]}"
    v1 = _write(tmp_path / "v1" / "synonyms.txt", "tv, television\n")
    v2 = _write(tmp_path / "v2" / "synonyms.txt", "tv, television, telly\n")
    created = aws.cloudformation.deploy(_synth_failing(tmp_path / "o1", stack, v1, None), stack)
    assert created.status == "CREATE_COMPLETE", created.describe()

    failed = aws.cloudformation.deploy(
        _synth_failing(tmp_path / "o2", stack, v2, _plugin_zip(tmp_path)), stack
    )

    assert failed.status == "UPDATE_ROLLBACK_COMPLETE", failed.describe()
    assert "status ASSOCIATION_FAILED" in failed.reason
    assert "hello-plugin" in failed.reason
    assert "is built for OpenSearch_2.19" in failed.reason
    # Exactly the previous set: the dictionary, no plugin (dissociated, then deleted).
    on_domain = [a for a in aws.opensearch.associations() if a["DomainName"] == OLD_DOMAIN]
    assert [(a["PackageType"], a["DomainPackageStatus"]) for a in on_domain] == [
        ("TXT-DICTIONARY", "ACTIVE")
    ]
    assert not [p for p in aws.opensearch.packages() if p["PackageType"] == "ZIP-PLUGIN"]

    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}
    aws.opensearch.unregister_domain(OLD_DOMAIN)
