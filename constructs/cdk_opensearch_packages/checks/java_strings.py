"""Java's string primitives as the OpenSearch and Lucene dictionary loaders use them.

Python's ``str.strip``, ``str.isspace``, ``str.split`` and ``len`` each differ from their Java
counterparts on some characters; the dictionary checks call these instead, so a line is kept,
trimmed, split and measured exactly as the engine does.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "cut_hash_comment",
    "has_text",
    "is_java_whitespace",
    "java_regex_whitespace_split",
    "java_split_on_space",
    "strip_java_regex_whitespace",
    "utf16_length",
]

# Character.isWhitespace: the space, line and paragraph separators except the no-break ones,
# plus the C0 controls below.
_JAVA_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")
# The regex class \s without UNICODE_CHARACTER_CLASS: [ \t\n\x0B\f\r].
_JAVA_REGEX_WHITESPACE = re.compile(r"[ \t\n\x0b\x0c\r]+")
# What java.util.regex's '.' does not match, and '$' may stand before at the end of the input.
_JAVA_LINE_TERMINATORS = frozenset("\n\r\u0085\u2028\u2029")


def is_java_whitespace(char: str) -> bool:
    """``Character.isWhitespace`` for one code point."""
    if char in _JAVA_WHITESPACE_CONTROLS:
        return True
    if char in _NO_BREAK_SPACES:
        return False
    return unicodedata.category(char) in ("Zs", "Zl", "Zp")


def has_text(line: str) -> bool:
    """OpenSearch's ``Strings.hasText``: at least one character that is not whitespace."""
    return any(not is_java_whitespace(char) for char in line)


def utf16_length(text: str) -> int:
    """``String.length()``: UTF-16 code units (a character above U+FFFF counts twice)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def java_split_on_space(text: str) -> list[str]:
    """``text.split(" ")``: trailing empty pieces dropped, a leading one kept."""
    if " " not in text:
        return [text]
    pieces = text.split(" ")
    while pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


def java_regex_whitespace_split(text: str) -> list[str]:
    r"""``text.split("\\s+")``: as :func:`java_split_on_space`, at runs of ASCII blanks."""
    if not _JAVA_REGEX_WHITESPACE.search(text):
        return [text]
    pieces = _JAVA_REGEX_WHITESPACE.split(text)
    while pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


def strip_java_regex_whitespace(text: str) -> str:
    r"""``text.replaceAll("\\s", "")``."""
    return _JAVA_REGEX_WHITESPACE.sub("", text)


def cut_hash_comment(text: str) -> str:
    """``text.replaceAll("#.*$", "")``, as Java's regex engine does it.

    ``.`` stops at a line terminator (U+0085, U+2028 and U+2029 among them, which
    ``readLine`` leaves in the line) and ``$`` matches at the end, or before a terminator that
    ends the text: so ``a#b\u2028`` becomes ``a\u2028``, and in ``a#b\u2028c#d`` the first ``#``
    starts no match.
    """
    start = text.find("#")
    while start >= 0:
        end = start + 1
        while end < len(text) and text[end] not in _JAVA_LINE_TERMINATORS:
            end += 1
        if end >= len(text) - 1 or text[end:] == "\r\n":
            return text[:start] + text[end:]
        start = text.find("#", start + 1)
    return text
