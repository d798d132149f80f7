"""Docker's normalisation of references (`ParseNormalizedNamed`), fast and exact.

A fast path handles valid input with one regex match; whatever it is not sure of goes
to the step-by-step slow path, which also produces every error with its span.
"""

from __future__ import annotations

from registry_sdk import _grammar as G
from registry_sdk._errors import ReferenceErrorKind

__all__ = [
    "DOCKER_HUB",
    "HUB_ALIAS",
    "LIBRARY",
    "looks_like_domain",
    "normalise",
    "normalise_exact",
    "suffix_start",
]

_K = ReferenceErrorKind

#: The canonical name of Docker Hub in references.
DOCKER_HUB = "docker.io"
HUB_ALIAS = "index.docker.io"
LIBRARY = "library/"


def looks_like_domain(first: str) -> bool:
    """Docker's rule for reading the first component of a name as a registry."""
    return first == "localhost" or "." in first or ":" in first or first != first.lower()


def suffix_start(source: str, tag: str | None, digest: str | None) -> int:
    end = len(source) - (len(digest) + 1 if digest is not None else 0)
    return end - len(tag) - 1 if tag is not None else end


_SPLIT = G._REFERENCE_RE.fullmatch
#: The digests that need no further validation: supported algorithm, exact length, lower hex.
_GOOD_DIGEST = G.SUPPORTED_DIGEST_RE.fullmatch
_MAX_INPUT = G.MAX_INPUT_LENGTH
_MAX_PATH = G.NAME_TOTAL_LENGTH_MAX


def normalise(
    source: str, strict: bool, default_registry: str
) -> tuple[str, str, str | None, str | None]:
    """Docker's `ParseNormalizedNamed`, returning (domain, path, tag, digest).

    A fast path handles valid input with one regex match; anything it is not sure of
    goes to the exact path, `normalise_exact`, which also produces every error.
    tests/property/test_normalise_paths.py checks that the two agree.
    """
    match = _SPLIT(source) if len(source) <= _MAX_INPUT else None
    if match is None or (len(source) == 64 and G.is_identifier(source)):
        return normalise_exact(source, strict, default_registry)
    domain, path, tag, digest = match.groups()
    if domain is None or not (
        "." in domain or ":" in domain or domain == "localhost" or domain != domain.lower()
    ):
        if domain is not None:
            path = f"{domain}/{path}"  # Docker reads "foo/bar" as docker.io/foo/bar
        elif "/" in path and looks_like_domain(path[: path.index("/")]):
            return normalise_exact(source, strict, default_registry)
        domain = default_registry
        if domain != DOCKER_HUB and G.DOMAIN_RE.fullmatch(domain) is None:
            return normalise_exact(source, strict, default_registry)
    elif domain == HUB_ALIAS:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = LIBRARY + path
    if len(path) > _MAX_PATH:
        return normalise_exact(source, strict, default_registry)
    if digest is not None and _GOOD_DIGEST(digest) is None:
        G.validate_digest(source, len(source) - len(digest), digest)
    if strict and source[: suffix_start(source, tag, digest)] != f"{domain}/{path}":
        return normalise_exact(source, strict, default_registry)
    return domain, path, tag, digest


def normalise_exact(
    source: str, strict: bool, default_registry: str
) -> tuple[str, str, str | None, str | None]:
    """The exact, step-by-step normalisation (and every error it can raise).

    Private to the package like the whole module; `normalise` is the fast path in
    front of it, and a property test checks that both give the same result or error.
    """
    G.check_length(source)
    if G.is_identifier(source):
        raise G.fail(_K.IDENTIFIER_NOT_ALLOWED, source, (0, len(source)))
    slash = source.find("/")
    first = source[:slash]
    if slash > 0 and looks_like_domain(first):
        domain, rest, offset = first, source[slash + 1 :], slash + 1
        if G.DOMAIN_RE.fullmatch(domain) is None:
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT,
                source,
                G._locate_in(domain, 0, G._DOMAIN_CHARS),
                "invalid domain",
            )
        if domain == HUB_ALIAS:
            domain = DOCKER_HUB
    else:
        domain, rest, offset = default_registry, source, 0
        if domain != DOCKER_HUB and G.DOMAIN_RE.fullmatch(domain) is None:
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT, domain, (0, len(domain)), "invalid default registry"
            )
    if domain == DOCKER_HUB and "/" not in rest:
        rest, offset = LIBRARY + rest, offset - len(LIBRARY)
    # Upstream checks everything before the first ":" (so "@Sha256:" counts as the name);
    # we stop at "@" too, so a bad digest is reported as a digest error.
    remote = rest.partition("@")[0].partition(":")[0]
    if remote != remote.lower():
        upper = offset + next(i for i, c in enumerate(remote) if c.isupper())
        raise G.fail(_K.NAME_CONTAINS_UPPERCASE, source, (upper, upper + 1))
    path, tag, digest = G.split_remainder(source, rest, offset)
    if strict:
        canonical = f"{domain}/{path}"
        name_end = suffix_start(source, tag, digest)
        if source[:name_end] != canonical:
            raise G.fail(_K.NAME_NOT_CANONICAL, source, (0, name_end), f"expected {canonical!r}")
    return domain, path, tag, digest
