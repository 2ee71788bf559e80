"""Checks of stop word lists as OpenSearch's ``stopwords_path`` loader reads them.

``Analysis.getWordList`` reads the file line by line (``BufferedReader.readLine``), skips lines
without text, skips lines whose FIRST character is ``#``, and adds every other line, trimmed, as
one stop word. Nothing is rejected; the checks only flag lines the engine reads differently from
how they look.
"""

from __future__ import annotations

from cdk_opensearch_packages.checks.findings import FindingCollector
from cdk_opensearch_packages.checks.lines import java_trim

__all__ = ["check_stop_words"]


def check_stop_words(collector: FindingCollector, lines: list[str]) -> None:
    """Check every line of a stop word list; findings go to ``collector``.

    :param collector: collects the findings (its path names the file).
    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    words = 0
    for number, line in enumerate(lines, start=1):
        # Strings.hasText: at least one non-whitespace character.
        if not line.strip() or line.startswith("#"):
            continue
        words += 1
        word = java_trim(line)
        if word.startswith("#"):
            collector.add(
                "indented-comment",
                "warning",
                f"the line starts with whitespace before '#', so it is not a comment: "
                f"{word!r} is added as a stop word",
                "put the '#' in the first column",
                line=number,
                summary="indented comments",
            )
        elif any(char.isspace() for char in word):
            collector.add(
                "spaces",
                "warning",
                f"the line {word!r} is ONE stop word containing whitespace (one word per line; "
                "commas and spaces do not separate words); the stop filter compares it with "
                "single tokens, so after a tokenizer that splits on whitespace it never matches",
                "put each stop word on its own line",
                line=number,
                summary="stop words containing whitespace",
            )
    if words == 0:
        collector.add(
            "no-words",
            "warning",
            "the stop word list holds only comments and blank lines: it removes nothing",
            "add one stop word per line, or drop the package",
        )
