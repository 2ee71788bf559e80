"""Checks of stop word lists as OpenSearch's ``stopwords_path`` loader reads them.

OpenSearch reads the file with its word-list reader (see
:mod:`~cdk_opensearch_packages.checks.word_lists`): lines without text are skipped, the others
trimmed (``String.trim``), trimmed lines starting with ``#`` are comments, and every other line is
ONE stop word. Nothing is rejected but the encoding; the checks flag lines the engine reads
differently from how they look.
"""

from __future__ import annotations

from cdk_opensearch_packages.checks.findings import FindingCollector
from cdk_opensearch_packages.checks.java_strings import is_java_whitespace
from cdk_opensearch_packages.checks.word_lists import read_word_list

__all__ = ["check_stop_words"]


def check_stop_words(collector: FindingCollector, lines: list[str]) -> None:
    """Check every line of a stop word list; findings go to ``collector``.

    :param collector: collects the findings (its path names the file).
    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    words, comments = read_word_list(lines)
    for comment in comments:
        if not comment.raw.startswith("#"):
            collector.add(
                "indented-comment",
                "warning",
                f"the line starts with blanks before '#': recent OpenSearch releases skip it as a "
                f"comment, older ones (and Elasticsearch 7.x) add {comment.text!r} as a stop word",
                "put the '#' in the first column",
                line=comment.number,
                summary="indented comments",
            )
    for word in words:
        if not any(char.isprintable() and not char.isspace() for char in word.text):
            collector.add(
                "invisible",
                "warning",
                f"the line holds only invisible characters ({word.text!r}) that OpenSearch does "
                "not trim: it adds them as a stop word, which matches no token",
                "delete the line",
                line=word.number,
                summary="invisible stop words",
            )
        elif any(is_java_whitespace(char) or char.isspace() for char in word.text):
            collector.add(
                "spaces",
                "warning",
                f"the line {word.text!r} is ONE stop word containing blanks (one word per line; "
                "commas and spaces do not separate words); the stop filter compares it with "
                "single tokens, so after a tokenizer that splits on blanks it never matches",
                "put each stop word on its own line",
                line=word.number,
                summary="stop words containing blanks",
            )
    if not words:
        collector.add(
            "no-words",
            "warning",
            "the stop word list holds only comments and blank lines: it removes nothing",
            "add one stop word per line, or drop the package",
        )
