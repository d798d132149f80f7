"""Platform specifiers: containerd's parse, normalisation, format and exact matcher.

Pure string functions on the fields of a platform, so that `registry_sdk.models` can
use them without an import cycle. The rules are those of containerd's `platforms`
package (database.go, platforms.go), restated here:

- the os is lower-cased and `macos` reads as `darwin`;
- `i386` is `386`; `x86_64`/`x86-64` are `amd64` (variant `v1` dropped);
  `aarch64` is `arm64`, whose variant `8`/`v8`/`v8.0` is dropped and `9`/`9.0`/`v9.0`
  is `v9`; `armhf` is `arm/v7`, `armel` is `arm/v6`; a bare `arm` is `arm/v7`, and
  the variants `5`, `6`, `7`, `8` gain their `v`;
- a specifier is `os[(version[+feature...])][/arch[/variant]]`; one part alone is an
  os (with this machine's architecture) when it names a known os, else an
  architecture (on linux). Percent escapes (`%2B`, `%28`...) in the version and
  features decode.
"""

from __future__ import annotations

import platform as _host
import re
from urllib.parse import unquote

from registry_sdk._errors import InvalidPlatform

__all__ = [
    "KNOWN_ARCHES",
    "KNOWN_OSES",
    "Fields",
    "format_fields",
    "host_arch",
    "matches",
    "normalize_arch",
    "normalize_fields",
    "normalize_os",
    "parse_specifier",
]

#: Go's known operating systems (go/build/syslist.go), as containerd lists them.
KNOWN_OSES = frozenset(
    {
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "windows",
        "zos",
    }
)
#: Go's known architectures, as containerd lists them.
KNOWN_ARCHES = frozenset(
    {
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "ppc64",
        "ppc64le",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    }
)

#: (architecture, os, os_version, os_features, variant): the fields a specifier sets.
Fields = tuple[str, str, "str | None", "tuple[str, ...]", "str | None"]

_PART = re.compile(r"[A-Za-z0-9_.-]+")
_OS_PART = re.compile(
    r"(?P<os>[A-Za-z0-9_-]+)(?:\((?P<version>[A-Za-z0-9_.%-]*)"
    r"(?P<features>(?:\+[A-Za-z0-9_.%-]+)*)\))?"
)
# Python's platform.machine() spellings that containerd's table does not know.
_MACHINE = {
    "amd64": ("amd64", ""),
    "x86_64": ("amd64", ""),
    "i686": ("386", ""),
    "i586": ("386", ""),
    "i486": ("386", ""),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
}


def normalize_os(os: str) -> str:
    """Lower-case *os*; `macos` is `darwin`."""
    os = os.lower()
    return "darwin" if os == "macos" else os


def normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """The containerd architecture and variant normalisation (empty variant: none)."""
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant == "":
            variant = "v7"
        elif variant in ("5", "6", "7", "8"):
            variant = "v" + variant
    return arch, variant


def host_arch() -> tuple[str, str]:
    """This machine's architecture and variant, normalised (`platform.machine()`)."""
    machine = _host.machine().lower()
    if machine in _MACHINE:
        return _MACHINE[machine]
    return normalize_arch(machine, "")


def normalize_fields(fields: Fields) -> Fields:
    """Normalise os, architecture and variant; sort and de-duplicate the os features."""
    arch, os, os_version, os_features, variant = fields
    arch, norm_variant = normalize_arch(arch, variant or "")
    return (
        arch,
        normalize_os(os),
        os_version or None,
        tuple(sorted(set(os_features))),
        norm_variant or None,
    )


def _fail(source: str, why: str) -> InvalidPlatform:
    return InvalidPlatform(f"invalid platform {source!r}: {why}", source=source)


def _decode(source: str, value: str) -> str:
    if "%" not in value:
        return value
    # Go's url.PathUnescape refuses a malformed escape; unquote would keep it as is.
    if re.search(r"%(?![0-9A-Fa-f]{2})", value):
        raise _fail(source, f"bad percent escape in {value!r}")
    return unquote(value, errors="strict")


def parse_specifier(source: str) -> Fields:
    """Parse a containerd platform specifier into normalised fields.

    Raises:
        InvalidPlatform: wildcards, bad characters, empty or too many parts, one part
            that is neither a known os nor a known architecture.
    """
    if "*" in source:
        raise _fail(source, "wildcards are not supported")
    parts = source.split("/", 3)
    head = _OS_PART.fullmatch(parts[0])
    if head is None:
        raise _fail(source, f"{parts[0]!r} is not an os[(version[+feature...])] part")
    bad = [p for p in parts[1:] if not _PART.fullmatch(p)]
    if bad:
        raise _fail(source, f"{bad[0]!r} is not a valid architecture or variant")
    os = normalize_os(head["os"])
    os_version = _decode(source, head["version"] or "") or None
    raw_features = (head["features"] or "")[1:]
    os_features = tuple(
        f for f in (_decode(source, f) for f in raw_features.split("+") if raw_features) if f
    )
    if len(parts) == 1:
        if os in KNOWN_OSES:
            arch, variant = host_arch()
        else:
            arch, variant = normalize_arch(parts[0], "")
            if arch not in KNOWN_ARCHES:
                raise _fail(source, "not a known operating system or architecture")
            os = "linux"  # the part had no parentheses, so no version or features
    elif len(parts) == 2:
        arch, variant = normalize_arch(parts[1], "")
    elif len(parts) == 3:
        arch, variant = normalize_arch(parts[1], parts[2])
    else:
        raise _fail(source, "more than three parts")
    return normalize_fields((arch, os, os_version, os_features, variant))


def _escape(value: str) -> str:
    for char, code in (("%", "%25"), ("+", "%2B"), ("(", "%28"), (")", "%29"), ("/", "%2F")):
        value = value.replace(char, code)
    return value


def format_fields(fields: Fields) -> str:
    """The containerd `FormatAll` of the normalised fields (`unknown` when os is empty)."""
    arch, os, os_version, os_features, variant = normalize_fields(fields)
    if not os:
        return "unknown"
    options = _escape(os_version or "") + "".join("+" + _escape(f) for f in os_features)
    head = f"{os}({options})" if options else os
    return "/".join(p for p in (head, arch, variant) if p)


def _version_matches(candidate: str, wanted: str) -> bool:
    # Only the major.minor.build prefix counts (10.0.17763.1 is 10.0.17763's image);
    # a shorter wanted version is a prefix of whole components.
    prefix = wanted.split(".")[:3]
    return candidate.split(".")[: len(prefix)] == prefix


def matches(candidate: Fields, wanted: Fields) -> bool:
    """The containerd exact matcher: may an image for *candidate* run where *wanted* asks?

    os, architecture and variant are equal after normalisation; the candidate's os
    features are all among the wanted ones (`win32k` ignored on windows); the os
    version is compared only when both have one, on its `major.minor.build` prefix.
    """
    c_arch, c_os, c_version, c_features, c_variant = normalize_fields(candidate)
    w_arch, w_os, w_version, w_features, w_variant = normalize_fields(wanted)
    if (c_os, c_arch, c_variant) != (w_os, w_arch, w_variant):
        return False
    if w_version and c_version and not _version_matches(c_version, w_version):
        return False
    if w_os == "windows":
        c_features = tuple(f for f in c_features if f != "win32k")
    return set(c_features) <= set(w_features)
