"""The differential test: the dictionary checks against the real Lucene parsers.

``tests/oracle`` holds a corpus of dictionary files, hand-written (``corpus/<kind>/``) and
generated (``generated.jsonl``, from a seeded generator), and the verdicts Lucene gave on each
(``verdicts.json``: accept, or reject with the exception), recorded by ``make oracle`` running
``LuceneOracle.java`` the way OpenSearch loads each kind of file. Java is not needed here.

Two promises are held on every file:

- no miss: a file Lucene rejects gets at least one error (synonyms: under the tokenizer the
  check is told, and, when it is told none, wherever every tokenizer rejects the file);
- no false error: a file Lucene accepts gets errors only for the documented corruptions, which
  the engine accepts but reads wrongly (byte-order mark, NUL, an empty file the service rejects).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdk_opensearch_packages.checks.lines import java_lines
from cdk_opensearch_packages.checks.text import check_text_dictionary
from cdk_opensearch_packages.checks.word_lists import read_word_list

ORACLE = Path(__file__).resolve().parents[2] / "oracle"
KINDS = {
    "synonyms": "SYNONYMS",
    "stopwords": "STOPWORDS",
    "kuromoji": "KUROMOJI_USER_DICTIONARY",
    "nori": "NORI_USER_DICTIONARY",
}
#: The errors allowed on a file Lucene accepts (by a phrase of their message): the engine takes
#: the file but corrupts a term, or the package service rejects the file before the engine.
DOCUMENTED_CORRUPTIONS = {
    "byte-order mark": "U+FEFF glued to the first word",
    "NUL character": "U+0000 is the synonym map's word separator",
    "the dictionary is empty": "the service rejects an empty package file",
}
#: The cases the issue named, each of which must stay in the corpus.
NAMED_CASES = [
    "synonyms/comma-space-line.txt",
    "synonyms/ideographic-space-term.txt",
    "synonyms/indented-hash-empty-term.txt",
    "synonyms/double-arrow.txt",
    "synonyms/arrow-no-rhs.txt",
    "kuromoji/three-fields.txt",
    "kuromoji/unbalanced-quote.txt",
    "kuromoji/count-mismatch.txt",
    "kuromoji/duplicate.txt",
    "nori/segmentation-longer.txt",
]


def _load_corpus() -> dict[str, tuple[str, bytes]]:
    cases: dict[str, tuple[str, bytes]] = {}
    for kind in KINDS:
        for path in sorted((ORACLE / "corpus" / kind).glob("*.txt")):
            cases[f"{kind}/{path.name}"] = (kind, path.read_bytes())
    with (ORACLE / "generated.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            case = json.loads(line)
            data = (
                base64.b64decode(case["base64"])
                if "base64" in case
                else case["text"].encode("utf-8")
            )
            cases[case["name"]] = (case["kind"], data)
    return cases


CORPUS = _load_corpus()
VERDICTS: dict[str, dict[str, str]] = json.loads(
    (ORACLE / "verdicts.json").read_text(encoding="utf-8")
)


def _runs() -> Iterator[tuple[str, str, str | None, bool]]:
    """Every check to make: (file name, kind, tokenizer told, whether Lucene rejects)."""
    for name, (kind, _) in CORPUS.items():
        verdict = VERDICTS[name]
        if kind == "synonyms":
            standard = verdict["standard"].startswith("reject")
            whitespace = verdict["whitespace"].startswith("reject")
            yield name, kind, "STANDARD", standard
            yield name, kind, "WHITESPACE", whitespace
            yield name, kind, None, standard and whitespace
        else:
            yield name, kind, None, verdict["engine"].startswith("reject")


def _errors(name: str, kind: str, tokenizer: str | None) -> list[str]:
    findings = check_text_dictionary(
        name, CORPUS[name][1], KINDS[kind], synonym_tokenizer=tokenizer
    )
    return [finding.message for finding in findings if finding.severity == "error"]


RESULTS = [
    (name, kind, tokenizer, rejected, _errors(name, kind, tokenizer))
    for name, kind, tokenizer, rejected in _runs()
]


def test_every_corpus_file_has_a_verdict() -> None:
    assert set(CORPUS) == set(VERDICTS), "run `make oracle` after changing the corpus"
    for name, (kind, _) in CORPUS.items():
        assert VERDICTS[name]["kind"] == kind, name


def test_the_corpus_holds_the_named_cases_and_rejections_of_every_kind() -> None:
    missing = [name for name in NAMED_CASES if name not in CORPUS]
    assert not missing, missing
    for kind in KINDS:
        if kind == "stopwords":
            continue  # OpenSearch rejects a stop word list only for its encoding
        rejected = sum(1 for _, k, _, r, _ in RESULTS if k == kind and r)
        accepted = sum(1 for _, k, _, r, _ in RESULTS if k == kind and not r)
        assert rejected >= 100 and accepted >= 100, (kind, rejected, accepted)


def test_no_file_lucene_rejects_passes_without_an_error() -> None:
    misses = [
        f"{name} (tokenizer {tokenizer}): {VERDICTS[name]}"
        for name, kind, tokenizer, rejected, errors in RESULTS
        if rejected and not errors
    ]
    assert not misses, f"{len(misses)} files Lucene rejects pass:\n" + "\n".join(misses[:20])


def test_errors_on_files_lucene_accepts_are_documented_corruptions() -> None:
    false_errors = [
        f"{name} (tokenizer {tokenizer}): {error}"
        for name, kind, tokenizer, rejected, errors in RESULTS
        if not rejected
        for error in errors
        if not any(phrase in error for phrase in DOCUMENTED_CORRUPTIONS)
    ]
    assert not false_errors, f"{len(false_errors)} false errors:\n" + "\n".join(false_errors[:20])


def test_stop_word_lists_are_read_as_opensearch_reads_them() -> None:
    differences = []
    for name, (kind, data) in CORPUS.items():
        if kind != "stopwords" or VERDICTS[name]["engine"].startswith("reject"):
            continue
        verdict = VERDICTS[name]["engine"]
        words, _ = read_word_list(java_lines(data.decode("utf-8")))
        if f"accept:{len(words)}" != verdict:
            differences.append(f"{name}: {len(words)} words, OpenSearch {verdict}")
    assert not differences, "\n".join(differences[:20])


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    script = ORACLE / "generate_corpus.py"
    subprocess.run(
        [sys.executable, str(script), "--output", str(tmp_path / "generated.jsonl")], check=True
    )
    assert (tmp_path / "generated.jsonl").read_bytes() == (ORACLE / "generated.jsonl").read_bytes()


@pytest.mark.parametrize("name", ["synonyms/bom.txt", "kuromoji/bom.txt", "nori/bom.txt"])
def test_a_byte_order_mark_is_an_error_although_lucene_accepts_it(name: str) -> None:
    kind, _ = CORPUS[name]
    assert all(value.startswith("accept") for key, value in VERDICTS[name].items() if key != "kind")
    assert any("byte-order mark" in error for error in _errors(name, kind, None))
