"""Synth-time checks of package files (``check_package_file``): good files pass, each rule fails.

Pure functions over small files: fixtures under ``tests/fixtures/files/``, plus files written to
``tmp_path`` when the bytes matter (byte-order marks, invalid UTF-8, trailing blanks that an
editor could strip) and plugin zips built from the fixture descriptor.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cdk_opensearch_packages.checks import lines
from cdk_opensearch_packages.checks.files import (
    DICTIONARY_HEAP_WARNING_BYTES,
    FileFinding,
    check_package_file,
)
from cdk_opensearch_packages.checks.findings import MAX_FINDINGS_PER_RULE

FILES = Path(__file__).resolve().parents[2] / "fixtures" / "files"
DICTIONARIES = FILES / "dictionaries"
HELLO = FILES / "plugins" / "hello"
DESCRIPTORS = FILES / "plugins" / "descriptors"
HELLO_CLASS = "org/example/hello/HelloPlugin.class"


def check(
    path: Path | str,
    package_type: str = "TXT-DICTIONARY",
    *,
    kind: str | None = None,
    engine: str | None = None,
    license_filepath: str | None = None,
) -> list[FileFinding]:
    return check_package_file(
        str(path),
        package_type=package_type,
        engine_version=engine,
        dictionary_kind=kind,
        license_filepath=license_filepath,
    )


def single(findings: list[FileFinding], severity: str) -> str:
    """The message of the only finding, which must have ``severity``."""
    assert len(findings) == 1, [finding.message for finding in findings]
    assert findings[0].severity == severity, findings[0]
    return findings[0].message


def assert_worded(message: str, where: str, *parts: str) -> None:
    """The message starts with ``where`` (path[:line]: ), holds ``parts`` and ends with a fix."""
    assert message.startswith(f"{where}: "), message
    for part in parts:
        assert part in message, (part, message)
    assert " Fix: " in message and message.endswith("."), message


def write(tmp_path: Path, data: bytes, name: str = "dictionary.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def jar(*class_entries: str) -> bytes:
    """A jar (built in memory) holding ``class_entries``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for entry in class_entries:
            archive.writestr(entry, b"\xca\xfe\xba\xbe")
    return buffer.getvalue()


def plugin_zip(
    tmp_path: Path,
    descriptor: str | None = None,
    *,
    prefix: str = "",
    classes: tuple[str, ...] = (HELLO_CLASS,),
    extra: dict[str, bytes] | None = None,
    name: str = "hello.zip",
) -> Path:
    """A plugin zip: the fixture descriptor (or ``descriptor``), LICENSE.txt and a jar."""
    text = (
        (HELLO / "plugin-descriptor.properties").read_text() if descriptor is None else descriptor
    )
    entries: dict[str, bytes] = {
        "plugin-descriptor.properties": text.encode("latin-1"),
        "LICENSE.txt": (HELLO / "LICENSE.txt").read_bytes(),
        "hello-1.0.0.jar": jar(*classes),
    }
    entries.update(extra or {})
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(prefix + entry, data)
    return path


def descriptor_with(**changes: str | None) -> str:
    """The fixture descriptor with properties replaced (str), added, or removed (None)."""
    lines = (HELLO / "plugin-descriptor.properties").read_text().splitlines()
    kept: list[str] = []
    for line in lines:
        key = line.split("=", 1)[0]
        if key.replace(".", "_") in changes:
            continue
        kept.append(line)
    for key, value in changes.items():
        if value is not None:
            kept.append(f"{key.replace('_', '.')}={value}")
    return "\n".join(kept) + "\n"


def at(path: Path, text: str, key: str) -> str:
    """``<zip>: plugin-descriptor.properties:<line of key>``, as the messages start."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}="):
            return f"{path}: plugin-descriptor.properties:{number}"
    raise AssertionError(f"{key} not in descriptor")


# --- good files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("synonyms.txt", "SYNONYMS"),
        ("synonyms.txt", None),
        ("stopwords.txt", "STOPWORDS"),
        ("user_dictionary.txt", "USER_DICTIONARY"),
        ("user_dictionary.txt", None),
    ],
)
def test_good_dictionaries_yield_no_findings(name: str, kind: str | None) -> None:
    assert check(DICTIONARIES / "good" / name, kind=kind) == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(b"tv, television\r\ncolour => color\r\n", "SYNONYMS", id="crlf"),
        pytest.param(b"tv, television\rcolour => color", "SYNONYMS", id="cr-no-final-newline"),
        pytest.param(b"tv, television\n\n\n", "SYNONYMS", id="empty-lines"),
        pytest.param(b"tv\t,\ttelevision\n", "SYNONYMS", id="tabs-around-terms"),
        pytest.param(b"a\\\\, backslash\n", "SYNONYMS", id="escaped-backslash-at-end-of-term"),
        pytest.param(b"\xf0\x9f\x98\x80, smile\n", "SYNONYMS", id="emoji-term"),
        pytest.param(b"c++, cpp\n", "SYNONYMS", id="symbols-with-letters"),
        pytest.param(b"the\r\n  \r\nof\n", "STOPWORDS", id="stopwords-blank-line-with-spaces"),
        pytest.param(b"  the  \n", "STOPWORDS", id="stopword-trimmed"),
    ],
)
def test_good_dictionary_bytes_yield_no_findings(
    tmp_path: Path, data: bytes, kind: str | None
) -> None:
    assert check(write(tmp_path, data), kind=kind) == []


def test_good_plugin_zip_yields_no_findings(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path)
    assert check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19", license_filepath="LICENSE.txt") == []
    assert check(path, "ZIP-PLUGIN", engine=None) == []


@pytest.mark.parametrize(
    ("opensearch_version", "engine"),
    [
        ("2.19.0", "OpenSearch_2.19"),
        ("2.19.3", "OpenSearch_2.19"),
        ("=2.19.1", "OpenSearch_2.19"),
        ("~2.19.0", "OpenSearch_2.19"),
        ("^2.15.0", "OpenSearch_2.19"),
        ("[2.15.0,3.0.0)", "OpenSearch_2.19"),
        ("(2.18.9,2.19.0]", "OpenSearch_2.19"),
        ("3.1.0", "OpenSearch_3.1"),
    ],
)
def test_good_opensearch_versions_match_the_engine(
    tmp_path: Path, opensearch_version: str, engine: str
) -> None:
    path = plugin_zip(tmp_path, descriptor_with(opensearch_version=opensearch_version))
    assert check(path, "ZIP-PLUGIN", engine=engine) == []


def test_good_descriptor_with_continuations_colons_and_dependencies(tmp_path: Path) -> None:
    text = (DESCRIPTORS / "continuation-and-colons.properties").read_text()
    assert check(plugin_zip(tmp_path, text), "ZIP-PLUGIN", engine="OpenSearch_2.19") == []


def test_good_elasticsearch_plugin(tmp_path: Path) -> None:
    text = (DESCRIPTORS / "elasticsearch.properties").read_text()
    path = plugin_zip(tmp_path, text)
    assert check(path, "ZIP-PLUGIN", engine="Elasticsearch_7.10") == []
    assert check(path, "ZIP-PLUGIN", engine=None) == []


@pytest.mark.parametrize(
    ("path", "package_type"),
    [
        (FILES / "license" / "LICENSE.txt", "PACKAGE-LICENSE"),
        (FILES / "config" / "plugin-config.json", "PACKAGE-CONFIG"),
    ],
)
def test_good_license_and_config_yield_no_findings(path: Path, package_type: str) -> None:
    assert check(path, package_type) == []


def test_good_config_may_be_a_zip(tmp_path: Path) -> None:
    # PACKAGE-CONFIG is not constrained to text: any non-empty file passes.
    assert check(plugin_zip(tmp_path), "PACKAGE-CONFIG") == []


# --- every type: the file itself --------------------------------------------------------------


@pytest.mark.parametrize(
    "package_type", ["TXT-DICTIONARY", "ZIP-PLUGIN", "PACKAGE-LICENSE", "PACKAGE-CONFIG"]
)
def test_fails_missing_file(tmp_path: Path, package_type: str) -> None:
    path = str(tmp_path / "nope.txt")
    message = single(check(path, package_type), "error")
    assert_worded(message, path, "does not exist", "Fix: correct the path")


@pytest.mark.parametrize(
    "package_type", ["TXT-DICTIONARY", "ZIP-PLUGIN", "PACKAGE-LICENSE", "PACKAGE-CONFIG"]
)
def test_fails_directory(tmp_path: Path, package_type: str) -> None:
    message = single(check(tmp_path, package_type), "error")
    assert_worded(message, str(tmp_path), "is a directory", "single file", "Fix: point to the file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_fails_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    message = single(check(fifo), "error")
    assert_worded(message, str(fifo), "not a regular file", "Fix: point to a regular file")


def test_fails_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, b"tv, television\n")
    real_open = open

    def deny(file: str, *args: Any, **kwargs: Any) -> Any:
        if file == str(path):
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    # Permission bits do not stop root (tests may run as root), so the open itself is denied.
    monkeypatch.setattr(lines, "open", deny, raising=False)
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(message, str(path), "cannot be read (Permission denied)", "Fix: make it readable")


@pytest.mark.parametrize("package_type", ["ZIP-PLUGIN", "PACKAGE-LICENSE", "PACKAGE-CONFIG"])
def test_fails_empty_file(tmp_path: Path, package_type: str) -> None:
    path = write(tmp_path, b"", "empty.bin")
    message = single(check(path, package_type), "error")
    assert_worded(message, str(path), "is empty", package_type, "Fix:")


# --- TXT-DICTIONARY: encoding, emptiness, size ------------------------------------------------


def test_fails_empty_dictionary(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(
        message, str(path), "the dictionary is empty", "service rejects", "Fix: put the words"
    )


@pytest.mark.parametrize("kind", [None, "USER_DICTIONARY"])
def test_fails_blank_dictionary_is_only_a_warning(tmp_path: Path, kind: str | None) -> None:
    # The engine accepts a file of blank lines; it just defines nothing.
    path = write(tmp_path, b"   \n\t\n\n")
    message = single(check(path, kind=kind), "warning")
    assert_worded(message, str(path), "only blank lines", "Fix: put the words or rules")


def test_fails_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf# synonyms\ntv, television\n")
    findings = check(path, kind="SYNONYMS")
    assert [finding.severity for finding in findings] == ["error", "warning"], findings
    assert_worded(
        findings[0].message, f"{path}:1", "byte-order mark (EF BB BF)", "U+FEFF", "without BOM"
    )
    # The engine reads the U+FEFF too: the first line is no comment but a one-term rule.
    assert_worded(findings[1].message, f"{path}:1", "single term", "maps nothing")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("tv, television\n".encode("utf-16"), "UTF-16"),
        ("tv, television\n".encode("utf-32"), "UTF-32"),
    ],
)
def test_fails_utf16_or_utf32_file(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = write(tmp_path, data)
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(message, f"{path}:1", f"is {encoding}", "must be UTF-8", "Fix: convert it")


def test_fails_invalid_utf8_shows_line_and_bytes(tmp_path: Path) -> None:
    # "café" written as Latin-1 on line 3, after a CRLF line and a CR line (Java line ends).
    path = write(tmp_path, b"tv, television\r\ncolour => color\rcaf\xe9, cafe\n")
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(
        message,
        f"{path}:3",
        "invalid UTF-8 byte sequence E9",
        "at byte 4 of the line",
        "must be UTF-8 encoded",
        "iconv -f LATIN1 -t UTF-8",
    )


def test_fails_invalid_utf8_in_every_dictionary_kind(tmp_path: Path) -> None:
    path = write(tmp_path, b"ok\n\xffok\xc3\n")
    for kind in (None, "SYNONYMS", "STOPWORDS", "USER_DICTIONARY"):
        findings = check(path, kind=kind)
        assert [finding.severity for finding in findings] == ["error", "error"]
        assert_worded(findings[0].message, f"{path}:2", "FF", "at byte 1 of the line")
        assert_worded(findings[1].message, f"{path}:2", "C3", "at byte 4 of the line")


def test_fails_many_invalid_lines_are_summarized(tmp_path: Path) -> None:
    path = write(tmp_path, b"caf\xe9\n" * 40)
    findings = check(path, kind="STOPWORDS")
    assert len(findings) == MAX_FINDINGS_PER_RULE + 1
    assert all(finding.severity == "error" for finding in findings)
    assert findings[-1].message.startswith(f"{path}: 35 more invalid UTF-8 byte sequences")


def test_fails_nul_characters(tmp_path: Path) -> None:
    path = write(tmp_path, b"tv, television\nco\x00lour => color\n")
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(message, f"{path}:2", "NUL character", "Fix: save the file as UTF-8 text")


def test_fails_large_dictionary_warns_about_heap(tmp_path: Path) -> None:
    line = b"word\n"
    path = write(tmp_path, line * (DICTIONARY_HEAP_WARNING_BYTES // len(line) + 1))
    message = single(check(path, kind="STOPWORDS"), "warning")
    assert_worded(message, str(path), "is 10.0 MiB", "JVM heap", "Fix: trim unused entries")


def test_dictionary_at_the_heap_limit_passes(tmp_path: Path) -> None:
    path = write(tmp_path, b"w" * (DICTIONARY_HEAP_WARNING_BYTES - 1) + b"\n")
    assert check(path, kind="STOPWORDS") == []


# --- TXT-DICTIONARY SYNONYMS: Solr format -----------------------------------------------------


def bad(name: str) -> Path:
    return DICTIONARIES / "bad" / name


@pytest.mark.parametrize(
    ("name", "line"),
    [("synonyms-two-arrows.txt", 3)],
)
def test_fails_more_than_one_mapping(name: str, line: int) -> None:
    message = single(check(bad(name), kind="SYNONYMS"), "error")
    assert_worded(
        message,
        f"{bad(name)}:{line}",
        "holds 2 explicit mappings",
        "more than one explicit mapping",
        "Fix: write one mapping per line",
    )


def test_fails_repeated_arrow_is_read_as_one(tmp_path: Path) -> None:
    # Lucene drops the empty piece between the arrows: `a =>=> b` is `a => b`.
    path = write(tmp_path, b"a =>=> b\n")
    message = single(check(path, kind="SYNONYMS"), "warning")
    assert_worded(message, f"{path}:1", "2 '=>' with nothing between them", "as one '=>'")


@pytest.mark.parametrize(
    ("name", "line"),
    [("synonyms-empty-left.txt", 2), ("synonyms-empty-right.txt", 3)],
)
def test_fails_empty_side_is_read_as_a_list(name: str, line: int) -> None:
    # Lucene drops the empty side: `=> ipod` is the one-term list "=> ipod", which it accepts.
    message = single(check(bad(name), kind="SYNONYMS"), "warning")
    assert_worded(
        message,
        f"{bad(name)}:{line}",
        "no term on one side of '=>'",
        "'=>' included, as a list of equivalent terms",
        "Fix: add the terms missing",
    )


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"tv, television\n => ipod\n", 2),  # the blank before '=>' is a side: an empty term
        (b"colour =>   \n", 1),
        (b"colour => ,\n", 1),
    ],
)
def test_fails_blank_side_is_an_empty_term(tmp_path: Path, data: bytes, line: int) -> None:
    path = write(tmp_path, data)
    errors = [finding for finding in check(path, kind="SYNONYMS") if finding.severity == "error"]
    message = single(errors, "error")
    assert_worded(message, f"{path}:{line}", "empty term", "was completely eliminated")


def test_fails_side_of_commas_maps_nothing(tmp_path: Path) -> None:
    # Lucene: no output at all, so the rule adds no mapping (and no error).
    path = write(tmp_path, b"colour =>,\n")
    message = single(check(path, kind="SYNONYMS"), "warning")
    assert_worded(message, f"{path}:1", "right side of '=>' holds only commas", "maps nothing")


def test_fails_dangling_arrow() -> None:
    # `=>` alone is the one-term list "=>": the standard tokenizer drops it, whitespace keeps it.
    name = "synonyms-dangling-arrow.txt"
    findings = check(bad(name), kind="SYNONYMS")
    assert [finding.severity for finding in findings] == ["warning", "warning"], findings
    assert_worded(findings[0].message, f"{bad(name)}:3", "no term on either side of '=>'")
    assert_worded(findings[1].message, f"{bad(name)}:3", "'=>'", "standard tokenizer")
    errors = check_package_file(
        str(bad(name)),
        package_type="TXT-DICTIONARY",
        engine_version=None,
        dictionary_kind="SYNONYMS",
        license_filepath=None,
        synonym_tokenizer="STANDARD",
    )
    assert [finding.severity for finding in errors] == ["warning", "error"], errors


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (None, 2),  # the fixture: "tv, , television"
        (b"tv, television, \n", 1),  # trailing comma followed by a blank
        (b"i-pod, => ipod\n", 1),  # blank term before the arrow
        (b"colour => color, \t\n", 1),
    ],
)
def test_fails_empty_term(tmp_path: Path, data: bytes | None, line: int) -> None:
    path = bad("synonyms-empty-term.txt") if data is None else write(tmp_path, data)
    message = single(check(path, kind="SYNONYMS"), "error")
    assert_worded(
        message,
        f"{path}:{line}",
        "empty term",
        "was completely eliminated by analyzer",
        "Fix: remove the extra ','",
    )


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("synonyms-double-comma.txt", "',,'"),
        ("synonyms-trailing-comma.txt", "a trailing ','"),
    ],
)
def test_fails_extra_comma_is_only_a_warning(name: str, position: str) -> None:
    # Lucene drops empty pieces silently: the rule still works, a term may be missing.
    message = single(check(bad(name), kind="SYNONYMS"), "warning")
    assert_worded(message, f"{bad(name)}:1", position, "the engine skips it", "Fix: remove")


def test_fails_whitespace_only_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"tv, television\n   \ncolour => color\n\t\n")
    findings = check(path, kind="SYNONYMS")
    assert [finding.severity for finding in findings] == ["error", "error"]
    assert_worded(findings[0].message, f"{path}:2", "only blanks", "delete the blanks")
    assert_worded(findings[1].message, f"{path}:4", "only blanks", "delete the blanks")


def test_fails_indented_comment_in_synonyms() -> None:
    name = "synonyms-indented-comment.txt"
    findings = check(bad(name), kind="SYNONYMS")
    assert [finding.severity for finding in findings] == ["warning", "warning"], findings
    assert_worded(findings[0].message, f"{bad(name)}:2", "not a comment", "Fix: put the '#'")
    assert_worded(findings[1].message, f"{bad(name)}:2", "single term")


def test_fails_term_without_letters() -> None:
    name = "synonyms-punctuation-term.txt"
    message = single(check(bad(name), kind="SYNONYMS"), "warning")
    assert_worded(message, f"{bad(name)}:1", "'&'", "standard tokenizer", "lenient", "Fix:")


def test_fails_single_term_rule() -> None:
    name = "synonyms-single-term.txt"
    message = single(check(bad(name), kind="SYNONYMS"), "warning")
    assert_worded(message, f"{bad(name)}:2", "single term", "maps nothing", "Fix: list")


def test_fails_synonyms_without_rules() -> None:
    name = "synonyms-comments-only.txt"
    message = single(check(bad(name), kind="SYNONYMS"), "warning")
    assert_worded(message, str(bad(name)), "defines no synonym", "Fix: add rules")


def test_fails_trailing_backslash(tmp_path: Path) -> None:
    path = write(tmp_path, b"tv, television\\\n  telly\n")
    findings = check(path, kind="SYNONYMS")
    messages = [finding.message for finding in findings if finding.severity == "warning"]
    assert_worded(messages[0], f"{path}:1", "ends with a backslash", "no line continuation")
    # Line 2 is then a rule of its own, a single term.
    assert_worded(messages[1], f"{path}:2", "single term")


def test_escaped_separators_are_terms(tmp_path: Path) -> None:
    path = write(tmp_path, b"smith\\, john => john smith\nwin\\=>lose, draw\n")
    assert check(path, kind="SYNONYMS") == []


def test_synonym_rules_are_not_checked_for_other_kinds() -> None:
    for kind in (None, "STOPWORDS", "USER_DICTIONARY"):
        findings = check(bad("synonyms-two-arrows.txt"), kind=kind)
        assert not [f for f in findings if "'=>'" in f.message], findings


def test_fails_many_bad_rules_are_summarized(tmp_path: Path) -> None:
    path = write(tmp_path, b"a => b => c\n" * 12)
    findings = check(path, kind="SYNONYMS")
    assert len(findings) == MAX_FINDINGS_PER_RULE + 1
    assert [int(f.message.split(":")[1]) for f in findings[:-1]] == [1, 2, 3, 4, 5]
    assert_worded(findings[-1].message, str(path), "7 more lines with more than one mapping")


# --- TXT-DICTIONARY STOPWORDS -----------------------------------------------------------------


def test_fails_stop_word_with_spaces() -> None:
    name = "stopwords-phrase.txt"
    message = single(check(bad(name), kind="STOPWORDS"), "warning")
    assert_worded(message, f"{bad(name)}:2", "'a, an, of' is ONE stop word", "Fix: put each")


def test_fails_indented_comment_in_stop_words() -> None:
    name = "stopwords-indented-comment.txt"
    message = single(check(bad(name), kind="STOPWORDS"), "warning")
    assert_worded(
        message,
        f"{bad(name)}:2",
        "recent OpenSearch releases skip it as a comment",
        "add '# articles' as a stop word",
        "first",
    )


def test_fails_stop_words_without_words() -> None:
    path = bad("synonyms-comments-only.txt")
    message = single(check(path, kind="STOPWORDS"), "warning")
    assert_worded(message, str(path), "removes nothing", "Fix: add one stop word per line")


# --- ZIP-PLUGIN -------------------------------------------------------------------------------


def test_fails_not_a_zip() -> None:
    path = DICTIONARIES / "good" / "synonyms.txt"
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "not a zip archive", "Fix: build the plugin's")


def stored_zip(tmp_path: Path, data: bytes) -> tuple[Path, bytearray]:
    """A plugin zip with one more, uncompressed entry holding ``data``; returns its bytes too."""
    path = plugin_zip(tmp_path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("data.bin", data)
    return path, bytearray(path.read_bytes())


def test_fails_zip_entry_with_bad_crc(tmp_path: Path) -> None:
    payload = b"payload-" * 8
    path, data = stored_zip(tmp_path, payload)
    data[data.index(payload)] ^= 0xFF
    path.write_bytes(bytes(data))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "entry 'data.bin' fails its CRC check", "Fix: rebuild")


def test_fails_zip_entry_with_corrupt_deflate_stream(tmp_path: Path) -> None:
    # The stored entry is relabelled "deflated": 0xFF opens a deflate block of the reserved type.
    path, data = stored_zip(tmp_path, b"\xff" * 64)
    local = data.rindex(b"PK\x03\x04")
    central = data.rindex(b"PK\x01\x02")
    data[local + 8 : local + 10] = (8).to_bytes(2, "little")
    data[central + 10 : central + 12] = (8).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "the zip cannot be read", "Fix: rebuild the zip")


def test_fails_truncated_zip(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path)
    path.write_bytes(path.read_bytes()[:-30])
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "Fix:")


def test_fails_descriptor_missing(tmp_path: Path) -> None:
    path = tmp_path / "no-descriptor.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello-1.0.0.jar", jar(HELLO_CLASS))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "no plugin-descriptor.properties at its root", "Fix:")


@pytest.mark.parametrize("prefix", ["hello/", "opensearch/", "build/distributions/hello/"])
def test_fails_descriptor_in_a_folder(tmp_path: Path, prefix: str) -> None:
    path = plugin_zip(tmp_path, prefix=prefix)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(
        message,
        str(path),
        f"is at '{prefix}plugin-descriptor.properties', not at the root",
        f"Fix: zip the content of '{prefix}'",
    )


def test_fails_legacy_opensearch_folder(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, extra={"opensearch/README.txt": b"old layout"})
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "'opensearch/' folder", "older plugin structure", "Fix:")


def test_fails_entry_outside_plugin_folder(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, extra={"../evil.sh": b"#!/bin/sh\n"})
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "'../evil.sh' resolves outside", "Fix: rebuild the zip")


@pytest.mark.parametrize("key", ["name", "description", "version", "java.version", "classname"])
def test_fails_required_property_missing(tmp_path: Path, key: str) -> None:
    path = plugin_zip(tmp_path, descriptor_with(**{key.replace(".", "_"): None}))
    findings = check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19")
    message = single(findings, "error")
    assert_worded(message, str(path), f"lacks the required property '{key}'", f"Fix: add `{key}=")


def test_fails_empty_name(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, descriptor_with(name=""))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "'name' (it is empty)", "Fix: add `name=")


def test_fails_opensearch_version_missing(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, descriptor_with(opensearch_version=None))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(
        message,
        str(path),
        "neither 'opensearch.version' nor 'dependencies'",
        "`opensearch.version=2.19.0`",
    )


def test_fails_elasticsearch_plugin_on_opensearch(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, (DESCRIPTORS / "elasticsearch.properties").read_text())
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(
        message, str(path), "elasticsearch.version=7.10.2", "built for Elasticsearch", "Fix:"
    )


@pytest.mark.parametrize(
    ("opensearch_version", "engine", "shown"),
    [
        ("2.18.0", "OpenSearch_2.19", "OpenSearch 2.18.0"),
        ("2.19.0", "OpenSearch_2.18", "OpenSearch 2.19.0"),
        ("1.3.0", "OpenSearch_2.19", "OpenSearch 1.3.0"),
        ("~2.17.0", "OpenSearch_2.19", "OpenSearch ~2.17.0"),
        ("^2.20.0", "OpenSearch_2.19", "OpenSearch ^2.20.0"),
        ("^1.3.0", "OpenSearch_2.19", "OpenSearch ^1.3.0"),
        ("[2.15.0,2.19.0)", "OpenSearch_2.19", "OpenSearch [2.15.0,2.19.0)"),
    ],
)
def test_fails_opensearch_version_mismatch(
    tmp_path: Path, opensearch_version: str, engine: str, shown: str
) -> None:
    text = descriptor_with(opensearch_version=opensearch_version)
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine=engine), "error")
    wanted = engine.split("_")[1]
    assert_worded(
        message,
        at(path, text, "opensearch.version"),
        f"built for {shown} (opensearch.version)",
        f"engine version is {engine}",
        f"Fix: rebuild the plugin against OpenSearch {wanted}",
        f"opensearch.version reads {wanted}.x",
    )


def test_fails_elasticsearch_version_mismatch(tmp_path: Path) -> None:
    text = (DESCRIPTORS / "elasticsearch.properties").read_text().replace("7.10.2", "7.9.3")
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="Elasticsearch_7.10"), "error")
    assert_worded(
        message,
        f"{path}: plugin-descriptor.properties:6",
        "Elasticsearch 7.9.3 (elasticsearch.version)",
        "Elasticsearch_7.10",
        "Fix: rebuild the plugin against Elasticsearch 7.10",
    )


@pytest.mark.parametrize("value", ["2.19", "latest", "2.19.0.1.2", ">=2.19.0"])
def test_fails_unreadable_opensearch_version(tmp_path: Path, value: str) -> None:
    text = descriptor_with(opensearch_version=value)
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, at(path, text, "opensearch.version"), "major.minor.revision", "Fix:")


def test_fails_both_opensearch_version_and_dependencies(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, descriptor_with(dependencies='{opensearch: "2.19.0"}'))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "both 'opensearch.version' and 'dependencies'", "Fix: keep")


@pytest.mark.parametrize(
    ("dependencies", "problem"),
    [
        ('{opensearch: "2.19.0", "security": "2.19.0"}', "exactly one dependency"),
        ('{"elasticsearch": "7.10.2"}', "exactly one dependency"),
        ('{opensearch: "~2.19.0,~2.20.0"}', "more than one range"),
    ],
)
def test_fails_bad_dependencies(tmp_path: Path, dependencies: str, problem: str) -> None:
    text = descriptor_with(opensearch_version=None, dependencies=dependencies)
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, at(path, text, "dependencies"), problem, "Fix:")


def test_fails_dependencies_before_opensearch_2_13(tmp_path: Path) -> None:
    text = descriptor_with(opensearch_version=None, dependencies='{opensearch: "~2.11.0"}')
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.11"), "error")
    assert_worded(message, at(path, text, "dependencies"), "from OpenSearch 2.13 on", "Fix: use")


def test_fails_unknown_property(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, descriptor_with(requires_keystore="true"))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "unknown properties ['requires.keystore']", "Fix: remove")


@pytest.mark.parametrize(
    ("value", "problem"), [("true", "cannot have native"), ("yes", "true or false")]
)
def test_fails_native_controller(tmp_path: Path, value: str, problem: str) -> None:
    text = descriptor_with(has_native_controller=value)
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, at(path, text, "has.native.controller"), problem, "Fix: remove")


def test_fails_bad_java_version(tmp_path: Path) -> None:
    text = descriptor_with(java_version="Java 21")
    path = plugin_zip(tmp_path, text)
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, at(path, text, "java.version"), "'Java 21'", "`java.version=21`")


def test_fails_malformed_unicode_escape(tmp_path: Path) -> None:
    text = descriptor_with(description="caf\\u00e")
    path = plugin_zip(tmp_path, text)
    findings = check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19")
    # Java fails on the whole file; the checks drop the entry, so 'description' is also missing.
    assert [finding.severity for finding in findings] == ["error", "error"]
    assert_worded(findings[0].message, at(path, text, "description"), "Malformed \\uxxxx")
    assert "lacks the required property 'description'" in findings[1].message


def test_fails_class_not_in_any_jar(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, classes=("org/example/other/Other.class",))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(
        message,
        str(path),
        "hello-1.0.0.jar",
        "org.example.hello.HelloPlugin (org/example/hello/HelloPlugin.class)",
        "ClassNotFoundException",
        "Fix: check classname",
    )


def test_fails_class_not_in_any_jar_is_a_warning_for_extending_plugins(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, descriptor_with(extended_plugins="opensearch-security"), classes=())
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "warning")
    assert_worded(message, str(path), "unless an extended plugin (opensearch-security)")


def test_fails_no_jar(tmp_path: Path) -> None:
    path = tmp_path / "no-jar.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(HELLO / "plugin-descriptor.properties", "plugin-descriptor.properties")
        archive.writestr("lib/hello-1.0.0.jar", jar(HELLO_CLASS))
    message = single(check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19"), "error")
    assert_worded(message, str(path), "no .jar at its root", "Fix:")


def test_fails_license_file_not_in_zip(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path)
    findings = check(
        path, "ZIP-PLUGIN", engine="OpenSearch_2.19", license_filepath="legal/LICENSE.txt"
    )
    message = single(findings, "error")
    assert_worded(
        message,
        str(path),
        "(LicenseFilepath) 'legal/LICENSE.txt' is not a file in the zip",
        "files with that name in the zip: ['LICENSE.txt']",
    )


def test_fails_license_path_naming_a_folder(tmp_path: Path) -> None:
    path = plugin_zip(tmp_path, extra={"legal/NOTICE.txt": b"notice"})
    message = single(
        check(path, "ZIP-PLUGIN", engine="OpenSearch_2.19", license_filepath="legal/"), "error"
    )
    assert_worded(message, str(path), "'legal/' is not a file in the zip")


def test_a_binary_dictionary_gets_only_the_empty_and_size_checks(tmp_path: Path) -> None:
    binary = write(tmp_path, b"\xef\xbb\xbf\x00\xff" + bytes(range(256)))
    assert check(binary, kind="BINARY") == []
    empty = write(tmp_path, b"")
    assert [f.severity for f in check(empty, kind="BINARY")] == ["error"]
