"""Runs the real Lucene parsers on the differential corpus and writes ``verdicts.json``.

``make oracle`` calls this after compiling ``LuceneOracle.java`` (it needs a JDK and Debian's
``liblucene8-java``: Lucene 8 with the kuromoji and nori analyzers). The corpus is every file
under ``corpus/<kind>/`` (hand-written) plus every line of ``generated.jsonl`` (written by
``generate_corpus.py``). Each file is written to a temporary folder, the oracle reads them all
in one JVM, and the verdicts are saved by name, so ``make test`` compares the library with
Lucene without Java.

Usage: ``python tests/oracle/run_oracle.py --classpath CLASSPATH``
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
GENERATED = HERE / "generated.jsonl"
VERDICTS = HERE / "verdicts.json"
TABLE = HERE.parents[1] / "constructs" / "cdk_opensearch_packages" / "checks" / "standard_tokens.py"
KINDS = ("synonyms", "stopwords", "kuromoji", "nori")


def load_corpus() -> dict[str, tuple[str, bytes]]:
    """Every corpus file: name -> (kind, content)."""
    cases: dict[str, tuple[str, bytes]] = {}
    for kind in KINDS:
        for path in sorted((CORPUS / kind).glob("*.txt")):
            cases[f"{kind}/{path.name}"] = (kind, path.read_bytes())
    with GENERATED.open(encoding="utf-8") as stream:
        for line in stream:
            case = json.loads(line)
            if "base64" in case:
                data = base64.b64decode(case["base64"])
            else:
                data = case["text"].encode("utf-8")
            cases[case["name"]] = (case["kind"], data)
    return cases


def unescape(field: str) -> str:
    out: list[str] = []
    chars = iter(field)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append({"t": "\t", "r": "\r", "n": "\n"}.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def run(classpath: str) -> dict[str, dict[str, str]]:
    cases = load_corpus()
    with tempfile.TemporaryDirectory() as folder:
        names: dict[str, str] = {}
        manifest: list[str] = []
        for index, (name, (kind, data)) in enumerate(cases.items()):
            path = Path(folder) / f"{index:05d}.txt"
            path.write_bytes(data)
            names[str(path)] = name
            manifest.append(f"{kind}\t{path}")
        manifest_path = Path(folder) / "manifest.tsv"
        manifest_path.write_text("\n".join(manifest) + "\n", encoding="utf-8")
        output = subprocess.run(
            ["java", "-cp", classpath, "LuceneOracle", str(manifest_path)],
            check=True,
            capture_output=True,
            text=True,
            encoding="utf-8",
        ).stdout
    verdicts: dict[str, dict[str, str]] = {}
    for line in output.split("\n"):
        if not line:
            continue
        path, *fields = line.split("\t")
        name = names[unescape(path)]
        kind = cases[name][0]
        fields = [unescape(field) for field in fields]
        if kind == "synonyms":
            verdicts[name] = {"kind": kind, "standard": fields[0], "whitespace": fields[1]}
        else:
            verdicts[name] = {"kind": kind, "engine": fields[0]}
    missing = set(cases) - set(verdicts)
    if missing:
        raise SystemExit(f"the oracle gave no verdict for {sorted(missing)[:5]}")
    return verdicts


def write_table(classpath: str) -> None:
    """Regenerate the standard tokenizer's table of token characters."""
    output = subprocess.run(
        ["java", "-cp", classpath, "LuceneOracle", "standard-tokens"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    classes = dict(line.split("\t", 1) for line in output.splitlines())
    lines = [
        '"""The characters Lucene\'s standard tokenizer makes tokens of (generated: do not edit).',
        "",
        "Written by ``make oracle`` (tests/oracle/run_oracle.py) from Lucene 8's tokenizer:",
        "``TOKEN_RANGES`` holds the code points that make a token on their own (letters,",
        "digits, ideographs, kana, hangul, South-East Asian scripts, emoji); ``KEYCAP_BASES``",
        "the ones that make a token only before U+20E3 (a keycap, maybe after U+FE0F);",
        "``REGIONAL_INDICATOR_PAIRS`` whether a flag (two regional indicators) makes one.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        '__all__ = ["KEYCAP_BASES", "REGIONAL_INDICATOR_PAIRS", "TOKEN_RANGES"]',
        "",
        "TOKEN_RANGES: tuple[tuple[int, int], ...] = (",
    ]
    for item in classes["alone"].split(","):
        start, end = item.split("-")
        lines.append(f"    (0x{int(start, 16):X}, 0x{int(end, 16):X}),")
    lines.append(")")
    keycaps = sorted(
        {
            code
            for name in ("before_20e3", "before_fe0f_20e3")
            for item in classes[name].split(",")
            if item
            for code in range(int(item.split("-")[0], 16), int(item.split("-")[1], 16) + 1)
        }
    )
    lines.append(
        "KEYCAP_BASES: frozenset[str] = frozenset({"
        + ", ".join(repr(chr(code)) for code in keycaps)
        + "})"
    )
    lines.append("#: Two regional indicators in a row (a flag) make a token, one alone does not.")
    lines.append(f"REGIONAL_INDICATOR_PAIRS: bool = {classes['regional_pair'] == 'true'}")
    if classes.get("before_fe0f"):
        raise SystemExit("characters that need U+FE0F to make a token: extend the table's use")
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classpath", required=True, help="the Lucene jars and the oracle class")
    parser.add_argument("--table", action="store_true", help="also regenerate the tokenizer table")
    args = parser.parse_args()
    verdicts = run(args.classpath)
    VERDICTS.write_text(
        json.dumps(verdicts, indent=0, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8"
    )
    if args.table:
        write_table(args.classpath)
    rejected = sum(
        1 for verdict in verdicts.values() if any(v.startswith("reject") for v in verdict.values())
    )
    print(f"{len(verdicts)} files, {rejected} rejected by Lucene under some analyzer")


if __name__ == "__main__":
    main()
