"""Synth-time checks of the local files given to ``PackageSource.from_asset``.

The service only says a package file is bad after the upload, as VALIDATION_FAILED, and the
engine only when a domain or an index tries to use it. These checks read the file before
anything is deployed and report what the service or the engine would reject or misread:

- every type: the file exists, is a regular file (not a directory) and is readable;
- TXT-DICTIONARY: UTF-8 without byte-order mark, not empty, a warning above
  :data:`DICTIONARY_HEAP_WARNING_BYTES` (dictionaries live in JVM heap); a binary dictionary
  (``dictionary_kind="BINARY"``, e.g. a compiled Sudachi dictionary) only not empty; synonym files
  (``dictionary_kind="SYNONYMS"``) rule by rule as Lucene's Solr synonym parser reads them, stop
  word lists (``"STOPWORDS"``) line by line as OpenSearch loads them, and the user dictionaries
  of kuromoji (``"KUROMOJI_USER_DICTIONARY"``) and nori (``"NORI_USER_DICTIONARY"``) as
  OpenSearch and Lucene's ``UserDictionary`` read them;
- ZIP-PLUGIN: a readable zip with ``plugin-descriptor.properties`` at its root, whose required
  properties are present and whose engine version matches the package's, a jar holding the
  plugin class, and the license file named by ``LicenseFilepath``;
- PACKAGE-LICENSE, PACKAGE-CONFIG (and any other type): not empty.

Example::

    findings = check_package_file(
        "dictionaries/synonyms.txt",
        package_type="TXT-DICTIONARY",
        engine_version=None,
        dictionary_kind="SYNONYMS",
        license_filepath=None,
    )
    errors = [finding.message for finding in findings if finding.severity == "error"]
"""

from __future__ import annotations

from cdk_opensearch_packages.checks.findings import FileFinding, make_finding
from cdk_opensearch_packages.checks.lines import read_regular_file
from cdk_opensearch_packages.checks.plugin_zip import check_plugin_zip
from cdk_opensearch_packages.checks.text import (
    DICTIONARY_HEAP_WARNING_BYTES,
    check_text_dictionary,
)

__all__ = ["DICTIONARY_HEAP_WARNING_BYTES", "FileFinding", "check_package_file"]


def check_package_file(
    path: str,
    *,
    package_type: str,
    engine_version: str | None,
    dictionary_kind: str | None,
    license_filepath: str | None,
    synonym_tokenizer: str | None = None,
) -> list[FileFinding]:
    """Check a local package file before it is uploaded.

    Pure: reads the file, never raises for a bad file (only for a bug), returns the findings.

    :param path: the file as the user gave it; every message starts with it.
    :param package_type: the API string: ``"TXT-DICTIONARY"``, ``"ZIP-PLUGIN"``,
        ``"PACKAGE-LICENSE"`` or ``"PACKAGE-CONFIG"``; another string gets the checks every
        package file gets (exists, regular, readable, not empty).
    :param engine_version: ``"OpenSearch_X.Y"`` or ``"Elasticsearch_X.Y"``: a plugin's
        descriptor must be built for it; ``None`` skips that comparison.
    :param dictionary_kind: ``"SYNONYMS"``, ``"STOPWORDS"``, ``"KUROMOJI_USER_DICTIONARY"``,
        ``"NORI_USER_DICTIONARY"``, ``"USER_DICTIONARY"`` (encoding only), ``"BINARY"`` (none of
        the text checks: the file need not be text) or ``None`` (TXT-DICTIONARY only): which
        format rules apply beyond UTF-8 text.
    :param license_filepath: ``PackageConfiguration.LicenseFilepath`` (ZIP-PLUGIN only): a path
        inside the zip that must be a file.
    :param synonym_tokenizer: ``"STANDARD"`` or ``"WHITESPACE"`` (``"SYNONYMS"`` only): the
        tokenizer of the analyzers using the file, which decides whether a term it makes no
        token of (``-``, ``&``) fails the filter. ``None`` (unknown): an error only where every
        tokenizer fails, a warning where the standard tokenizer alone does.
    :returns: errors (the file would be rejected or misread) and warnings, in file order.
    """
    data, findings = read_regular_file(path)
    if data is None:
        return findings
    if package_type == "TXT-DICTIONARY":
        return check_text_dictionary(
            path, data, dictionary_kind, synonym_tokenizer=synonym_tokenizer
        )
    if not data:
        return [
            make_finding(
                "error",
                path,
                f"the file is empty, but a {package_type} package needs content",
                "point to the finished file",
            )
        ]
    if package_type == "ZIP-PLUGIN":
        return check_plugin_zip(
            path, engine_version=engine_version, license_filepath=license_filepath, data=data
        )
    return []
