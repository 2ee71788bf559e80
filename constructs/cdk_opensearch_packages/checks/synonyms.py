"""Checks of synonym dictionaries in the Solr format read by ``synonym`` / ``synonym_graph``.

The rules follow Lucene's ``SolrSynonymParser`` (what OpenSearch's filters run with the default
``format``), line by line as ``BufferedReader.readLine`` splits them:

- a line that is empty, or whose FIRST character is ``#``, is skipped; nothing else is (an
  indented ``#`` is a rule, a line of blanks is a rule with an empty term);
- the line is split at every unescaped ``=>``; one ``=>`` is an explicit mapping, none is a list
  of equivalent terms, more than one is rejected ("more than one explicit mapping specified on
  the same line");
- each side is split at unescaped ``,``; a backslash escapes the next character (``\\,``,
  ``\\=>``, ``\\\\``); empty pieces (``a,,b``, a trailing ``,``) are dropped silently;
- each term is unescaped, trimmed (``String.trim``) and run through the analyzer; a term that
  analyzes to nothing fails the filter with "term: ... was completely eliminated by analyzer"
  (unless the filter sets ``lenient: true``, which drops the rule instead).

Lucene's own splitting hides some mistakes: ``=> b`` and ``a =>`` contain no separator once the
empty side is dropped, so they are read as a one-term list that maps nothing. Those are reported
as errors too: the rule the user wrote is not the rule the engine runs.
"""

from __future__ import annotations

import re
import unicodedata

from cdk_opensearch_packages.checks.findings import FindingCollector
from cdk_opensearch_packages.checks.lines import java_trim

__all__ = ["check_synonym_rules", "split_unescaped"]

_MAPPING = "=>"

# Unicode categories the standard tokenizer never turns into a token on their own:
# punctuation, separators, and math/currency/modifier symbols (emoji, category So, are kept).
_DROPPED_CATEGORIES = ("P", "Z", "Sm", "Sc", "Sk", "C")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split at each ``separator`` not preceded by an escaping backslash, keeping empty pieces.

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


def _has_no_token(term: str) -> bool:
    if _LETTER_OR_DIGIT.search(term):
        return False
    return all(unicodedata.category(char).startswith(_DROPPED_CATEGORIES) for char in term)


def check_synonym_rules(collector: FindingCollector, lines: list[str]) -> None:
    """Check every line of a Solr-format synonym file; findings go to ``collector``.

    :param collector: collects the findings (its path names the file).
    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    rules = 0
    for number, line in enumerate(lines, start=1):
        if line == "" or line.startswith("#"):
            continue
        rules += 1
        if java_trim(line) == "":
            collector.add(
                "blank",
                "error",
                "the line holds only whitespace; the synonym parser skips only truly empty lines, "
                "so it reads this as a rule with an empty term and OpenSearch rejects the file "
                "('was completely eliminated by analyzer')",
                "delete the spaces or tabs on that line",
                line=number,
                summary="whitespace-only lines",
            )
            continue
        if java_trim(line).startswith("#"):
            collector.add(
                "indented-comment",
                "warning",
                "the line starts with whitespace before '#', so it is not a comment: the synonym "
                "parser reads it as a rule",
                "put the '#' in the first column",
                line=number,
                summary="indented comments",
            )
            continue
        _check_rule(collector, number, line)

    if rules == 0:
        collector.add(
            "no-rules",
            "warning",
            "the synonym file holds only comments and blank lines: it defines no synonym",
            "add rules such as `tv, television` or `i-pod => ipod`, or drop the package",
        )


def _check_rule(collector: FindingCollector, number: int, line: str) -> None:
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
    sides = split_unescaped(line, _MAPPING)
    if len(sides) > 2:
        collector.add(
            "mappings",
            "error",
            f"the rule has {len(sides) - 1} '=>'; a rule holds at most one explicit mapping "
            "(Lucene: 'more than one explicit mapping specified on the same line')",
            "write one mapping per line (`a => b`, then `b => c`), or escape a literal arrow as "
            "`\\=>`",
            line=number,
            summary="lines with more than one '=>'",
        )
        return
    if len(sides) == 2:
        left = _check_terms(collector, number, sides[0], "left side")
        right = _check_terms(collector, number, sides[1], "right side")
        if not left and not right:
            collector.add(
                "empty-side",
                "error",
                "the rule is a dangling '=>' with no term on either side",
                "write the mapping in full (`input, other input => output`) or delete the line",
                line=number,
                summary="rules with an empty side",
            )
        elif not left or not right:
            before = not left
            collector.add(
                "empty-side",
                "error",
                f"no term {'before' if before else 'after'} '=>': an explicit mapping needs terms "
                "on both sides (the engine would not read this as the mapping written)",
                f"add the {'input terms before' if before else 'output terms after'} '=>', or "
                "drop the '=>' to list equivalent terms (`a, b, c`)",
                line=number,
                summary="rules with an empty side",
            )
        return
    terms = _check_terms(collector, number, line, "rule")
    if terms <= 1:
        collector.add(
            "single-term",
            "warning",
            f"the rule lists {'a single term' if terms else 'no term'} and no '=>', so it maps "
            "nothing",
            "list its synonyms (`a, b`) or map it (`a => b`); escape a literal comma as `\\,`",
            line=number,
            summary="rules that map nothing",
        )


def _check_terms(collector: FindingCollector, number: int, side: str, where: str) -> int:
    """Check the comma-separated terms of one side; return how many terms the engine reads.

    A side without any term (only blanks and commas) returns 0 without findings: the caller
    says what that means for the rule.
    """
    pieces = split_unescaped(side, ",")
    if all(java_trim(piece) == "" for piece in pieces):
        return 0
    skipped: list[str] = []
    read = 0
    for index, raw in enumerate(pieces):
        if raw == "":
            if index == 0:
                skipped.append("a leading ','")
            elif index == len(pieces) - 1:
                skipped.append("a trailing ','")
            elif "',,'" not in skipped:
                skipped.append("',,'")
            continue
        read += 1
        term = java_trim(_unescape(raw))
        if term == "":
            collector.add(
                "empty-term",
                "error",
                f"the {where} has an empty term (only whitespace between separators, e.g. "
                "`a, , b`, or blanks after a trailing ','); OpenSearch rejects the file ('was "
                "completely eliminated by analyzer')",
                "remove the extra ',' or write the missing term, and delete trailing blanks",
                line=number,
                summary="empty terms",
            )
        elif _has_no_token(term):
            collector.add(
                "no-token",
                "warning",
                f"the term {term!r} has no letter, digit or emoji: with the standard tokenizer it "
                "analyzes to nothing and OpenSearch rejects the file ('was completely eliminated "
                "by analyzer'), unless the filter sets lenient: true (which drops the rule)",
                "remove the term, or use it only with a tokenizer that keeps it (e.g. whitespace)",
                line=number,
                summary="terms without letters or digits",
            )
    if skipped:
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
