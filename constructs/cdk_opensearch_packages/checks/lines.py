"""Reading a package file and splitting text the way the Java engine does."""

from __future__ import annotations

import os
import re
import stat

from cdk_opensearch_packages.checks.findings import FileFinding, make_finding

__all__ = ["java_byte_lines", "java_lines", "java_trim", "read_regular_file"]

# java.io.BufferedReader.readLine ends a line at \n, \r or \r\n, nothing else (str.splitlines
# would also split at \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029, which Java keeps in the line).
_JAVA_LINE_END = re.compile(r"\r\n|\r|\n")
_JAVA_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
# java.lang.String.trim removes every char <= U+0020 from both ends.
_JAVA_TRIM_CHARS = "".join(chr(code) for code in range(0x21))


def read_regular_file(path: str) -> tuple[bytes | None, list[FileFinding]]:
    """Read ``path`` if it is an existing, readable regular file.

    :param path: the file as the user gave it.
    :returns: the bytes (``None`` when they could not be read) and the findings explaining why.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None, [
            make_finding(
                "error",
                path,
                "the file does not exist (relative paths are resolved from the working "
                "directory of the CDK app)",
                "correct the path, e.g. build it from your app file: "
                "str(Path(__file__).parent / 'file.txt')",
            )
        ]
    except OSError as error:
        return None, [
            make_finding(
                "error",
                path,
                f"the file cannot be examined ({error.strerror or error})",
                "check the path and the permissions of its directories",
            )
        ]
    if stat.S_ISDIR(info.st_mode):
        return None, [
            make_finding(
                "error",
                path,
                "is a directory, but a package is a single file",
                "point to the file itself (zip a plugin's files into one .zip first)",
            )
        ]
    if not stat.S_ISREG(info.st_mode):
        return None, [
            make_finding(
                "error",
                path,
                "is not a regular file (a device, socket or pipe cannot be uploaded as a package)",
                "point to a regular file",
            )
        ]
    try:
        with open(path, "rb") as stream:
            return stream.read(), []
    except OSError as error:
        return None, [
            make_finding(
                "error",
                path,
                f"the file cannot be read ({error.strerror or error})",
                "make it readable by the user running `cdk synth` (e.g. chmod a+r)",
            )
        ]


def java_lines(text: str) -> list[str]:
    """Split ``text`` into lines as ``BufferedReader.readLine`` returns them.

    A terminator at the very end does not start another (empty) line.
    """
    lines = _JAVA_LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def java_byte_lines(data: bytes) -> list[bytes]:
    """:func:`java_lines` on undecoded bytes (an ASCII terminator never sits inside a UTF-8
    sequence), so a line number is the same before and after decoding."""
    lines = _JAVA_LINE_END_BYTES.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def java_trim(text: str) -> str:
    """``String.trim()``: strip every char <= U+0020 from both ends."""
    return text.strip(_JAVA_TRIM_CHARS)
