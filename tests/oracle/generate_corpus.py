"""Writes the generated half of the differential corpus: ``generated.jsonl`` beside this file.

Deterministic (one seeded ``random.Random``): running it again writes the same file. Each line
is one dictionary file: ``{"name": ..., "kind": ..., "text": ...}``, or ``"base64"`` instead of
``"text"`` for files that are not valid UTF-8. The lines are built from fragments chosen to sit
on the parsers' edges: separators doubled or escaped, blanks of every kind Java tells apart
(``String.trim``, ``Character.isWhitespace``, regex ``\\s``), comments in and out of column one,
punctuation and symbols the standard tokenizer drops, CSV quoting, segmentations of every
length. ``make oracle`` runs the real parsers on them (``run_oracle.py``).

Usage: ``python tests/oracle/generate_corpus.py [--count N]`` (N files per dictionary kind).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

SEED = 15
HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "generated.jsonl"

# Blanks Java treats differently: trimmed (<= U+0020) or not, Character.isWhitespace or not.
BLANKS = [
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\u3000",
    "\u00a0",
    "\u2003",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x85",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\x01",
    "\u202f",
    "\u1680",
]
WORDS = [
    "a",
    "b",
    "tv",
    "television",
    "i-pod",
    "ipod",
    "new york",
    "ny",
    "Café",
    "naïve",
    "e-mail",
    "日本",
    "東京",
    "ラーメン",
    "ひらがな",
    "한국어",
    "ไทย",
    "🙂",
    "❤",
    "❤\ufe0f",
    "©",
    "™",
    "#\u20e3",
    "*\ufe0f\u20e3",
    "\U0001f1ef\U0001f1f5",
    "\U0001f1ef",
    "👍🏽",
    "x\u0301",
    "\u0301",
    "42",
    "3.14",
    "R2-D2",
    "C++",
    "c#",
    "a.b",
    "o'neil",
    "_",
    "__init__",
    "x_y",
    "٣",
    "²",
    "Ⅻ",
    "\u03b1",
    "ß",
    "\u200dx",
    "a\u200db",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
]
PUNCT = [
    "-",
    "...",
    "&",
    "+",
    "#",
    "@",
    "'",
    "·",
    "/",
    "$",
    "€",
    "°",
    "→",
    "%",
    "*",
    "!",
    "?",
    "<",
    ">",
    "=",
    "~",
    "^",
    "|",
    "\u2014",
    "\u00bf",
    "\u3001",
    "\u3002",
    "\u2603",
    "\u2764",
]
LINE_ENDS = ["\n", "\n", "\n", "\r\n", "\r"]


def pick(rng: random.Random, items: list[str]) -> str:
    return items[rng.randrange(len(items))]


def blank(rng: random.Random) -> str:
    return pick(rng, BLANKS) if rng.random() < 0.6 else ""


def join_lines(rng: random.Random, lines: list[str]) -> str:
    end = pick(rng, LINE_ENDS)
    text = end.join(lines)
    if rng.random() < 0.7:
        text += end
    if rng.random() < 0.03:
        text = "\ufeff" + text
    return text


# --- Solr synonyms -------------------------------------------------------------------------


def synonym_term(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        term = random_text(rng)
    elif roll < 0.78:
        term = pick(rng, WORDS)
    elif roll < 0.84:
        term = pick(rng, PUNCT) * rng.randint(1, 2)
    elif roll < 0.87:
        term = pick(rng, BLANKS)
    elif roll < 0.94:
        term = pick(rng, WORDS) + pick(rng, ["\\,", "\\=>", "\\\\", "\\", "\\ ", "=", ">"])
    else:
        term = pick(rng, PUNCT) + pick(rng, WORDS)
    return blank(rng) + term + blank(rng)


def random_text(rng: random.Random) -> str:
    """One to three code points from anywhere in Unicode (no surrogates): probes the tables."""
    out = []
    for _ in range(rng.randint(1, 3)):
        code = rng.choice([rng.randrange(0x80), rng.randrange(0x3000), rng.randrange(0x30000)])
        out.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "x")
    return "".join(out)


def synonym_side(rng: random.Random) -> str:
    count = rng.choice([0, 1, 1, 2, 2, 3])
    separators = [",", ",", ", ", ",,", " ,", ", ,"]
    side = pick(rng, separators).join(synonym_term(rng) for _ in range(count))
    if rng.random() < 0.1:
        side = pick(rng, [",", " , ", ", "]) + side
    if rng.random() < 0.1:
        side += pick(rng, [",", ", ", ",\u3000", ", \t"])
    return side


def synonym_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return pick(
            rng,
            [
                "# comment",
                "#",
                " # indented",
                "\t#x",
                "#a => b",
                "\u3000#",
                ",",
                ",,",
                "\\",
                "a\\",
                "=>",
                "=>=>",
                " => ",
                "a#b, c",
                "\ufeffa, b",
            ],
        )
    if roll < 0.14:
        return pick(rng, ["", " ", "\t", "\u3000", "\u00a0", "\x0b", "  \t "])
    arrows = ["=>", " => ", "=>=>", " =>=> ", "= >", "\\=>", "=> =>", "=>,", ",=>"]
    if roll < 0.55:
        return synonym_side(rng) + pick(rng, arrows) + synonym_side(rng)
    return synonym_side(rng)


def synonyms_file(rng: random.Random) -> str:
    return join_lines(rng, [synonym_line(rng) for _ in range(rng.randint(1, 4))])


# --- stop words ----------------------------------------------------------------------------


def stop_word_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return pick(rng, ["#", "# comment", " # indented", "\t#x", "\u3000#"])
    if roll < 0.3:
        return "".join(pick(rng, BLANKS) for _ in range(rng.randint(0, 3)))
    word = pick(rng, WORDS + PUNCT)
    if rng.random() < 0.2:
        word += pick(rng, [" ", ", ", "\t"]) + pick(rng, WORDS)
    return blank(rng) + word + blank(rng)


def stop_words_file(rng: random.Random) -> str:
    return join_lines(rng, [stop_word_line(rng) for _ in range(rng.randint(1, 5))])


# --- kuromoji (CSV: surface,segmentation,readings,part of speech) ---------------------------

JA_SURFACES = [
    '"a#b"',
    "a\u2028b",
    "c#",
    "関西国際空港",
    "東京スカイツリー",
    "朝青龍",
    "日本経済新聞",
    "すもも",
    "a",
    "ab c",
    "カスタム名詞",
    "東京",
    "関西国際空港",
    "東京スカイツリー",
    "朝青龍",
    "日本経済新聞",
    "すもも",
    "東京",
    "ラーメン",
    "",
    " ",
    "x#y",
    '"q"',
    "a,b",
    "a b",
]
JA_READINGS = [
    "カンサイ",
    "コクサイ",
    "クウコウ",
    "トウキョウ",
    "スカイツリー",
    "アサショウリュウ",
    "ニホン",
    "ケイザイ",
    "シンブン",
    "スモモ",
    "エー",
    "カスタム",
    "メイシ",
]
JA_POS = ["カスタム名詞", "名詞", "人名", "固有名詞", "", "名詞#x", '"名詞"', "名詞\u2028"]


def kuromoji_segmentation(rng: random.Random, surface: str) -> tuple[str, int]:
    """A segmentation of ``surface`` (sometimes wrong) and its number of segments."""
    if not surface.strip() or rng.random() < 0.06:
        text = pick(rng, ["", " ", "関西 国際", "a b c", "x", "関西国際空港港", "  "])
        return text, len([piece for piece in text.split(" ") if piece]) or 1
    cuts = sorted(rng.sample(range(1, len(surface)), min(len(surface) - 1, rng.randint(0, 2))))
    pieces = [
        surface[start:end] for start, end in zip([0, *cuts], [*cuts, len(surface)], strict=True)
    ]
    if rng.random() < 0.04 and len(pieces) > 1:
        pieces.pop()
    if rng.random() < 0.04:
        pieces.append(pick(rng, ["港", "x"]))
    separator = pick(rng, [" ", " ", " ", "  ", "\t", "\u3000"])
    return separator.join(pieces), len(pieces)


def quote(rng: random.Random, field: str) -> str:
    roll = rng.random()
    if roll < 0.06:
        return '"' + field.replace('"', '""') + '"'
    if roll < 0.075:
        return '"' + field
    if roll < 0.085:
        return field + '""'
    return field


def kuromoji_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return pick(rng, ["# comment", " # indented", "#", "\t# x", "\u3000#"])
    if roll < 0.14:
        return "".join(pick(rng, BLANKS) for _ in range(rng.randint(0, 2)))
    surface = pick(rng, JA_SURFACES)
    segmentation, count = kuromoji_segmentation(rng, surface)
    if rng.random() < 0.06:
        count += rng.choice([-1, 1])
    readings = pick(rng, [" ", " ", "  ", "\t"]).join(
        pick(rng, JA_READINGS) for _ in range(max(count, 0))
    )
    fields = [surface, segmentation, readings, pick(rng, JA_POS)]
    if rng.random() < 0.05:
        del fields[rng.randrange(len(fields)) :]
    elif rng.random() < 0.05:
        fields.append(pick(rng, ["extra", "", "x,y"]))
    line = ",".join(quote(rng, field) for field in fields)
    if rng.random() < 0.08:
        line += pick(rng, [" # note", "#", "\t#x"])
    return blank(rng) + line + blank(rng)


def kuromoji_file(rng: random.Random) -> str:
    lines = [kuromoji_line(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.1 and lines:
        lines.append(lines[0])
    return join_lines(rng, lines)


# --- nori (surface, then its segments, separated by blanks) --------------------------------

KO_WORDS = [
    "세종시",
    "세종",
    "시",
    "c++",
    "해물",
    "해물탕",
    "탕",
    "삼성전자",
    "삼성",
    "전자",
    "가",
    "ab",
]


def nori_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return pick(rng, ["# comment", " # indented", "#", "\t# x", "\u3000#"])
    if roll < 0.14:
        return "".join(pick(rng, BLANKS) for _ in range(rng.randint(0, 2)))
    surface = pick(rng, KO_WORDS)
    parts = [surface]
    if rng.random() < 0.6:
        if rng.random() < 0.9 and len(surface) > 1:
            cut = rng.randint(1, len(surface) - 1)
            parts += [surface[:cut], surface[cut:]]
        else:
            parts += [pick(rng, KO_WORDS) for _ in range(rng.randint(1, 3))]
    separator = pick(rng, [" ", " ", "  ", "\t", " \t", "\u3000", "\u00a0", "\x0b"])
    line = separator.join(parts)
    if rng.random() < 0.08:
        line += pick(rng, [" # note", "#", "#x"])
    return blank(rng) + line + blank(rng)


def nori_file(rng: random.Random) -> str:
    lines = [nori_line(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.1 and lines:
        lines.append(lines[0])
    return join_lines(rng, lines)


# --- noise: short lines drawn from the characters every parser treats specially ------------

NOISE = {
    "synonyms": [",", ",", "=>", "=", ">", "\\", "#", "a", "b", "東", "-", "_"],
    "stopwords": ["#", "a", "b", "東", "-", ","],
    "kuromoji": [",", ",", ",", '"', '"', "#", "a", "東", "ア", "名詞", "\\"],
    "nori": ["#", "가", "나다", "a", "b", "\\", ","],
}
NOISE_BLANKS = [
    " ",
    " ",
    "\t",
    "\u3000",
    "\u00a0",
    "\x0b",
    "\x0c",
    "\x01",
    "\x1c",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u200b",
]


def noise_file(rng: random.Random, kind: str) -> str:
    alphabet = NOISE[kind] * 3 + NOISE_BLANKS
    lines = [
        "".join(pick(rng, alphabet) for _ in range(rng.randint(0, 10)))
        for _ in range(rng.randint(1, 3))
    ]
    return join_lines(rng, lines)


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "synonyms": synonyms_file,
    "stopwords": stop_words_file,
    "kuromoji": kuromoji_file,
    "nori": nori_file,
}


def generate(count: int) -> list[dict[str, str]]:
    rng = random.Random(SEED)
    cases: list[dict[str, str]] = []
    for kind, make in GENERATORS.items():
        for index in range(count):
            text = noise_file(rng, kind) if rng.random() < 0.2 else make(rng)
            case = {"name": f"gen/{kind}/{index:04d}", "kind": kind}
            if rng.random() < 0.01:
                data = text.encode("utf-8")
                cut = rng.randrange(len(data) + 1)
                case["base64"] = base64.b64encode(data[:cut] + b"\xff" + data[cut:]).decode()
            else:
                case["text"] = text
            cases.append(case)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="files per dictionary kind")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the JSON lines file")
    args = parser.parse_args()
    with args.output.open("w", encoding="utf-8") as stream:
        for case in generate(args.count):
            stream.write(json.dumps(case, ensure_ascii=True, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
