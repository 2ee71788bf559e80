"""How OpenSearch reads a word-list file: stop words and the analysis plugins' user dictionaries.

``Analysis.parseWordList`` (OpenSearch 2.x and later) reads the file with
``BufferedReader.readLine`` (a line ends at ``\\n``, ``\\r`` or ``\\r\\n``), skips every line
without text (``Strings.hasText``: only ``Character.isWhitespace`` characters, so a line of
U+3000 is skipped but a line of U+00A0 is not), trims the others (``String.trim``: characters up
to U+0020 only), and then drops the trimmed lines that start with ``#``: an indented ``#`` is a
comment too. OpenSearch 1.x checked for ``#`` before trimming, so there an indented ``#`` line was
a word.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk_opensearch_packages.checks.java_strings import has_text
from cdk_opensearch_packages.checks.lines import java_trim

__all__ = ["WordListLine", "read_word_list"]


@dataclass(frozen=True)
class WordListLine:
    """One line OpenSearch keeps.

    :param number: the 1-based line number in the file.
    :param raw: the line as ``readLine`` returns it.
    :param text: the line trimmed, as OpenSearch passes it on.
    """

    number: int
    raw: str
    text: str


def read_word_list(lines: list[str]) -> tuple[list[WordListLine], list[WordListLine]]:
    """The lines OpenSearch keeps: the rules (or words), then the comments it drops.

    :param lines: the decoded lines, as ``BufferedReader.readLine`` returns them.
    """
    rules: list[WordListLine] = []
    comments: list[WordListLine] = []
    for number, raw in enumerate(lines, start=1):
        if not has_text(raw):
            continue
        line = WordListLine(number, raw, java_trim(raw))
        (comments if line.text.startswith("#") else rules).append(line)
    return rules, comments
