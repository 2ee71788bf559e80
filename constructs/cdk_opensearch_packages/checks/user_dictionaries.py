"""Checks of the user dictionaries of the kuromoji (Japanese) and nori (Korean) tokenizers.

Both plugins read ``user_dictionary`` with OpenSearch's word-list reader (see
:mod:`~cdk_opensearch_packages.checks.word_lists`: blank lines and ``#`` lines dropped, the rest
trimmed), then hand the kept lines to Lucene's ``UserDictionary.open``.

kuromoji: OpenSearch parses each line as CSV first and fails the analyzer on a line with an odd
number of quotes ("Malformed csv in user dictionary") or a surface form already defined ("Found
duplicate term [...] in user dictionary"). Lucene then reads ``surface,segmentation,readings,
part-of-speech``: fewer than four fields fail (``ArrayIndexOutOfBoundsException``), the
segmentation and the readings must have as many space-separated pieces, and the segmentation
(without blanks) may not be longer than the surface form. Lucene 8 (Elasticsearch 7.x,
OpenSearch 1.x) cuts every line at its first ``#``, wherever it is; Lucene 9 and later
(OpenSearch 2.x and later) only skip lines starting with ``#``, and reject a segmentation that
differs from the surface form at all.

nori: each line is a surface form optionally followed by its segments, separated by ASCII blanks
(regex ``\\s``: space, tab, form feed, vertical tab); everything from a ``#`` on is a comment;
the segments together may not be longer than the surface form; a surface form listed twice is
kept once (the first), silently.
"""

from __future__ import annotations

import re

from cdk_opensearch_packages.checks.findings import FindingCollector
from cdk_opensearch_packages.checks.java_strings import (
    cut_hash_comment,
    is_java_whitespace,
    java_regex_whitespace_split,
    java_split_on_space,
    strip_java_regex_whitespace,
    utf16_length,
)
from cdk_opensearch_packages.checks.lines import java_trim
from cdk_opensearch_packages.checks.word_lists import WordListLine, read_word_list

__all__ = ["check_kuromoji_user_dictionary", "check_nori_user_dictionary", "parse_csv"]

_QUOTED = re.compile(r'"([^"]+)"')
_SPACES = re.compile(" +")
_KUROMOJI_FIELDS = "surface form, segmentation, readings, part of speech"


def _unquote_unescape(value: str) -> str:
    # CSVUtil.unQuoteUnEscape: strip the quotes of a fully quoted value without inner quotes,
    # then turn every "" into ".
    if '"' not in value:
        return value
    match = _QUOTED.fullmatch(value)
    result = match.group(1) if match else value
    return result.replace('""', '"')


def parse_csv(line: str) -> list[str]:
    """Lucene's ``CSVUtil.parse``: the fields, or ``[]`` when the quotes do not pair up.

    Quirks kept on purpose: a comma inside quotes does not separate, and the LAST field is
    neither unquoted nor unescaped.
    """
    inside_quotes = False
    quotes = 0
    fields: list[str] = []
    current: list[str] = []
    for char in line:
        if char == '"':
            inside_quotes = not inside_quotes
            quotes += 1
        if char == "," and not inside_quotes:
            fields.append(_unquote_unescape("".join(current)))
            current = []
            continue
        current.append(char)
    fields.append("".join(current))
    if quotes % 2:
        return []
    return fields


def _cut_comment(text: str) -> tuple[str, bool]:
    """The line as Lucene's ``replaceAll("#.*$", "")`` leaves it, and whether it cut anything."""
    cut = cut_hash_comment(text)
    return cut, cut != text


def check_kuromoji_user_dictionary(collector: FindingCollector, lines: list[str]) -> None:
    """Check a kuromoji ``user_dictionary``; findings go to ``collector``.

    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    rules, _ = read_word_list(lines)
    surfaces: dict[str, int] = {}
    entries: list[WordListLine] = []
    for rule in rules:
        values = parse_csv(rule.text)
        if not values:
            collector.add(
                "csv",
                "error",
                "the line has an odd number of double quotes; OpenSearch rejects the file "
                "('Malformed csv in user dictionary')",
                'close the quoted field, and write a quote inside a quoted field as ""',
                line=rule.number,
                summary="lines with unbalanced quotes",
            )
            continue
        first = surfaces.get(values[0])
        if first is not None:
            collector.add(
                "duplicate",
                "error",
                f"the surface form {values[0]!r} is already defined on line {first}; OpenSearch "
                "rejects the file ('Found duplicate term ... in user dictionary')",
                "keep one entry per surface form",
                line=rule.number,
                summary="duplicate surface forms",
            )
            continue
        surfaces[values[0]] = rule.number
        entries.append(rule)
    for entry in entries:
        _check_kuromoji_entry(collector, entry)
    if not rules:
        _no_entries(collector)


def _check_kuromoji_entry(collector: FindingCollector, entry: WordListLine) -> None:
    text, cut = _cut_comment(entry.text)
    if java_trim(text) == "":
        return  # UserDictionary skips the line (e.g. a line of control characters)
    values = parse_csv(text)
    if len(values) < 4:
        if cut and len(parse_csv(entry.text)) >= 4:
            problem = (
                "the line holds a '#': Lucene 8's kuromoji (Elasticsearch 7.x, OpenSearch 1.x) "
                f"treats everything from it on as a comment and is left with {text!r}, which lacks "
                f"the four fields ({_KUROMOJI_FIELDS}), so the engine rejects the file; Lucene 9 "
                "and later keep the '#'"
            )
            fix = "drop the '#' from the entry, or keep comments on lines of their own"
        elif not values:
            problem = (
                f"the quotes of the line pair up only through the '#': Lucene 8's kuromoji "
                f"treats everything from '#' on as a comment and is left with {text!r}, whose "
                "quotes do not pair up, so the engine rejects the file"
            )
            fix = "drop the '#' from the entry, or keep comments on lines of their own"
        else:
            problem = (
                f"the entry has {len(values)} field{'s' if len(values) != 1 else ''} but needs "
                f"four ({_KUROMOJI_FIELDS}); the engine rejects the file "
                "(ArrayIndexOutOfBoundsException in UserDictionary)"
            )
            fix = (
                "write `surface,segmentation,readings,part-of-speech`, e.g. "
                "`関西国際空港,関西 国際 空港,カンサイ コクサイ クウコウ,カスタム名詞`"
            )
        collector.add(
            "fields", "error", problem, fix, line=entry.number, summary="entries lacking fields"
        )
        return
    if cut:
        collector.add(
            "hash",
            "warning",
            f"the line holds a '#': Lucene 8's kuromoji (Elasticsearch 7.x, OpenSearch 1.x) cuts "
            f"the line there and reads {text!r}, Lucene 9 and later read the whole line",
            "drop the '#' from the entry, or keep comments on lines of their own",
            line=entry.number,
            summary="entries holding '#'",
        )
    surface, segmentation, readings = values[0], values[1], values[2]
    segments = java_split_on_space(_SPACES.sub(" ", segmentation))
    reading_pieces = java_split_on_space(_SPACES.sub(" ", readings))
    if len(segments) != len(reading_pieces):
        collector.add(
            "readings",
            "error",
            f"the segmentation {segmentation!r} has {len(segments)} space-separated "
            f"piece{'s' if len(segments) != 1 else ''} but the readings {readings!r} have "
            f"{len(reading_pieces)}; the engine rejects the file ('the number of segmentations "
            "... does not the match number of readings')",
            "give one reading per segment, separated by single spaces (not tabs or U+3000)",
            line=entry.number,
            summary="entries whose segments and readings differ in number",
        )
    joined = strip_java_regex_whitespace(segmentation)
    bare_surface = strip_java_regex_whitespace(surface)
    if utf16_length(joined) > utf16_length(bare_surface):
        collector.add(
            "segmentation",
            "error",
            f"the segmentation {segmentation!r} is longer than the surface form {surface!r}; "
            "the engine rejects the file ('the concatenated segmentation ... is longer than the "
            "surface form')",
            "split the surface form itself: the segments, joined, must spell it exactly",
            line=entry.number,
            summary="segmentations longer than their surface form",
        )
    elif joined != bare_surface:
        collector.add(
            "segmentation-differs",
            "warning",
            f"the segmentation {segmentation!r} does not spell the surface form {surface!r}; "
            "Lucene 8 (Elasticsearch 7.x, OpenSearch 1.x) uses only the segments' lengths, "
            "Lucene 9 and later (OpenSearch 2.x and later) reject the file ('the concatenated "
            "segmentation ... does not match the surface form')",
            "split the surface form itself: the segments, joined, must spell it exactly",
            line=entry.number,
            summary="segmentations that do not spell their surface form",
        )
    if surface == "":
        collector.add(
            "empty-surface",
            "warning",
            "the surface form is empty: the entry can never match any text",
            "write the word as the first field",
            line=entry.number,
            summary="empty surface forms",
        )
    if len(values) > 4:
        collector.add(
            "extra-fields",
            "warning",
            f"the entry has {len(values)} fields; the engine reads the first four ("
            f"{_KUROMOJI_FIELDS}) and ignores the rest (a comma inside a field needs quotes)",
            'remove the extra fields, or quote a field holding a comma: `"a,b"`',
            line=entry.number,
            summary="entries with more than four fields",
        )
    last = values[-1]
    if len(last) >= 2 and last.startswith('"') and last.endswith('"'):
        collector.add(
            "quoted-last",
            "warning",
            f"the last field {last!r} keeps its quotes: Lucene's CSV reader unquotes every field "
            "but the last",
            "drop the quotes around the last field",
            line=entry.number,
            summary="quoted last fields",
        )


def check_nori_user_dictionary(collector: FindingCollector, lines: list[str]) -> None:
    """Check a nori ``user_dictionary``; findings go to ``collector``.

    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    rules, _ = read_word_list(lines)
    surfaces: dict[str, int] = {}
    for rule in rules:
        text, cut = _cut_comment(rule.text)
        if java_trim(text) == "":
            continue
        pieces = java_regex_whitespace_split(text)
        surface, segments = pieces[0], pieces[1:]
        first = surfaces.get(surface)
        if first is not None:
            collector.add(
                "duplicate",
                "warning",
                f"the surface form {surface!r} is already defined on line {first}; nori keeps "
                "the first entry and silently ignores this one",
                "keep one entry per surface form",
                line=rule.number,
                summary="duplicate surface forms",
            )
            continue
        surfaces[surface] = rule.number
        if cut:
            collector.add(
                "hash",
                "warning",
                f"the line holds a '#': nori treats everything from it on as a comment and reads "
                f"{java_trim(text)!r}",
                "drop the '#' from the entry, or keep comments on lines of their own",
                line=rule.number,
                summary="entries holding '#'",
            )
        blanks = sorted({char for char in surface if is_java_whitespace(char) or char == "\xa0"})
        if blanks:
            names = ", ".join(f"U+{ord(char):04X}" for char in blanks)
            collector.add(
                "blank",
                "warning",
                f"the surface form {surface!r} holds {names}: nori separates the segments only "
                "at ASCII blanks (space, tab), so this is one long surface form",
                "separate the surface form and its segments with spaces",
                line=rule.number,
                summary="surface forms holding other blanks",
            )
        if not segments:
            continue
        length = sum(utf16_length(segment) for segment in segments)
        if length > utf16_length(surface):
            collector.add(
                "segmentation",
                "error",
                f"the segments {' '.join(segments)!r} are longer together than the surface form "
                f"{surface!r}; the engine rejects the file ('the segmentation is bigger than "
                "the surface form')",
                "split the surface form itself: `세종시 세종 시`",
                line=rule.number,
                summary="segmentations longer than their surface form",
            )
        elif "".join(segments) != surface:
            collector.add(
                "segmentation-differs",
                "warning",
                f"the segments {' '.join(segments)!r} do not spell the surface form {surface!r}; "
                "nori uses only their lengths, so the tokens are cut from the surface form at "
                "other places than written",
                "split the surface form itself: `세종시 세종 시`",
                line=rule.number,
                summary="segmentations that do not spell their surface form",
            )
    if not rules:
        _no_entries(collector)


def _no_entries(collector: FindingCollector) -> None:
    collector.add(
        "no-entries",
        "warning",
        "the user dictionary holds only comments and blank lines: it defines no word",
        "add one entry per line, or drop the package",
    )
