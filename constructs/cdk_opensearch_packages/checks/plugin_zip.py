"""Checks of ZIP-PLUGIN files: the zip, its ``plugin-descriptor.properties`` and its jars.

They follow what OpenSearch's plugin installer (``InstallPluginCommand``) and loader
(``PluginInfo.readFromProperties``, ``PluginsService.verifyCompatibility``) reject:

- the files sit at the root of the zip; an intermediate ``opensearch/`` (``elasticsearch/`` for
  Elasticsearch) folder is the pre-6.0 layout, rejected with "This plugin was built with an older
  plugin structure"; entries resolving outside the plugin folder are rejected;
- the descriptor needs ``name`` (not empty), ``description``, ``version``, ``java.version`` (a
  dotted number such as ``11`` or ``1.8``), ``classname`` and exactly one of
  ``opensearch.version`` and ``dependencies`` (``{opensearch: "<range>"}``, OpenSearch 2.13+);
  Elasticsearch engines need ``elasticsearch.version`` instead; OpenSearch rejects unknown keys
  and ``has.native.controller=true``;
- the engine loads a plugin only on a version its ``opensearch.version`` range accepts: a plain
  ``2.19.0`` means exactly that release, so it must at least name the package's engine X.Y.
"""

from __future__ import annotations

import io
import json
import lzma
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cdk_opensearch_packages.checks.findings import FileFinding, make_finding
from cdk_opensearch_packages.checks.java_properties import JavaProperties, parse_java_properties

__all__ = ["DESCRIPTOR", "check_plugin_zip"]

#: The descriptor every plugin zip carries at its root.
DESCRIPTOR = "plugin-descriptor.properties"

_ENGINE_VERSION = re.compile(r"^(OpenSearch|Elasticsearch)_(\d+)\.(\d+)$")
# org.opensearch.Version.fromString: major.minor.revision, optionally -qualifier / -SNAPSHOT.
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[A-Za-z0-9]+)?(?:-SNAPSHOT)?$")
# SemverRange.RANGE_PATTERN: [a,b] (a,b) [a,b) (a,b]
_RANGE = re.compile(r"^([\[(])([\d.]+)\s*,\s*([\d.]+)([\])])$")
# JarHell.checkVersionFormat / JavaVersion.isValid
_JAVA_VERSION = re.compile(r"^0*[0-9]+(\.[0-9]+)*$")
_JAVA_CLASS = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
# dependencies={opensearch: "~2.19.0"} (Jackson with unquoted field names allowed)
_DEPENDENCIES = re.compile(
    r'^\s*\{\s*(?:"opensearch"|opensearch)\s*:\s*("(?:[^"\\]|\\.)*")\s*\}\s*$'
)

_OPENSEARCH_KEYS = frozenset(
    {
        "name",
        "description",
        "version",
        "opensearch.version",
        "dependencies",
        "java.version",
        "classname",
        "custom.foldername",
        "extended.plugins",
        "has.native.controller",
    }
)
# What reading a damaged or unusual zip raises: bad structure, a corrupt deflate/bzip2/lzma
# stream, an unsupported compression method, an encrypted entry (RuntimeError), a truncated file.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
_COMMON_REQUIRED = ("name", "description", "version", "java.version", "classname")


@dataclass(frozen=True)
class _Engine:
    family: str  # "OpenSearch" or "Elasticsearch"
    major: int
    minor: int

    @property
    def label(self) -> str:
        return f"{self.family}_{self.major}.{self.minor}"

    @property
    def version_key(self) -> str:
        return "opensearch.version" if self.family == "OpenSearch" else "elasticsearch.version"


def check_plugin_zip(
    path: str,
    *,
    engine_version: str | None,
    license_filepath: str | None,
    data: bytes | None = None,
) -> list[FileFinding]:
    """Check a plugin zip (``path`` is known to be a readable regular file).

    :param path: the file as the user gave it.
    :param engine_version: ``OpenSearch_X.Y`` / ``Elasticsearch_X.Y``, or ``None`` (the
        descriptor's version is then only checked for its format).
    :param license_filepath: ``PackageConfiguration.LicenseFilepath``: must name a file in the zip.
    :param data: the file's bytes when the caller has read them already (the file is then not
        opened again). Default: - read from ``path``.
    """
    source: str | io.BytesIO = path if data is None else io.BytesIO(data)
    if not zipfile.is_zipfile(source):
        return [
            make_finding(
                "error",
                path,
                "the file is not a zip archive, but a ZIP-PLUGIN package must be one",
                "build the plugin's distribution zip (e.g. `./gradlew bundlePlugin`, found in "
                "build/distributions/) and point to it",
            )
        ]
    try:
        with zipfile.ZipFile(source) as archive:
            return _check_archive(path, archive, engine_version, license_filepath)
    except _ZIP_ERRORS as error:
        return [
            make_finding(
                "error",
                path,
                f"the zip cannot be read ({error})",
                "rebuild the zip with a standard tool (stored or deflated entries, no encryption)",
            )
        ]


def _check_archive(
    path: str,
    archive: zipfile.ZipFile,
    engine_version: str | None,
    license_filepath: str | None,
) -> list[FileFinding]:
    findings: list[FileFinding] = []
    bad_entry = archive.testzip()
    if bad_entry is not None:
        return [
            make_finding(
                "error",
                path,
                f"the zip is corrupt: entry {bad_entry!r} fails its CRC check",
                "rebuild the zip",
            )
        ]
    names = archive.namelist()
    files = {name for name in names if not name.endswith("/")}
    engine = _parse_engine(engine_version)

    for name in names:
        normalized = posixpath.normpath(name.replace("\\", "/"))
        if name.startswith("/") or normalized == ".." or normalized.startswith("../"):
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"the zip entry {name!r} resolves outside the plugin folder; the installer "
                    "rejects the zip",
                    "rebuild the zip with paths relative to the plugin's root",
                )
            )
            break

    if DESCRIPTOR not in files:
        findings.append(_missing_descriptor(path, files, engine))
        return findings

    elasticsearch = engine is not None and engine.family == "Elasticsearch"
    legacy = "elasticsearch/" if elasticsearch else "opensearch/"
    if any(name.startswith(legacy) for name in names):
        findings.append(
            make_finding(
                "error",
                path,
                f"the zip has a top-level '{legacy}' folder, the pre-6.0 plugin layout; the "
                "installer rejects it ('This plugin was built with an older plugin structure')",
                f"rebuild the zip with the '{legacy}' folder's content at the root",
            )
        )

    descriptor = parse_java_properties(archive.read(DESCRIPTOR))
    findings.extend(_check_descriptor(path, descriptor, engine))
    findings.extend(_check_classname(path, archive, files, descriptor))
    if license_filepath is not None:
        findings.extend(_check_license(path, files, license_filepath))
    return findings


def _parse_engine(engine_version: str | None) -> _Engine | None:
    match = _ENGINE_VERSION.match(engine_version or "")
    if match is None:
        return None
    return _Engine(match.group(1), int(match.group(2)), int(match.group(3)))


def _missing_descriptor(path: str, files: set[str], engine: _Engine | None) -> FileFinding:
    nested = sorted(name for name in files if posixpath.basename(name) == DESCRIPTOR)
    if nested:
        folder = posixpath.dirname(nested[0]) + "/"
        return make_finding(
            "error",
            path,
            f"{DESCRIPTOR} is at {nested[0]!r}, not at the root of the zip; the installer reads "
            "it only from the root",
            f"zip the content of '{folder}' rather than the folder itself (e.g. "
            f"`cd {folder} && zip -r ../plugin.zip .`)",
        )
    family = engine.family if engine else "OpenSearch"
    return make_finding(
        "error",
        path,
        f"the zip has no {DESCRIPTOR} at its root, so it is not a {family} plugin",
        "build the plugin's distribution zip (the opensearch.pluginzip / opensearchplugin "
        f"Gradle plugin writes {DESCRIPTOR}) and point to it",
    )


def _where(key: str, descriptor: JavaProperties) -> str:
    line = descriptor.lines.get(key)
    return DESCRIPTOR if line is None else f"{DESCRIPTOR}:{line}"


def _check_descriptor(
    path: str, descriptor: JavaProperties, engine: _Engine | None
) -> list[FileFinding]:
    findings = [
        make_finding(
            "error",
            path,
            f"{DESCRIPTOR}:{line}: {problem}; the engine cannot load the descriptor",
            "write the character literally (ISO-8859-1) or as a complete \\uXXXX escape",
        )
        for line, problem in descriptor.errors
    ]
    values = descriptor.values
    family = engine.family if engine else _guess_family(values)

    for key in _COMMON_REQUIRED:
        if key not in values or (key == "name" and not values[key]):
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{DESCRIPTOR} lacks the required property '{key}'"
                    + (" (it is empty)" if key in values else ""),
                    f"add `{key}=<value>` to {DESCRIPTOR} (the plugin build writes it from its "
                    "Gradle settings)",
                )
            )
    java_version = values.get("java.version")
    if java_version is not None and not _JAVA_VERSION.match(java_version):
        findings.append(
            make_finding(
                "error",
                path,
                f"{_where('java.version', descriptor)}: java.version={java_version!r} is not a "
                "dotted number; the engine rejects it",
                "set java.version to the Java release the plugin targets, e.g. `java.version=21`",
            )
        )

    if family == "Elasticsearch":
        findings.extend(_check_elasticsearch_version(path, descriptor, engine))
    else:
        findings.extend(_check_opensearch_version(path, descriptor, engine))
        unknown = sorted(set(values) - _OPENSEARCH_KEYS - {"elasticsearch.version"})
        if unknown:
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{DESCRIPTOR} has unknown properties {unknown}; OpenSearch rejects them "
                    "('Unknown properties in plugin descriptor')",
                    f"remove them; the known ones are {sorted(_OPENSEARCH_KEYS)}",
                )
            )
        native = values.get("has.native.controller")
        if native is not None and native != "false":
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{_where('has.native.controller', descriptor)}: has.native.controller="
                    f"{native!r}; "
                    + (
                        "plugins cannot have native controllers"
                        if native == "true"
                        else "the value must be true or false"
                    ),
                    "remove the property (or set it to false)",
                )
            )
    return findings


def _guess_family(values: dict[str, str]) -> str:
    if "elasticsearch.version" in values and not (
        "opensearch.version" in values or "dependencies" in values
    ):
        return "Elasticsearch"
    return "OpenSearch"


def _check_elasticsearch_version(
    path: str, descriptor: JavaProperties, engine: _Engine | None
) -> list[FileFinding]:
    value = descriptor.values.get("elasticsearch.version")
    if value is None:
        return [
            make_finding(
                "error",
                path,
                f"{DESCRIPTOR} lacks the required property 'elasticsearch.version'"
                + (f" (the package's engine is {engine.label})" if engine else "")
                + (
                    "; the plugin was built for OpenSearch"
                    if {"opensearch.version", "dependencies"} & set(descriptor.values)
                    else ""
                ),
                "build the plugin against the domain's Elasticsearch version",
            )
        ]
    version = _VERSION.match(value)
    if version is None:
        return [_bad_version(path, descriptor, "elasticsearch.version", value)]
    if engine is not None and (int(version.group(1)), int(version.group(2))) != (
        engine.major,
        engine.minor,
    ):
        return [_mismatch(path, descriptor, "elasticsearch.version", value, engine)]
    return []


def _check_opensearch_version(
    path: str, descriptor: JavaProperties, engine: _Engine | None
) -> list[FileFinding]:
    values = descriptor.values
    plain = values.get("opensearch.version", "").strip()
    dependencies = values.get("dependencies", "").strip()
    label = engine.label if engine else "OpenSearch"
    if not plain and not dependencies:
        built_for = values.get("elasticsearch.version")
        return [
            make_finding(
                "error",
                path,
                f"{DESCRIPTOR} sets neither 'opensearch.version' nor 'dependencies'"
                + (
                    f"; it has elasticsearch.version={built_for}: it was built for Elasticsearch, "
                    f"not {label}"
                    if built_for
                    else ""
                ),
                f"build the plugin against {label.replace('_', ' ')} so that the descriptor "
                "says e.g. `opensearch.version="
                + (f"{engine.major}.{engine.minor}.0`" if engine else "2.19.0`"),
            )
        ]
    if plain and dependencies:
        return [
            make_finding(
                "error",
                path,
                f"{DESCRIPTOR} sets both 'opensearch.version' and 'dependencies'; OpenSearch "
                "accepts only one of them",
                "keep one (opensearch.version for a single release, dependencies for a range)",
            )
        ]
    findings: list[FileFinding] = []
    key = "opensearch.version"
    range_text = plain
    if dependencies:
        key = "dependencies"
        if engine is not None and (engine.major, engine.minor) < (2, 13):
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{_where(key, descriptor)}: 'dependencies' is understood from OpenSearch "
                    f"2.13 on; {label} rejects it as an unknown property",
                    "use `opensearch.version=<X.Y.Z>` instead",
                )
            )
        match = _DEPENDENCIES.match(dependencies)
        if match is None:
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{_where(key, descriptor)}: dependencies={dependencies!r} is not "
                    '`{opensearch: "<range>"}`; OpenSearch accepts exactly one dependency, on '
                    "opensearch",
                    'write e.g. `dependencies={opensearch: "~2.19.0"}`',
                )
            )
            return findings
        range_text = str(json.loads(match.group(1))).strip()
        if "," in range_text and not _RANGE.match(range_text):
            findings.append(
                make_finding(
                    "error",
                    path,
                    f"{_where(key, descriptor)}: {range_text!r} holds more than one range; "
                    "OpenSearch accepts exactly one",
                    'write one range, e.g. "~2.19.0" or "[2.19.0,2.20.0)"',
                )
            )
            return findings
    accepts = _range_accepts(range_text)
    if accepts is None:
        findings.append(_bad_version(path, descriptor, key, range_text))
    elif engine is not None and not accepts(engine.major, engine.minor):
        findings.append(_mismatch(path, descriptor, key, range_text, engine))
    return findings


def _range_accepts(text: str) -> Callable[[int, int], bool] | None:
    """What ``SemverRange.fromString(text)`` accepts, as "some X.Y.z satisfies it"."""
    bounds = _RANGE.match(text)
    if bounds is not None:
        low, high = _version_tuple(bounds.group(2)), _version_tuple(bounds.group(3))
        if low is None or high is None:
            return None
        return _interval(low, high, bounds.group(1) == "[", bounds.group(4) == "]")
    operator = text[0] if text[:1] in ("=", "~", "^") else ""
    version = _version_tuple(text[len(operator) :])
    if version is None:
        return None
    if operator == "^":
        return lambda major, minor: major == version[0] and minor >= version[1]
    return lambda major, minor: (major, minor) == version[:2]


def _interval(
    low: tuple[int, int, int], high: tuple[int, int, int], include_low: bool, include_high: bool
) -> Callable[[int, int], bool]:
    def accepts(major: int, minor: int) -> bool:
        # Some X.Y.z must lie in the interval; z beyond both bounds' revisions changes nothing.
        for revision in range(max(low[2], high[2]) + 2):
            version = (major, minor, revision)
            above = low <= version if include_low else low < version
            below = version <= high if include_high else version < high
            if above and below:
                return True
        return False

    return accepts


def _version_tuple(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _bad_version(path: str, descriptor: JavaProperties, key: str, value: str) -> FileFinding:
    return make_finding(
        "error",
        path,
        f"{_where(key, descriptor)}: {key}={value!r} is not a version the engine reads (it needs "
        "major.minor.revision, e.g. 2.19.0, optionally with =, ~ or ^ before it)",
        "let the plugin build write it from the OpenSearch version it compiles against",
    )


def _mismatch(
    path: str, descriptor: JavaProperties, key: str, value: str, engine: _Engine
) -> FileFinding:
    wanted = f"{engine.major}.{engine.minor}"
    family = engine.family
    return make_finding(
        "error",
        path,
        f"{_where(key, descriptor)}: the plugin is built for {family} {value} ({key}), but the "
        f"package's engine version is {engine.label}; {family} loads a plugin only on the "
        "versions it was built for",
        f"rebuild the plugin against {family} {wanted} (so that {key} reads {wanted}.x), or set "
        f"the package's engine version to the one the plugin was built for",
    )


def _check_classname(
    path: str, archive: zipfile.ZipFile, files: set[str], descriptor: JavaProperties
) -> list[FileFinding]:
    classname = descriptor.values.get("classname")
    if not classname:
        return []
    if not _JAVA_CLASS.match(classname):
        return [
            make_finding(
                "error",
                path,
                f"{_where('classname', descriptor)}: classname={classname!r} is not a Java class "
                "name",
                "set classname to the fully qualified name of the plugin class, e.g. "
                "`classname=org.example.MyPlugin`",
            )
        ]
    jars = sorted(name for name in files if "/" not in name and name.endswith(".jar"))
    if not jars:
        return [
            make_finding(
                "error",
                path,
                "the zip has no .jar at its root; the engine loads plugin classes only from jars "
                "at the plugin's root",
                "build the plugin's distribution zip, which holds the plugin jar at its root",
            )
        ]
    class_entry = classname.replace(".", "/") + ".class"
    if _any_jar_holds(archive, jars, class_entry):
        return []
    extends = descriptor.values.get("extended.plugins", "").strip()
    return [
        make_finding(
            "warning" if extends else "error",
            path,
            f"no jar at the root of the zip ({', '.join(jars)}) holds the plugin class "
            f"{classname} ({class_entry}); the engine fails to load the plugin "
            "(ClassNotFoundException)"
            + (f" unless an extended plugin ({extends}) provides it" if extends else ""),
            "check classname in the plugin's build settings, and that the zip holds the jar "
            "built from the plugin's code",
        )
    ]


def _any_jar_holds(archive: zipfile.ZipFile, jars: Iterable[str], entry: str) -> bool:
    for jar in jars:
        try:
            with archive.open(jar) as stream, zipfile.ZipFile(stream) as inner:
                if entry in inner.namelist():
                    return True
        except _ZIP_ERRORS:
            continue
    return False


def _check_license(path: str, files: set[str], license_filepath: str) -> list[FileFinding]:
    if license_filepath in files:
        return []
    wanted = posixpath.basename(license_filepath.rstrip("/"))
    similar = sorted(name for name in files if posixpath.basename(name) == wanted)[:3]
    hint = f"files with that name in the zip: {similar}" if similar else "list the zip's files"
    return [
        make_finding(
            "error",
            path,
            f"the package's license file path (LicenseFilepath) {license_filepath!r} is not a "
            "file in the zip",
            f"set license_filepath to the path of the license inside the zip ({hint}), or add "
            "the license to the zip",
        )
    ]
