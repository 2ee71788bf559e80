"""Checks of synonym dictionaries in the Solr format read by ``synonym`` / ``synonym_graph``.

The rules are those of Lucene's ``SolrSynonymParser`` (what OpenSearch's filters run with the
default ``format``), which reads the file line by line as ``BufferedReader.readLine`` splits it:

- a line that is empty, or whose FIRST character is ``#``, is skipped; nothing else is (an
  indented ``#`` line is a rule, a line of blanks is a rule with an empty term);
- the line is split at every unescaped ``=>``, dropping empty pieces: two pieces make an
  explicit mapping, more than two fail the filter ("more than one explicit mapping specified on
  the same line"), one (``a =>``, ``=> b``, ``=>``) makes the whole line, arrow included, a list
  of equivalent terms; ``a =>=> b`` is read as ``a => b``;
- each side (or the whole line) is split at unescaped ``,``, dropping empty pieces (``a,,b``);
  a backslash escapes the next character (``\\,``, ``\\=>``, ``\\\\``);
- each term is unescaped, trimmed (``String.trim``: characters up to U+0020) and analyzed with
  the filter's tokenizer; a term that analyzes to no token fails the filter with "term: ... was
  completely eliminated by analyzer" (unless the filter sets ``lenient: true``, which drops the
  rule instead). A blank that ``String.trim`` keeps (U+3000, U+00A0 ...) stays in the term.

Which terms analyze to nothing depends on the tokenizer. A term of Java whitespace only (or
empty) fails with every tokenizer: always an error. A term without letters, digits, ideographs
or emoji (``-``, ``&``, ``...``, U+00A0) fails with the standard tokenizer but not with the
whitespace tokenizer: an error when the tokenizer is stated as ``STANDARD``, else a warning.
"""

from __future__ import annotations

from bisect import bisect_right

from cdk_opensearch_packages.checks.findings import FindingCollector
from cdk_opensearch_packages.checks.java_strings import has_text
from cdk_opensearch_packages.checks.lines import java_trim
from cdk_opensearch_packages.checks.standard_tokens import (
    KEYCAP_BASES,
    REGIONAL_INDICATOR_PAIRS,
    TOKEN_RANGES,
)

__all__ = [
    "SYNONYM_TOKENIZERS",
    "check_synonym_rules",
    "lucene_split",
    "split_unescaped",
    "standard_tokenizer_keeps",
]

#: The tokenizers a synonym file can be checked for (``synonym_tokenizer``).
SYNONYM_TOKENIZERS = ("STANDARD", "WHITESPACE")

_MAPPING = "=>"
_RANGE_STARTS = [start for start, _ in TOKEN_RANGES]
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_LENIENT = "unless the filter sets lenient: true, which drops the rule instead"


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split at each ``separator`` not escaped by a backslash, KEEPING empty pieces.

    Backslash escapes stay in the pieces (as in Lucene's ``split``); unlike Lucene, empty pieces
    are kept so the checks can tell ``a,,b`` from ``a, ,b``.
    """
    if "\\" not in text:
        return text.split(separator)
    pieces: list[str] = []
    current: list[str] = []
    position = 0
    end = len(text)
    while position < end:
        if text.startswith(separator, position):
            pieces.append("".join(current))
            current = []
            position += len(separator)
            continue
        char = text[position]
        position += 1
        current.append(char)
        if char == "\\" and position < end:
            current.append(text[position])
            position += 1
    pieces.append("".join(current))
    return pieces


def lucene_split(text: str, separator: str) -> list[str]:
    """``SolrSynonymParser.split``: :func:`split_unescaped` without the empty pieces."""
    return [piece for piece in split_unescaped(text, separator) if piece]


def _unescape(raw: str) -> str:
    """Lucene's ``unescape``: a backslash takes the next character literally (a last one stays)."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    position = 0
    while position < len(raw):
        char = raw[position]
        if char == "\\" and position < len(raw) - 1:
            position += 1
            char = raw[position]
        out.append(char)
        position += 1
    return "".join(out)


def standard_tokenizer_keeps(term: str) -> bool:
    """Whether Lucene's standard tokenizer makes at least one token of ``term``."""
    for position, char in enumerate(term):
        code = ord(char)
        index = bisect_right(_RANGE_STARTS, code) - 1
        if index >= 0 and code <= TOKEN_RANGES[index][1]:
            return True
        if char in KEYCAP_BASES and term.startswith(("\u20e3", "\ufe0f\u20e3"), position + 1):
            return True
        if (
            REGIONAL_INDICATOR_PAIRS
            and code in _REGIONAL_INDICATORS
            and position + 1 < len(term)
            and ord(term[position + 1]) in _REGIONAL_INDICATORS
        ):
            return True
    return False


def check_synonym_rules(
    collector: FindingCollector, lines: list[str], tokenizer: str | None = None
) -> None:
    """Check every line of a Solr-format synonym file; findings go to ``collector``.

    :param collector: collects the findings (its path names the file).
    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    :param tokenizer: the tokenizer of the analyzers using the file, ``"STANDARD"`` or
        ``"WHITESPACE"``; ``None`` when not stated: then only what fails with every tokenizer is
        an error, and what fails with the standard tokenizer only is a warning.
    """
    rules = 0
    for number, line in enumerate(lines, start=1):
        if line == "" or line.startswith("#"):
            continue
        rules += 1
        trimmed = java_trim(line)
        if trimmed == "":
            collector.add(
                "blank",
                "error",
                "the line holds only blanks (spaces, tabs or other characters up to U+0020); the "
                "synonym parser skips only truly empty lines, so it reads this as a rule with an "
                "empty term and OpenSearch rejects the file ('was completely eliminated by "
                "analyzer')",
                "delete the blanks on that line",
                line=number,
                summary="blank lines",
            )
            continue
        if trimmed.startswith("#"):
            collector.add(
                "indented-comment",
                "warning",
                "the line starts with blanks before '#', so it is not a comment: the synonym "
                "parser reads it as a rule",
                "put the '#' in the first column",
                line=number,
                summary="indented comments",
            )
        _check_rule(collector, number, line, tokenizer)

    if rules == 0:
        collector.add(
            "no-rules",
            "warning",
            "the synonym file holds only comments and empty lines: it defines no synonym",
            "add rules such as `tv, television` or `i-pod => ipod`, or drop the package",
        )


def _check_rule(collector: FindingCollector, number: int, line: str, tokenizer: str | None) -> None:
    trailing_backslashes = len(line) - len(line.rstrip("\\"))
    if trailing_backslashes % 2 == 1:
        collector.add(
            "trailing-backslash",
            "warning",
            "the line ends with a backslash that escapes nothing; the synonym format has no line "
            "continuation, so the backslash stays in the last term",
            "remove the backslash and keep each rule on one line",
            line=number,
            summary="lines ending with a backslash",
        )
    arrows = len(split_unescaped(line, _MAPPING)) - 1
    sides = lucene_split(line, _MAPPING)
    if len(sides) > 2:
        collector.add(
            "mappings",
            "error",
            f"the line holds {len(sides) - 1} explicit mappings ('=>' with terms between them); "
            "a rule holds at most one, and OpenSearch rejects the file ('more than one explicit "
            "mapping specified on the same line')",
            "write one mapping per line (`a => b`, then `b => c`), or escape a literal arrow as "
            "`\\=>`",
            line=number,
            summary="lines with more than one mapping",
        )
        return
    if len(sides) == 2:
        if arrows > 1:
            collector.add(
                "arrows",
                "warning",
                f"the line holds {arrows} '=>' with nothing between them; the synonym parser "
                "reads them as one '=>'",
                "write a single '=>'",
                line=number,
                summary="repeated arrows",
            )
        left = _check_terms(collector, number, sides[0], "left side", tokenizer)
        right = _check_terms(collector, number, sides[1], "right side", tokenizer)
        if not left or not right:
            collector.add(
                "empty-side",
                "warning",
                f"the {'left' if not left else 'right'} side of '=>' holds only commas: the "
                "engine accepts the rule but it maps nothing",
                "write the mapping in full (`input, other input => output`) or delete the line",
                line=number,
                summary="rules with an empty side",
            )
        return
    if arrows:
        collector.add(
            "empty-side",
            "warning",
            f"no term on {'one side' if sides else 'either side'} of '=>': the synonym parser "
            "drops an empty side, so this is not a mapping; it reads the whole line, '=>' "
            "included, as a list of equivalent terms",
            "add the terms missing before or after '=>' (`input => output`), or drop the '=>' to "
            "list equivalent terms (`a, b, c`)",
            line=number,
            summary="arrows with an empty side",
        )
    terms = _check_terms(collector, number, line, "rule", tokenizer)
    if terms == 1 and not arrows:
        collector.add(
            "single-term",
            "warning",
            "the rule lists a single term and no '=>', so it maps nothing",
            "list its synonyms (`a, b`) or map it (`a => b`); escape a literal comma as `\\,`",
            line=number,
            summary="rules that map nothing",
        )
    elif terms == 0:
        collector.add(
            "single-term",
            "warning",
            "the rule holds only commas, so it maps nothing",
            "write the terms between the commas, or delete the line",
            line=number,
            summary="rules that map nothing",
        )


def _check_terms(
    collector: FindingCollector, number: int, side: str, where: str, tokenizer: str | None
) -> int:
    """Check the comma-separated terms of one side; return how many terms the engine reads."""
    pieces = split_unescaped(side, ",")
    skipped: list[str] = []
    read = 0
    for index, raw in enumerate(pieces):
        if raw == "":
            if len(pieces) == 1:
                continue
            if index == 0:
                skipped.append("a leading ','")
            elif index == len(pieces) - 1:
                skipped.append("a trailing ','")
            elif "',,'" not in skipped:
                skipped.append("',,'")
            continue
        read += 1
        _check_term(collector, number, java_trim(_unescape(raw)), where, tokenizer)
    if skipped and read:
        collector.add(
            "missing-term",
            "warning",
            f"the {where} has {' and '.join(skipped)} with no term; the engine skips it, but a "
            "term may be missing",
            "remove the extra ',' or write the missing term",
            line=number,
            summary="extra commas",
        )
    return read


def _check_term(
    collector: FindingCollector, number: int, term: str, where: str, tokenizer: str | None
) -> None:
    if term == "":
        collector.add(
            "empty-term",
            "error",
            f"the {where} has an empty term (only blanks between separators, e.g. `a, , b`, or "
            f"after a trailing ','); OpenSearch rejects the file ('was completely eliminated by "
            f"analyzer'), {_LENIENT}",
            "remove the extra ',' or write the missing term, and delete trailing blanks",
            line=number,
            summary="empty terms",
        )
        return
    if not has_text(term):
        names = ", ".join(sorted({f"U+{ord(char):04X}" for char in term}))
        collector.add(
            "blank-term",
            "error",
            f"the term {term!r} holds only blanks ({names}) that the parser does not trim; every "
            f"tokenizer drops them, so OpenSearch rejects the file ('was completely eliminated "
            f"by analyzer'), {_LENIENT}",
            "remove the term (and its ',')",
            line=number,
            summary="terms of blanks",
        )
        return
    if standard_tokenizer_keeps(term):
        return
    if tokenizer == "STANDARD":
        collector.add(
            "no-token",
            "error",
            f"the term {term!r} has no letter, digit, ideograph or emoji, so the standard "
            f"tokenizer makes no token of it and OpenSearch rejects the file ('was completely "
            f"eliminated by analyzer'), {_LENIENT}",
            "remove the term, or use a tokenizer that keeps it (whitespace) and say so with "
            "synonym_tokenizer=SynonymTokenizer.WHITESPACE",
            line=number,
            summary="terms the standard tokenizer drops",
        )
        return
    collector.add(
        "no-token",
        "warning",
        f"the term {term!r} has no letter, digit, ideograph or emoji: with the standard tokenizer "
        f"(the default of OpenSearch analyzers) OpenSearch rejects the file ('was completely "
        f"eliminated by analyzer'), {_LENIENT}; a whitespace tokenizer keeps it",
        "remove the term, or use it only in analyzers whose tokenizer keeps it (whitespace), and "
        "state the tokenizer with synonym_tokenizer",
        line=number,
        summary="terms the standard tokenizer drops",
    )
