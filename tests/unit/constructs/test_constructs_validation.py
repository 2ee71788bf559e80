"""Synth-time validation: every rule fails with the path, the property, the value and a fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from aws_cdk import aws_kms, aws_opensearchservice, aws_s3
from construct_stacks import BUCKET_NAME
from synth_problems import synth_fails, validation_problems

from cdk_opensearch_packages import (
    DictionaryKind,
    OpenSearchPackage,
    PackageConfiguration,
    PackageSource,
    PackageType,
    RequirementLevel,
    SynonymTokenizer,
)
from cdk_opensearch_packages import package as package_module
from cdk_opensearch_packages.checks import props as validation
from cdk_opensearch_packages.checks.files import FileFinding


def bucket(stack: aws_cdk.Stack, name: str = BUCKET_NAME) -> aws_s3.IBucket:
    return aws_s3.Bucket.from_bucket_name(stack, f"Bucket-{name[:20]}", name)


def config(stack: aws_cdk.Stack, **props: Any) -> OpenSearchPackage:
    """A package with valid defaults (a PACKAGE-CONFIG from a bucket), overridden by ``props``."""
    arguments: dict[str, Any] = {"package_type": PackageType.PACKAGE_CONFIG, **props}
    if "source" not in arguments:
        arguments["source"] = PackageSource.from_bucket(bucket(stack), "config.json")
    return OpenSearchPackage(stack, "Package", **arguments)


def plugin(stack: aws_cdk.Stack, **props: Any) -> OpenSearchPackage:
    arguments: dict[str, Any] = {
        "package_type": PackageType.ZIP_PLUGIN,
        "engine_version": "OpenSearch_2.19",
        **props,
    }
    if "source" not in arguments:
        arguments["source"] = PackageSource.from_bucket(bucket(stack), "plugin.zip")
    return OpenSearchPackage(stack, "Plugin", **arguments)


def expect(prop: str, value: str, *fragments: str) -> str:
    """The pattern an error must match: path, property, the bad value, then rule and fix."""
    shown = repr(value)[1:-1]  # as the message shows it (repr), e.g. a newline as \\n
    pattern = rf"^Fresh/[\w/-]+: {re.escape(prop)}: .*{re.escape(shown)}.* is invalid: "
    return pattern + "".join(f"(?s:.*){re.escape(fragment)}" for fragment in fragments)


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 257, "Synonyms", "1synonyms", "syn_onyms", "syn onyms", "-synonyms", "synonyms\n"],
)
def test_fails_invalid_package_name(stack: aws_cdk.Stack, name: str) -> None:
    with synth_fails(stack, expect("package_name", name, "[a-z][a-z0-9-]+", "Use")):
        config(stack, package_name=name)


@pytest.mark.parametrize("name", ["abc", "a" * 28, "a" * 29, "a" * 256, "product-synonyms-2"])
def test_valid_package_names_pass(stack: aws_cdk.Stack, name: str) -> None:
    assert config(stack, package_name=name).node.id == "Package"


def test_unresolved_values_are_not_validated(stack: aws_cdk.Stack) -> None:
    name = aws_cdk.CfnParameter(stack, "Name").value_as_string
    engine = aws_cdk.CfnParameter(stack, "Engine").value_as_string
    key = aws_cdk.CfnParameter(stack, "Key").value_as_string
    plugin(
        stack,
        package_name=name,
        description=aws_cdk.CfnParameter(stack, "Description").value_as_string,
        engine_version=engine,
        source=PackageSource.from_bucket(bucket(stack), key),
        timeout=aws_cdk.Duration.seconds(
            aws_cdk.CfnParameter(stack, "Timeout", type="Number").value_as_number
        ),
    )


def test_package_type_accepts_the_api_string(stack: aws_cdk.Stack) -> None:
    assert config(stack, package_type="PACKAGE-LICENSE").package_type is PackageType.PACKAGE_LICENSE


def test_fails_unknown_package_type(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("package_type", "TXT", "ZIP-PLUGIN", "Use")):
        config(stack, package_type="TXT")


def test_fails_description_too_long(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("description", "xxx", "1025", "maximum is 1024")):
        config(stack, description="x" * 1025)


def test_fails_plugin_without_engine_version(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("engine_version", "None", "required", "ZIP")):
        plugin(stack, engine_version=None)


@pytest.mark.parametrize(
    "engine", ["OpenSearch 2.19", "opensearch_2.19", "OpenSearch_2", "2.19", "OpenSearch_2.19\n"]
)
def test_fails_plugin_engine_version_pattern(stack: aws_cdk.Stack, engine: str) -> None:
    with synth_fails(stack, expect("engine_version", engine, "OpenSearch_X.Y")):
        plugin(stack, engine_version=engine)


@pytest.mark.parametrize(
    "license_filepath", ["my license.txt", "../LICENSE.txt", "a/../b.txt", "/LICENSE", "x" * 257]
)
def test_fails_license_filepath_outside_the_model(
    stack: aws_cdk.Stack, license_filepath: str
) -> None:
    configuration = PackageConfiguration(
        license_requirement=RequirementLevel.REQUIRED,
        configuration_requirement=RequirementLevel.NONE,
        license_filepath=license_filepath,
    )
    with synth_fails(
        stack,
        expect("configuration.license_filepath", license_filepath[:30], "relative path", "e.g."),
    ):
        plugin(stack, configuration=configuration)


@pytest.mark.parametrize("license_filepath", ["LICENSE.txt", "config/license-2.txt", ".license"])
def test_license_filepaths_in_the_model_pass(stack: aws_cdk.Stack, license_filepath: str) -> None:
    configuration = PackageConfiguration(
        license_requirement=RequirementLevel.REQUIRED,
        configuration_requirement=RequirementLevel.NONE,
        license_filepath=license_filepath,
    )
    assert plugin(stack, configuration=configuration).node.id == "Plugin"


def test_engine_version_accepts_the_cdk_enum(stack: aws_cdk.Stack) -> None:
    package = plugin(stack, engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_17)
    assert package.engine_version == "OpenSearch_2.17"
    assert plugin(aws_cdk.Stack(aws_cdk.App(), "Es"), engine_version="Elasticsearch_7.10")


def test_fails_engine_version_for_a_dictionary(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("engine_version", "OpenSearch_2.19", "only", "ZIP-PLUGIN")):
        config(stack, package_type=PackageType.TXT_DICTIONARY, engine_version="OpenSearch_2.19")


def test_fails_configuration_for_a_dictionary(stack: aws_cdk.Stack) -> None:
    configuration = PackageConfiguration(
        license_requirement=RequirementLevel.NONE,
        configuration_requirement=RequirementLevel.OPTIONAL,
    )
    with synth_fails(stack, expect("configuration", "", "only", "ZIP-PLUGIN")):
        config(stack, configuration=configuration)


def test_fails_encryption_key_for_a_license(stack: aws_cdk.Stack) -> None:
    key = aws_kms.Key(stack, "Key")
    with synth_fails(stack, expect("encryption_key", "Fresh/Key", "ZIP-PLUGIN")):
        config(stack, package_type=PackageType.PACKAGE_LICENSE, encryption_key=key)


def test_fails_dictionary_kind_for_a_plugin(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("dictionary_kind", "SYNONYMS", "TXT-DICTIONARY")):
        plugin(stack, dictionary_kind=DictionaryKind.SYNONYMS)


def test_fails_snapshot_removal_policy(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("removal_policy", "SNAPSHOT", "RETAIN")):
        config(stack, removal_policy=aws_cdk.RemovalPolicy.SNAPSHOT)


@pytest.mark.parametrize(
    "timeout",
    [
        aws_cdk.Duration.seconds(0),
        aws_cdk.Duration.seconds(3601),
        aws_cdk.Duration.hours(2),
        aws_cdk.Duration.millis(1500),
    ],
)
def test_fails_timeout_out_of_range(stack: aws_cdk.Stack, timeout: aws_cdk.Duration) -> None:
    with synth_fails(stack, expect("timeout", "", "1 to 3600", "ServiceTimeout")):
        config(stack, timeout=timeout)


def test_fails_association_timeout_out_of_range(stack: aws_cdk.Stack) -> None:
    package = config(stack)
    with synth_fails(stack, r"^Fresh/Package/Associationmy-domain: timeout: "):
        package.associate("my-domain", timeout=aws_cdk.Duration.hours(2))


@pytest.mark.parametrize("name", ["ab", "b" * 64])
def test_fails_bucket_name_length(name: str) -> None:
    # aws_s3.Bucket.from_bucket_name rejects these names first; an IBucket implemented
    # elsewhere may not, so the rule is checked directly.
    with pytest.raises(ValueError, match=r"^Fresh/Package: source bucket name: .* 3 to 63"):
        validation.validate_bucket_location("Fresh/Package", name, "config.json")
    validation.validate_bucket_location("Fresh/Package", "abc", "config.json")


@pytest.mark.parametrize("key", ["", "k" * 1025])
def test_fails_object_key_length(stack: aws_cdk.Stack, key: str) -> None:
    source = PackageSource.from_bucket(bucket(stack), key)
    with synth_fails(stack, expect("source key", key[:20], "1 to 1024")):
        config(stack, source=source)


def test_fails_asset_that_is_a_directory(stack: aws_cdk.Stack, tmp_path: Path) -> None:
    with synth_fails(stack, r"^Fresh/Package: source: .* is a directory"):
        config(stack, source=PackageSource.from_asset(str(tmp_path)))


def test_fails_asset_that_does_not_exist(stack: aws_cdk.Stack, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    with synth_fails(stack, r"^Fresh/Package: source: .*missing.txt' does not exist"):
        config(stack, source=PackageSource.from_asset(missing))


def test_fails_imported_package_id_pattern(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("package_id", "pkg-XYZ", "pkg-")):
        OpenSearchPackage.from_package_id(stack, "Imported", "pkg-XYZ")
    for valid in ("F123", "G7", "pkg-0a1b"):
        OpenSearchPackage.from_package_id(stack, valid, valid)


def test_fails_plugin_on_a_domain_of_another_engine_version(stack: aws_cdk.Stack) -> None:
    domain = aws_opensearchservice.Domain(
        stack, "Domain", version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19
    )
    package = plugin(stack, engine_version="OpenSearch_2.17")
    with synth_fails(
        stack,
        expect("domain", "Fresh/Domain", "OpenSearch_2.17", "OpenSearch_2.19", "Create"),
    ):
        package.associate(domain)


def test_plugin_on_a_domain_of_the_same_engine_version(stack: aws_cdk.Stack) -> None:
    domain = aws_opensearchservice.Domain(
        stack, "Domain", version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_17
    )
    association = plugin(stack, engine_version="OpenSearch_2.17").associate(domain)
    assert association.node.path == "Fresh/Plugin/AssociationDomain"


@pytest.mark.parametrize("name", ["My-Domain", "ab", "arn:aws:es:eu-west-1:1:domain/x"])
def test_fails_invalid_domain_name(stack: aws_cdk.Stack, name: str) -> None:
    with synth_fails(stack, expect("domain", name[:10], "3 to 28", "Pass")):
        config(stack).associate(name, id="Association")


def test_fails_associating_twice_with_one_domain(stack: aws_cdk.Stack) -> None:
    package = config(stack)
    package.associate("my-domain")
    with synth_fails(stack, expect("domain", "my-domain", "already associated")):
        package.associate("my-domain")


def test_fails_default_id_for_a_domain_name_token(stack: aws_cdk.Stack) -> None:
    name = aws_cdk.CfnParameter(stack, "DomainName").value_as_string
    package = config(stack)
    with synth_fails(stack, r"^Fresh/Package: domain: .*Pass id="):
        package.associate(name)
    assert package.associate(name, id="ByParameter").node.id == "ByParameter"


def test_file_check_errors_fail_with_the_path(
    stack: aws_cdk.Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def check(path: str, **kwargs: Any) -> list[FileFinding]:
        seen.update(kwargs, path=path)
        return [
            FileFinding("error", f"{path}:2: first problem"),
            FileFinding("warning", f"{path}: just a warning"),
            FileFinding("error", f"{path}:5: second problem"),
        ]

    monkeypatch.setattr(package_module, "check_package_file", check)
    file = tmp_path / "synonyms.txt"
    file.write_text("a, b\n", encoding="utf-8")
    config(
        stack,
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(file)),
        dictionary_kind=DictionaryKind.SYNONYMS,
    )
    assert validation_problems(stack) == [
        f"Fresh/Package: source: {file}:2: first problem",
        f"Fresh/Package: source: {file}:5: second problem",
    ]
    assert seen == {
        "path": str(file),
        "package_type": "TXT-DICTIONARY",
        "engine_version": None,
        "dictionary_kind": "SYNONYMS",
        "license_filepath": None,
        "synonym_tokenizer": "STANDARD",
    }


def test_file_check_warnings_become_annotations(
    stack: aws_cdk.Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def check(path: str, **kwargs: Any) -> list[FileFinding]:
        seen.update(kwargs)
        return [FileFinding("warning", f"{path}: large dictionary")]

    monkeypatch.setattr(package_module, "check_package_file", check)
    file = tmp_path / "plugin.zip"
    file.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    package = plugin(
        stack,
        source=PackageSource.from_asset(str(file)),
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            configuration_requirement=RequirementLevel.NONE,
            license_filepath="LICENSE.txt",
        ),
    )
    assert seen == {
        "package_type": "ZIP-PLUGIN",
        "engine_version": "OpenSearch_2.19",
        "dictionary_kind": None,
        "license_filepath": "LICENSE.txt",
        "synonym_tokenizer": "STANDARD",
    }
    warnings = [entry.data for entry in package.node.metadata if entry.type == "aws:cdk:warning"]
    assert warnings == [f"{file}: large dictionary [ack: cdk-opensearch-packages:PackageFile]"]


def test_bucket_sources_are_not_file_checked(
    stack: aws_cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check(path: str, **kwargs: Any) -> list[FileFinding]:
        raise AssertionError(f"checked {path}")

    monkeypatch.setattr(package_module, "check_package_file", check)
    config(stack)


def test_pure_token_test_agrees_with_aws_cdk(stack: aws_cdk.Stack) -> None:
    # checks/ cannot import aws_cdk: its is_unresolved reads aws-cdk's token encodings itself.
    bucket_arn = aws_s3.Bucket(stack, "TokenBucket").bucket_arn
    values: list[object] = [
        bucket_arn,
        f"prefix-{bucket_arn}",
        aws_cdk.Token.as_list(bucket_arn),
        aws_cdk.Token.as_number(bucket_arn),
        aws_cdk.Token.as_any(bucket_arn),
        aws_cdk.Aws.ACCOUNT_ID,
        "plain",
        ["a", "b"],
        3600,
        -1.5e289,
        None,
    ]
    for value in values:
        assert validation.is_unresolved(value) == aws_cdk.Token.is_unresolved(value), value
    assert sum(validation.is_unresolved(value) for value in values) == 6


def _named_plugin(stack: aws_cdk.Stack, id: str, engine: str, name: str = "analysis-demo") -> Any:
    return OpenSearchPackage(
        stack,
        id,
        package_type=PackageType.ZIP_PLUGIN,
        package_name=name,
        engine_version=engine,
        source=PackageSource.from_bucket(bucket(stack, f"bucket-{id.lower()}"), f"{id}.zip"),
    )


def test_plugin_packages_of_one_name_may_differ_in_engine_version(stack: aws_cdk.Stack) -> None:
    """AWS's upgrade guide: a plugin package with the same name for the new engine version."""
    _named_plugin(stack, "Plugin217", "OpenSearch_2.17")
    _named_plugin(stack, "Plugin219", "OpenSearch_2.19")


def test_fails_two_plugin_packages_of_one_name_and_engine_version(stack: aws_cdk.Stack) -> None:
    _named_plugin(stack, "First", "OpenSearch_2.19")
    with synth_fails(
        stack,
        expect("package_name", "analysis-demo", "Fresh/First", "unique per engine version"),
    ):
        _named_plugin(stack, "Second", "OpenSearch_2.19")


def test_fails_a_dictionary_name_used_twice(stack: aws_cdk.Stack) -> None:
    config(stack, package_name="shared-name")
    with synth_fails(stack, expect("package_name", "shared-name", "unique in the")):
        _named_plugin(stack, "Plugin", "OpenSearch_2.19", name="shared-name")


def test_a_binary_dictionary_is_not_checked_as_text(stack: aws_cdk.Stack, tmp_path: Path) -> None:
    """Compiled Sudachi dictionaries are TXT-DICTIONARY packages: no UTF-8 error for them."""
    path = tmp_path / "system.dic"
    path.write_bytes(bytes(range(256)) * 8)
    OpenSearchPackage(
        stack,
        "Sudachi",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(path)),
        dictionary_kind=DictionaryKind.BINARY,
    )
    OpenSearchPackage(
        stack,
        "AsText",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(path)),
    )
    problems = validation_problems(stack)
    assert any("AsText" in problem and "invalid UTF-8" in problem for problem in problems)
    assert not any("Sudachi" in problem for problem in problems), problems


def test_every_problem_of_the_app_is_reported_in_one_synth(stack: aws_cdk.Stack) -> None:
    config(stack, package_name="Bad_Name", description="x" * 1025)
    OpenSearchPackage(
        stack,
        "Other",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_bucket(bucket(stack, "other-bucket"), "b.txt"),
        engine_version="OpenSearch_2.19",
    )
    OpenSearchPackage.from_package_attributes(
        stack, "Imported", package_id="F123", package_version="3"
    )

    problems = validation_problems(stack)

    assert [problem.split(" is invalid")[0] for problem in problems] == [
        "Fresh/Package: package_name: 'Bad_Name'",
        "Fresh/Package: description: " + repr("x" * 40 + "..."),
        "Fresh/Other: engine_version: 'OpenSearch_2.19'",
        "Fresh/Imported: package_version: '3'",
    ]


@pytest.mark.parametrize(
    ("attributes", "pattern"),
    [
        ({"package_id": "F1", "package_name": "Bad_Name"}, expect("package_name", "Bad_Name")),
        ({"package_id": "F1", "package_version": "three"}, expect("package_version", "three")),
        ({"package_id": "nope"}, expect("package_id", "nope", "pkg-")),
        ({"package_id": "F1", "engine_version": "2.19"}, expect("engine_version", "2.19")),
    ],
)
def test_fails_imported_attributes(
    stack: aws_cdk.Stack, attributes: dict[str, str], pattern: str
) -> None:
    with synth_fails(stack, pattern):
        OpenSearchPackage.from_package_attributes(stack, "Imported", **attributes)


def test_fails_synonym_tokenizer_without_synonyms(stack: aws_cdk.Stack, tmp_path: Path) -> None:
    file = tmp_path / "stopwords.txt"
    file.write_text("a\nthe\n", encoding="utf-8")
    with synth_fails(stack, expect("synonym_tokenizer", "WHITESPACE", "synonym")):
        config(
            stack,
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(file)),
            dictionary_kind=DictionaryKind.STOPWORDS,
            synonym_tokenizer=SynonymTokenizer.WHITESPACE,
        )


def _synonyms(stack: aws_cdk.Stack, file: Path, **props: Any) -> OpenSearchPackage:
    return config(
        stack,
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(file)),
        dictionary_kind=DictionaryKind.SYNONYMS,
        **props,
    )


def test_a_term_the_standard_tokenizer_drops_fails_the_synth_by_default(
    stack: aws_cdk.Stack, tmp_path: Path
) -> None:
    file = tmp_path / "synonyms.txt"
    file.write_text("and, &\n", encoding="utf-8")
    with synth_fails(stack, r"^Fresh/Package: source: .*'&'.*standard tokenizer"):
        _synonyms(stack, file)


def test_with_the_whitespace_tokenizer_such_a_term_is_a_warning(
    stack: aws_cdk.Stack, tmp_path: Path
) -> None:
    file = tmp_path / "synonyms.txt"
    file.write_text("and, &\n", encoding="utf-8")
    package = _synonyms(stack, file, synonym_tokenizer=SynonymTokenizer.WHITESPACE)
    warnings = [entry.data for entry in package.node.metadata if entry.type == "aws:cdk:warning"]
    assert len(warnings) == 1 and "'&'" in warnings[0] and "standard tokenizer" in warnings[0]
    assert warnings[0].endswith("[ack: cdk-opensearch-packages:PackageFile]")


@pytest.mark.parametrize(
    ("kind", "content", "problem"),
    [
        (DictionaryKind.KUROMOJI_USER_DICTIONARY, '"東京,東京,トウキョウ,名詞\n', "odd number"),
        (DictionaryKind.NORI_USER_DICTIONARY, "세종 세종 시\n", "longer together"),
    ],
)
def test_user_dictionary_errors_fail_the_synth(
    stack: aws_cdk.Stack, tmp_path: Path, kind: DictionaryKind, content: str, problem: str
) -> None:
    file = tmp_path / "userdict.txt"
    file.write_text(content, encoding="utf-8")
    with synth_fails(stack, rf"^Fresh/Package: source: {re.escape(str(file))}:1: .*{problem}"):
        config(
            stack,
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(file)),
            dictionary_kind=kind,
        )
