"""The ``.properties`` reader behaves like ``java.util.Properties.load(InputStream)``."""

from __future__ import annotations

import pytest

from cdk_opensearch_packages.checks.java_properties import parse_java_properties
from cdk_opensearch_packages.checks.synonyms import split_unescaped


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"a=1\nb = 2\nc:3\nd 4\n", {"a": "1", "b": "2", "c": "3", "d": "4"}, id="seps"
        ),
        pytest.param(b"a  =  =x\n", {"a": "=x"}, id="only-first-separator-counts"),
        pytest.param(b"a \t:\f v \n", {"a": "v "}, id="value-keeps-trailing-blanks"),
        pytest.param(b"# c=1\n! d=2\n   # e=3\n\n \t\nf=4", {"f": "4"}, id="comments-blank-lines"),
        pytest.param(b"a=x\\\n    y\\\n  z\n", {"a": "xyz"}, id="continuation-drops-indent"),
        pytest.param(b"a=x\\\\\nb=y\n", {"a": "x\\", "b": "y"}, id="escaped-backslash-ends-line"),
        pytest.param(b"# comment \\\na=1\n", {"a": "1"}, id="comment-does-not-continue"),
        pytest.param(b"a=x\\\r\n y\r\nb=2\rc=3", {"a": "xy", "b": "2", "c": "3"}, id="cr-crlf"),
        pytest.param(b"k\\=ey=v\\:w\n", {"k=ey": "v:w"}, id="escaped-separators"),
        pytest.param(b"k\\ ey = v\n", {"k ey": "v"}, id="escaped-blank-in-key"),
        pytest.param(b"a=\\t\\n\\q\\u00e9\n", {"a": "\t\nq\u00e9"}, id="escapes"),
        pytest.param(b"a=caf\xe9\n", {"a": "caf\u00e9"}, id="latin-1-bytes"),
        pytest.param(b"a=1\na=2\n", {"a": "2"}, id="last-duplicate-wins"),
        pytest.param(b"a\n", {"a": ""}, id="key-without-value"),
        pytest.param(b"a=last\\", {"a": "last"}, id="backslash-at-end-of-file"),
    ],
)
def test_reads_like_java(data: bytes, expected: dict[str, str]) -> None:
    parsed = parse_java_properties(data)
    assert parsed.values == expected
    assert parsed.errors == []


def test_records_the_line_where_each_entry_starts() -> None:
    parsed = parse_java_properties(b"# header\n\na=1\nb=x\\\n  y\nc=3\n")
    assert parsed.lines == {"a": 3, "b": 4, "c": 6}


@pytest.mark.parametrize("escape", [b"\\u00e", b"\\uzzzz", b"\\u"])
def test_fails_malformed_unicode_escape(escape: bytes) -> None:
    parsed = parse_java_properties(b"ok=1\nbad=" + escape + b"\n")
    assert parsed.values == {"ok": "1"}
    assert len(parsed.errors) == 1
    line, problem = parsed.errors[0]
    assert line == 2
    assert "Malformed \\uxxxx encoding." in problem


@pytest.mark.parametrize(
    ("text", "separator", "pieces"),
    [
        ("a, b", ",", ["a", " b"]),
        ("a,,b,", ",", ["a", "", "b", ""]),
        ("a\\,b, c", ",", ["a\\,b", " c"]),
        ("a\\=>b => c", "=>", ["a\\=>b ", " c"]),
        ("a => b => c", "=>", ["a ", " b ", " c"]),
        ("a\\\\, b", ",", ["a\\\\", " b"]),
        ("a\\", ",", ["a\\"]),
    ],
)
def test_split_unescaped_keeps_escapes_and_empty_pieces(
    text: str, separator: str, pieces: list[str]
) -> None:
    assert split_unescaped(text, separator) == pieces
