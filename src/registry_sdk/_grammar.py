r"""The distribution reference grammar, written down once.

```
reference        = name [ ":" tag ] [ "@" digest ]
name             = [ domain "/" ] remote-name
domain           = host [ ":" port ]
host             = domain-name | "[" ipv6 "]"
domain-name      = domain-component *( "." domain-component )
domain-component = ALNUM / ALNUM *( ALNUM / "-" ) ALNUM
remote-name      = path-component *( "/" path-component )
path-component   = lower-alnum *( separator lower-alnum )
separator        = "." / "_" / "__" / 1*"-"
tag              = ( ALNUM / "_" ) 0*127( ALNUM / "_" / "." / "-" )
digest           = algorithm ":" 32*HEXDIG
```

The expressions are the ones distribution/reference compiles (not the ones in its
comments), with explicit ASCII classes and ``fullmatch`` so that ``busybox\n`` and
``tæg`` are rejected. Inputs are capped at `MAX_INPUT_LENGTH` before any regex runs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from registry_sdk._errors import InvalidReference, ReferenceErrorKind

_K = ReferenceErrorKind

MAX_INPUT_LENGTH = 4096
NAME_TOTAL_LENGTH_MAX = 255
TAG_MAX = 128

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
DOMAIN = rf"{_HOST}(?::[0-9]+)?"
REMOTE_NAME = rf"{PATH_COMPONENT}(?:/{PATH_COMPONENT})*"
NAME = rf"(?:{DOMAIN}/)?{REMOTE_NAME}"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = rf"{NAME}(?::{TAG})?(?:@{DIGEST})?"

_REFERENCE_RE = re.compile(
    rf"(?:({DOMAIN})/)?({REMOTE_NAME})(?::({TAG}))?(?:@({DIGEST}))?", re.ASCII
)
_REMAINDER_RE = re.compile(rf"({REMOTE_NAME})(?::({TAG}))?(?:@({DIGEST}))?", re.ASCII)
DOMAIN_RE = re.compile(DOMAIN, re.ASCII)
PATH_RE = re.compile(REMOTE_NAME, re.ASCII)
_COMPONENT_RE = re.compile(PATH_COMPONENT, re.ASCII)
TAG_RE = re.compile(TAG, re.ASCII)
DIGEST_GRAMMAR_RE = re.compile(DIGEST, re.ASCII)
_IDENTIFIER_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)
_LOOSE_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
#: A supported digest of exact length in lower-case hex: needs no further validation.
SUPPORTED_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}", re.ASCII)
_HEX_RE = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}

MESSAGES = {
    _K.NAME_EMPTY: "repository name must have at least one component",
    _K.INVALID_REFERENCE_FORMAT: "invalid reference format",
    _K.NAME_CONTAINS_UPPERCASE: "repository name must be lowercase",
    _K.NAME_TOO_LONG: f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters",
    _K.NAME_NOT_CANONICAL: "repository name must be canonical",
    _K.TAG_INVALID_FORMAT: "invalid tag format",
    _K.DIGEST_INVALID_FORMAT: "invalid digest format",
    _K.DIGEST_INVALID_LENGTH: "invalid digest length",
    _K.DIGEST_UNSUPPORTED: "unsupported digest algorithm",
    _K.IDENTIFIER_NOT_ALLOWED: "cannot specify 64-byte hexadecimal strings",
}


class ReferenceParts(NamedTuple):
    """The pure grammar split of a reference; absent parts are ``None``."""

    domain: str | None
    path: str
    tag: str | None
    digest: str | None


def fail(
    kind: ReferenceErrorKind, source: str, span: tuple[int, int], detail: str = ""
) -> InvalidReference:
    """Build the exception for *kind* at *span* (the caller raises it)."""
    message = MESSAGES[kind] + (f": {detail}" if detail else "")
    start, end = max(0, span[0]), max(0, span[1])
    return InvalidReference(message, kind=kind, source=source, span=(start, end))


def check_length(source: str) -> None:
    """Reject empty and oversized input before any regex runs."""
    if not source:
        raise fail(_K.NAME_EMPTY, source, (0, 0))
    if len(source) > MAX_INPUT_LENGTH:
        raise fail(
            _K.INVALID_REFERENCE_FORMAT,
            source,
            (MAX_INPUT_LENGTH, len(source)),
            f"longer than {MAX_INPUT_LENGTH} characters",
        )


def validate_digest(source: str, start: int, digest: str) -> None:
    """Validate an algorithm-prefixed digest like go-digest, for sha256 and sha512."""
    end = start + len(digest)
    alg, sep, encoded = digest.partition(":")
    if not alg or not sep or not encoded:
        raise fail(_K.DIGEST_INVALID_FORMAT, source, (start, end))
    pattern = _HEX_RE.get(alg)
    if pattern is None:
        if _LOOSE_DIGEST_RE.fullmatch(digest):
            raise fail(
                _K.DIGEST_UNSUPPORTED,
                source,
                (start, start + len(alg)),
                f"{alg!r} (supported: sha256, sha512)",
            )
        raise fail(_K.DIGEST_INVALID_FORMAT, source, (start, end))
    enc_start = start + len(alg) + 1
    if len(encoded) != {"sha256": 64, "sha512": 128}[alg]:
        raise fail(_K.DIGEST_INVALID_LENGTH, source, (enc_start, end))
    if not pattern.fullmatch(encoded):
        bad = next(i for i, c in enumerate(encoded) if c not in "0123456789abcdef")
        raise fail(
            _K.DIGEST_INVALID_FORMAT,
            source,
            (enc_start + bad, enc_start + bad + 1),
            "hex must be lower-case",
        )


def _first_bad(text: str, allowed: str) -> int:
    return next((i for i, c in enumerate(text) if c not in allowed), -1)


_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_PATH_CHARS = _LOWER + "._-"
_DOMAIN_CHARS = _LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:[]"
_TAG_CHARS = _LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"


def _locate_in(text: str, offset: int, allowed: str) -> tuple[int, int]:
    bad = _first_bad(text, allowed)
    if bad >= 0:
        return offset + bad, offset + bad + 1
    return offset, offset + len(text)


def locate_error(source: str, offset: int = 0, text: str | None = None) -> InvalidReference:
    """Explain why *text* (at *offset* in *source*) fails the reference grammar.

    Only called on the slow path, once the anchored regex has already failed.
    """
    text = source if text is None else text
    if text.lower() != text and _REFERENCE_RE.fullmatch(text.lower()):
        upper = next(i for i, c in enumerate(text) if c.isupper())
        return fail(_K.NAME_CONTAINS_UPPERCASE, source, (offset + upper, offset + upper + 1))
    name_tag, at, digest = text.partition("@")
    if at and not DIGEST_GRAMMAR_RE.fullmatch(digest):
        start = offset + len(name_tag) + 1
        return fail(
            _K.INVALID_REFERENCE_FORMAT, source, (start, start + len(digest)), "invalid digest"
        )
    slash = name_tag.rfind("/")
    colon = name_tag.find(":", slash + 1)
    name = name_tag if colon < 0 else name_tag[:colon]
    if colon >= 0:
        tag = name_tag[colon + 1 :]
        if not TAG_RE.fullmatch(tag):
            start = offset + colon + 1
            span = _locate_in(tag, start, _TAG_CHARS) if tag else (start - 1, start)
            return fail(_K.INVALID_REFERENCE_FORMAT, source, span, "invalid tag")
    parts = name.split("/")
    pos = offset
    domain_ok = len(parts) > 1 and DOMAIN_RE.fullmatch(parts[0]) is not None
    for index, part in enumerate(parts):
        if index == 0 and domain_ok:
            pos += len(part) + 1
            continue
        if not _COMPONENT_RE.fullmatch(part):
            if index == 0 and len(parts) > 1 and _first_bad(part, _PATH_CHARS) >= 0:
                what, span = "invalid domain", _locate_in(part, pos, _DOMAIN_CHARS)
            else:
                what, span = "invalid path component", _locate_in(part, pos, _PATH_CHARS)
            if not part:
                span = (pos, pos)
            return fail(_K.INVALID_REFERENCE_FORMAT, source, span, what)
        pos += len(part) + 1
    return fail(_K.INVALID_REFERENCE_FORMAT, source, (offset, offset + len(text)))


def split(source: str) -> ReferenceParts:
    """The pure grammar parse of distribution/reference's ``Parse`` (no normalisation)."""
    check_length(source)
    match = _REFERENCE_RE.fullmatch(source)
    if match is None:
        raise locate_error(source)
    domain, path, tag, digest = match.groups()
    path_start = match.start(2)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise fail(
            _K.NAME_TOO_LONG, source, (path_start + NAME_TOTAL_LENGTH_MAX, path_start + len(path))
        )
    if digest is not None:
        validate_digest(source, match.start(4), digest)
    return ReferenceParts(domain, path, tag, digest)


def split_remainder(source: str, remainder: str, offset: int) -> tuple[str, str | None, str | None]:
    """Match ``remote-name [":" tag] ["@" digest]``; *offset* maps spans into *source*."""
    match = _REMAINDER_RE.fullmatch(remainder)
    if match is None:
        raise locate_error(source, offset, remainder)
    path, tag, digest = match.groups()
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        start = offset + match.start(1) + NAME_TOTAL_LENGTH_MAX
        raise fail(_K.NAME_TOO_LONG, source, (max(offset, start), offset + match.end(1)))
    if digest is not None:
        validate_digest(source, offset + match.start(3), digest)
    return path, tag, digest


def is_identifier(text: str) -> bool:
    """Whether *text* is a bare 64-hex image ID."""
    return len(text) == 64 and _IDENTIFIER_RE.fullmatch(text) is not None
