"""A reader of Java ``.properties`` files that behaves like ``java.util.Properties.load``.

OpenSearch reads ``plugin-descriptor.properties`` with ``Properties.load(InputStream)``:

- the bytes are ISO-8859-1 (other characters only as ``\\uXXXX`` escapes);
- lines end at ``\\n``, ``\\r`` or ``\\r\\n``; a line ending with an odd number of backslashes
  continues on the next one, whose leading blanks are dropped;
- a line whose first non-blank character is ``#`` or ``!`` is a comment (no continuation);
  blank lines are skipped; blanks are space, tab and form feed;
- the key ends at the first unescaped ``=``, ``:`` or blank; blanks, then one ``=`` or ``:``,
  then blanks separate it from the value;
- escapes: ``\\t``, ``\\n``, ``\\r``, ``\\f``, ``\\uXXXX`` (four hex digits, else the load fails
  with "Malformed \\uxxxx encoding."), and a backslash before any other character keeps that
  character; a later duplicate key wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdk_opensearch_packages.checks.lines import java_lines

__all__ = ["JavaProperties", "parse_java_properties"]

_BLANKS = " \t\f"
_SIMPLE_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass
class JavaProperties:
    """What :func:`parse_java_properties` read.

    :param values: the properties, later duplicates winning.
    :param lines: the 1-based line where each key's (last) entry starts.
    :param errors: ``(line, problem)`` pairs that make ``Properties.load`` throw.
    """

    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_java_properties(data: bytes) -> JavaProperties:
    """Parse ``data`` as ``Properties.load(InputStream)`` does.

    :param data: the file's bytes.
    """
    result = JavaProperties()
    natural = java_lines(data.decode("latin-1"))
    index = 0
    while index < len(natural):
        start_line = index + 1
        line = natural[index].lstrip(_BLANKS)
        index += 1
        if not line or line[0] in "#!":
            continue
        while _ends_with_odd_backslashes(line):
            line = line[:-1]
            if index >= len(natural):
                break
            line += natural[index].lstrip(_BLANKS)
            index += 1
        key_raw, value_raw = _split_key_value(line)
        try:
            key = _convert(key_raw)
            value = _convert(value_raw)
        except ValueError as error:
            result.errors.append((start_line, str(error)))
            continue
        result.values[key] = value
        result.lines[key] = start_line
    return result


def _ends_with_odd_backslashes(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_key_value(line: str) -> tuple[str, str]:
    key_end = len(line)
    value_start = len(line)
    has_separator = False
    backslash = False
    for position, char in enumerate(line):
        if char == "\\":
            backslash = not backslash
            continue
        if not backslash and char in "=:":
            key_end, value_start, has_separator = position, position + 1, True
            break
        if not backslash and char in _BLANKS:
            key_end, value_start = position, position + 1
            break
        backslash = False
    while value_start < len(line):
        char = line[value_start]
        if char not in _BLANKS:
            if has_separator or char not in "=:":
                break
            has_separator = True
        value_start += 1
    return line[:key_end], line[value_start:]


def _convert(raw: str) -> str:
    out: list[str] = []
    position = 0
    while position < len(raw):
        char = raw[position]
        position += 1
        if char != "\\" or position >= len(raw):
            out.append(char)
            continue
        char = raw[position]
        position += 1
        if char == "u":
            digits = raw[position : position + 4]
            if len(digits) < 4 or not set(digits) <= _HEX:
                raise ValueError(
                    f"malformed \\uXXXX escape '\\u{digits}' (Java: 'Malformed \\uxxxx encoding.')"
                )
            out.append(chr(int(digits, 16)))
            position += 4
        else:
            out.append(_SIMPLE_ESCAPES.get(char, char))
    return "".join(out)
