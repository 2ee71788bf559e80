"""Checks of TXT-DICTIONARY files: one UTF-8 text file, not empty, not too heavy for the heap.

OpenSearch opens dictionaries (``synonyms_path``, ``stopwords_path``, ``user_dictionary`` ...)
with ``Files.newBufferedReader(path, UTF_8)``: a malformed byte fails the analyzer with
"Unsupported character encoding detected ... files must be UTF-8 encoded", and a byte-order mark
is not skipped but read as a character (U+FEFF) glued to the first word or rule. The format
checks then read the text as the engine does, that character included.

The service itself does not require text: binary Sudachi dictionaries are uploaded as
TXT-DICTIONARY packages. ``dictionary_kind="BINARY"`` checks only that such a file is not empty
and warns about its heap cost.
"""

from __future__ import annotations

from cdk_opensearch_packages.checks.findings import FileFinding, FindingCollector
from cdk_opensearch_packages.checks.lines import java_byte_lines, java_lines
from cdk_opensearch_packages.checks.stop_words import check_stop_words
from cdk_opensearch_packages.checks.synonyms import check_synonym_rules
from cdk_opensearch_packages.checks.user_dictionaries import (
    check_kuromoji_user_dictionary,
    check_nori_user_dictionary,
)

__all__ = ["DICTIONARY_HEAP_WARNING_BYTES", "check_text_dictionary"]

#: Above this size a dictionary gets a warning: the engine keeps dictionaries in JVM heap,
#: costing roughly their size on every node of every domain the package is associated with.
DICTIONARY_HEAP_WARNING_BYTES = 10 * 1024 * 1024

_MIB = 1024 * 1024

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def check_text_dictionary(
    path: str, data: bytes, dictionary_kind: str | None, *, synonym_tokenizer: str | None = None
) -> list[FileFinding]:
    """Check a TXT-DICTIONARY file's bytes, then its rules when ``dictionary_kind`` says how.

    :param path: the file as the user gave it.
    :param data: the file's content.
    :param dictionary_kind: ``"SYNONYMS"``, ``"STOPWORDS"``, ``"KUROMOJI_USER_DICTIONARY"`` and
        ``"NORI_USER_DICTIONARY"`` get their format checked; ``"USER_DICTIONARY"`` and ``None``
        (or another kind) only the encoding, emptiness and size; ``"BINARY"`` (e.g. a compiled
        Sudachi dictionary) only emptiness and size.
    :param synonym_tokenizer: ``"STANDARD"`` or ``"WHITESPACE"``: the tokenizer of the analyzers
        using a synonym file; ``None`` when unknown (see
        :func:`~cdk_opensearch_packages.checks.synonyms.check_synonym_rules`).
    """
    collector = FindingCollector(path)
    if len(data) > DICTIONARY_HEAP_WARNING_BYTES:
        collector.add(
            "heap",
            "warning",
            f"the dictionary is {len(data) / _MIB:.1f} MiB: the engine keeps a dictionary in JVM "
            "heap, costing roughly its size on every node of each domain it is associated with "
            f"(warning above {DICTIONARY_HEAP_WARNING_BYTES // _MIB} MiB)",
            "trim unused entries or split rarely used ones into another package, or make sure the "
            "domain's instances have the heap to spare (the JVM gets half of an instance's memory, "
            "at most about 32 GiB)",
        )

    if dictionary_kind == "BINARY":
        if not data:
            collector.add(
                "empty",
                "error",
                "the dictionary is empty",
                "point to the compiled dictionary file, or drop the package",
            )
        return collector.findings()

    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            if encoding == "UTF-8":
                collector.add(
                    "bom",
                    "error",
                    "the file starts with a UTF-8 byte-order mark (EF BB BF); OpenSearch does not "
                    "skip it but reads it as a character (U+FEFF) glued to the first word or rule, "
                    "which then never matches",
                    "save the file as UTF-8 without BOM (e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' "
                    "FILE`, or your editor's 'UTF-8' rather than 'UTF-8 with BOM')",
                    line=1,
                )
                # Decoded with the mark: the format checks see the U+FEFF the engine reads.
            else:
                collector.add(
                    "bom",
                    "error",
                    f"the file is {encoding} encoded (it starts with the byte-order mark "
                    f"{mark.hex(' ').upper()}), but dictionaries must be UTF-8",
                    f"convert it, e.g. `iconv -f {encoding.split()[0]} -t UTF-8 FILE > NEW_FILE`, "
                    "and remove the byte-order mark",
                    line=1,
                )
                return collector.findings()
            break

    text = _decode_utf8(data, collector)
    if text is None:
        return collector.findings()

    if not text:
        collector.add(
            "empty",
            "error",
            "the dictionary is empty, and the service rejects an empty package file",
            "put the words or rules in the file, or drop the package",
        )
        return collector.findings()

    lines = java_lines(text)
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            collector.add(
                "nul",
                "error",
                "the line holds a NUL character (U+0000): the file looks UTF-16 encoded or binary, "
                "and the synonym engine uses U+0000 as its own word separator",
                "save the file as UTF-8 text",
                line=number,
                summary="lines with NUL characters",
            )

    if dictionary_kind == "SYNONYMS":
        check_synonym_rules(collector, lines, synonym_tokenizer)
    elif dictionary_kind == "STOPWORDS":
        check_stop_words(collector, lines)
    elif dictionary_kind == "KUROMOJI_USER_DICTIONARY":
        check_kuromoji_user_dictionary(collector, lines)
    elif dictionary_kind == "NORI_USER_DICTIONARY":
        check_nori_user_dictionary(collector, lines)
    elif not text.strip():
        collector.add(
            "blank",
            "warning",
            "the dictionary holds only blank lines: it defines nothing",
            "put the words or rules in the file, or drop the package",
        )
    return collector.findings()


def _decode_utf8(body: bytes, collector: FindingCollector) -> str | None:
    """Decode ``body`` or report each malformed sequence."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Line by line: a malformed sequence never holds \r or \n (ASCII bytes are always valid),
    # so this finds every one in linear time and numbers the lines as the engine does.
    for number, raw_line in enumerate(java_byte_lines(body), start=1):
        position = 0
        while position < len(raw_line):
            try:
                raw_line[position:].decode("utf-8")
                break
            except UnicodeDecodeError as error:
                start = position + error.start
                position = position + error.end
                offending = raw_line[start:position]
                collector.add(
                    "utf8",
                    "error",
                    f"invalid UTF-8 byte sequence {offending.hex(' ').upper()} ({offending!r}) at "
                    f"byte {start + 1} of the line; OpenSearch rejects the whole file "
                    "('files must be UTF-8 encoded')",
                    "save the file as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8 FILE > NEW_FILE` if "
                    "it was written as Latin-1 / Windows-1252)",
                    line=number,
                    summary="invalid UTF-8 byte sequences",
                )
    return None
