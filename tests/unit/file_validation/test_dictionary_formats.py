"""The format checks of synonym files, stop word lists and kuromoji/nori user dictionaries.

Each rule once, on a few lines written here; the differential test
(``test_dictionary_oracle.py``) holds them against Lucene on thousands of files. Lucene's
verdict for each case is in the comment above it.
"""

from __future__ import annotations

import pytest

from cdk_opensearch_packages.checks.files import FileFinding
from cdk_opensearch_packages.checks.java_strings import (
    cut_hash_comment,
    has_text,
    java_regex_whitespace_split,
    java_split_on_space,
    utf16_length,
)
from cdk_opensearch_packages.checks.synonyms import standard_tokenizer_keeps
from cdk_opensearch_packages.checks.text import check_text_dictionary
from cdk_opensearch_packages.checks.user_dictionaries import parse_csv

KUROMOJI = "KUROMOJI_USER_DICTIONARY"
NORI = "NORI_USER_DICTIONARY"
ENTRY = "関西国際空港,関西 国際 空港,カンサイ コクサイ クウコウ,カスタム名詞"


def check(text: str, kind: str, tokenizer: str | None = None) -> list[FileFinding]:
    return check_text_dictionary(
        "dict.txt", text.encode("utf-8"), kind, synonym_tokenizer=tokenizer
    )


def only(findings: list[FileFinding], severity: str, line: int, *parts: str) -> None:
    """Exactly one finding, of ``severity``, on ``line``, holding ``parts`` and a fix."""
    assert len(findings) == 1, [finding.message for finding in findings]
    message = findings[0].message
    assert findings[0].severity == severity, message
    assert message.startswith(f"dict.txt:{line}: "), message
    for part in parts:
        assert part in message, (part, message)
    assert " Fix: " in message, message


# --- Java's string primitives ----------------------------------------------------------------


def test_java_string_primitives() -> None:
    assert not has_text(" \t\u3000\u2028\x1c") and has_text("\u00a0") and has_text("\x01")
    assert java_split_on_space(" a b ") == ["", "a", "b"]
    assert java_split_on_space(" ") == [] and java_split_on_space("") == [""]
    assert java_regex_whitespace_split("a \t b\u3000c ") == ["a", "b\u3000c"]
    assert utf16_length("a\U0001f642") == 3
    # replaceAll("#.*$", ""): '.' stops at U+2028, '$' matches before a final terminator only.
    assert cut_hash_comment("a # b") == "a "
    assert cut_hash_comment("a#b\u2028") == "a\u2028"
    assert cut_hash_comment("a#b\u2028c#d") == "a#b\u2028c"
    assert cut_hash_comment("a#b\u2028c") == "a#b\u2028c"


def test_standard_tokenizer_table() -> None:
    for term in ("a", "42", "東", "ไทย", "\U0001f642", "\u00a9", "#\u20e3", "\U0001f1ef\U0001f1f5"):
        assert standard_tokenizer_keeps(term), term
    for term in ("-", "&", "...", "_", "\u00a0", "\u200b", "\u0301", "#", "\U0001f1ef", "\u00b0"):
        assert not standard_tokenizer_keeps(term), term


# --- synonyms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "part"),
    [
        ("a, b\n, \n", 2, "empty term"),  # rejected with every tokenizer
        ("a, \u3000\n", 1, "U+3000"),  # String.trim keeps U+3000: a term of blanks
        ("a => b => c\n", 1, "2 explicit mappings"),
    ],
)
def test_synonym_errors(text: str, line: int, part: str) -> None:
    only([f for f in check(text, "SYNONYMS") if f.severity == "error"], "error", line, part)


def test_an_indented_hash_is_a_term() -> None:
    # "  #" is the rule "#": the standard tokenizer drops it, the whitespace one keeps it.
    text = "a, b\n  #\n"
    assert [f.severity for f in check(text, "SYNONYMS", "WHITESPACE")] == ["warning"] * 3
    errors = [f for f in check(text, "SYNONYMS", "STANDARD") if f.severity == "error"]
    only(errors, "error", 2, "'#'", "standard tokenizer")


@pytest.mark.parametrize(
    ("tokenizer", "severity"), [("STANDARD", "error"), ("WHITESPACE", "warning"), (None, "warning")]
)
def test_a_term_without_letters_depends_on_the_tokenizer(
    tokenizer: str | None, severity: str
) -> None:
    only(check("and, &\n", "SYNONYMS", tokenizer), severity, 1, "'&'", "standard tokenizer")


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("a =>=> b\n", "2 '=>' with nothing between them"),  # read as a => b
        ("a, b =>\n", "no term on one side of '=>'"),  # the list "a", "b =>"
        (",=> b\n", "left side of '=>' holds only commas"),  # accepted, maps nothing
        ("a,,b\n", "',,'"),
        ("a\\\n", "single term"),
    ],
)
def test_synonym_warnings(text: str, part: str) -> None:
    findings = check(text, "SYNONYMS", "STANDARD")
    assert all(f.severity == "warning" for f in findings), findings
    assert any(part in f.message for f in findings), [f.message for f in findings]


def test_a_flag_emoji_is_a_term() -> None:
    # Two regional indicators make one token; one alone makes none.
    assert check("japan, \U0001f1ef\U0001f1f5\n", "SYNONYMS", "STANDARD") == []


# --- stop words ----------------------------------------------------------------------------


def test_stop_word_of_invisible_characters() -> None:
    # "\u200b" has text (it is not whitespace for Java) and is not trimmed: one stop word.
    only(check("a\n\u200b\n", "STOPWORDS"), "warning", 2, "invisible")


def test_stop_words_read_as_opensearch_does() -> None:
    assert check("# list\na\n\u3000\n  the \n", "STOPWORDS") == []


# --- kuromoji ------------------------------------------------------------------------------


def test_csv_quirks() -> None:
    assert parse_csv('"a,b",c') == ["a,b", "c"]
    assert parse_csv('"a""b",x') == ['"a"b"', "x"]  # not fully quoted: only "" -> "
    assert parse_csv('a,"b"') == ["a", '"b"']  # the last field keeps its quotes
    assert parse_csv('"a,b') == []


def test_valid_kuromoji_dictionary() -> None:
    assert (
        check(f"# custom\n\n{ENTRY}\n朝青龍,朝青龍,アサショウリュウ,カスタム人名\n", KUROMOJI) == []
    )


@pytest.mark.parametrize(
    ("text", "line", "part"),
    [
        ('"東京,東京,トウキョウ,名詞\n', 1, "odd number of double quotes"),
        (f"{ENTRY}\n{ENTRY}\n", 2, "already defined on line 1"),
        ("東京,東京,トウキョウ\n", 1, "3 fields but needs four"),
        (
            "関西国際空港,関西 国際空港,カンサイ コクサイ クウコウ,名詞\n",
            1,
            "has 2 space-separated",
        ),
        ("東京,東京 都,トウキョウ ト,名詞\n", 1, "longer than the surface form"),
        ("c#,c#,シーシャープ,名詞\n", 1, "Lucene 8's kuromoji"),  # cut to "c": one field
        ("\x01\n\x01\n", 2, "already defined"),  # both trim to "": OpenSearch's duplicate check
    ],
)
def test_kuromoji_errors(text: str, line: int, part: str) -> None:
    only(check(text, KUROMOJI), "error", line, part)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("東京都,東京,トウキョウ,名詞\n", "Lucene 9 and later"),
        ("東京,東京,トウキョウ,名詞,extra\n", "5 fields"),
        ('東京,東京,トウキョウ,"名詞"\n', "keeps its quotes"),
        ("東京,東京,トウキョウ,名詞 # city\n", "cuts the line there"),
        (",,,名詞\n", "surface form is empty"),
        ("# only a comment\n", "defines no word"),
    ],
)
def test_kuromoji_warnings(text: str, part: str) -> None:
    findings = check(text, KUROMOJI)
    assert [f.severity for f in findings] == ["warning"], findings
    assert part in findings[0].message, findings[0].message


# --- nori ----------------------------------------------------------------------------------


def test_valid_nori_dictionary() -> None:
    assert check("# custom\n세종시 세종 시\nc++\n\n해물\n", NORI) == []


def test_nori_segmentation_longer_than_the_surface_form() -> None:
    only(check("세종 세종 시\n", NORI), "error", 1, "longer together", "bigger than")


@pytest.mark.parametrize(
    ("text", "line", "part"),
    [
        ("세종시 세종 시\n세종시 세 종시\n", 2, "silently ignores"),
        ("세종시 세종\n", 1, "do not spell"),
        ("c# 언어\n", 1, "reads 'c'"),
        ("세종시\u3000세종\n", 1, "U+3000"),
    ],
)
def test_nori_warnings(text: str, line: int, part: str) -> None:
    only(check(text, NORI), "warning", line, part)


def test_nori_duplicate_is_skipped_before_its_segmentation_is_checked() -> None:
    # Lucene skips the second entry whole: its too long segmentation never fails.
    only(check("세종시\n세종시 세종시 세종시\n", NORI), "warning", 2, "already defined")
