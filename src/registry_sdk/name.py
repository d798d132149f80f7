"""Registry, repository, tag and digest references, exact to the distribution grammar.

`import registry_sdk.name` costs only the standard library (`re`, `enum`, `typing`): no
attrs, no urllib3, no cattrs, no transport.

>>> from registry_sdk.name import parse_reference
>>> ref = parse_reference("ubuntu:22.04")
>>> str(ref), ref.familiar
('docker.io/library/ubuntu:22.04', 'ubuntu:22.04')
>>> ref.repository.path
'library/ubuntu'

Non-strict parsing applies Docker's normalisation (`docker.io`, `library/` on Docker Hub
only, `index.docker.io` as an alias); `strict=True` applies none and raises
`name_not_canonical` for anything that is not already in canonical form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from registry_sdk import _grammar as G
from registry_sdk._errors import InvalidReference, ReferenceErrorKind
from registry_sdk._grammar import ReferenceParts
from registry_sdk._normalise import (
    DOCKER_HUB,
    HUB_ALIAS,
    LIBRARY,
    looks_like_domain,
    normalise,
    suffix_start,
)

if TYPE_CHECKING:
    from registry_sdk.client import Client
    from registry_sdk.models import Manifest
    from registry_sdk.scope import Action, Scope

__all__ = [
    "DIGEST_PATTERN",
    "DOCKER_HUB",
    "DOMAIN_PATTERN",
    "Digest",
    "InvalidReference",
    "NAME_PATTERN",
    "REFERENCE_PATTERN",
    "Reference",
    "ReferenceErrorKind",
    "ReferenceParts",
    "Registry",
    "Repository",
    "TAG_PATTERN",
    "Tag",
    "parse_reference",
    "split_reference",
]

_K = ReferenceErrorKind

#: Unanchored patterns, for embedding in other tools' regular expressions.
DOMAIN_PATTERN: str = G.DOMAIN
NAME_PATTERN: str = G.NAME
TAG_PATTERN: str = G.TAG
DIGEST_PATTERN: str = G.DIGEST
REFERENCE_PATTERN: str = G.REFERENCE


def __dir__() -> list[str]:
    return __all__


_set = object.__setattr__


# The four name types are hand-written rather than attrs classes so that `import
# registry_sdk.name` does not pay for attrs. Each is slotted (and weak-referenceable) and
# immutable: its `__init__` takes components (never parsing) and sets the slots through
# object.__setattr__; `__eq__` and `__hash__` follow the canonical form; `__repr__` is the
# attrs-style one; `__reduce__` pickles the components.


def _frozen_setattr(self: object, name: str, value: object) -> NoReturn:
    raise AttributeError(f"{self.__class__.__name__!r} is immutable; cannot set {name!r}")


def _frozen_delattr(self: object, name: str) -> NoReturn:
    raise AttributeError(f"{self.__class__.__name__!r} is immutable; cannot delete {name!r}")


class Registry:
    """A registry host, `host[:port]`, e.g. `ghcr.io` or `localhost:5000`.

    Build one with [Registry.parse][registry_sdk.name.Registry.parse]; the constructor
    takes an already canonical name and does not validate it.
    """

    __slots__ = ("__weakref__", "name")
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __match_args__ = ("name",)
    if TYPE_CHECKING:

        @property
        def name(self) -> str:
            """The host and optional port, e.g. `ghcr.io` or `localhost:5000`."""

    def __init__(self, name: str) -> None:
        _set(self, "name", name)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        return hash((Registry, self.name))

    def __reduce__(self) -> tuple[type[Registry], tuple[str]]:
        return self.__class__, (self.name,)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(name={self.name!r})"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(
        cls, source: str, *, strict: bool = False, default_registry: str = DOCKER_HUB
    ) -> Registry:
        """Parse `host[:port]`; the empty string gives *default_registry* (not strict).

        Raises:
            InvalidReference: with kind `name_empty` (strict, empty input),
                `invalid_reference_format` or `name_not_canonical`.
        """
        if not source and not strict:
            return cls(default_registry)
        G.check_length(source)
        if G.DOMAIN_RE.fullmatch(source) is None:
            detail = (
                "a registry is host[:port], without a scheme"
                if "://" in source
                else "invalid domain"
            )
            span = G._locate_in(source, 0, G._DOMAIN_CHARS)
            raise G.fail(_K.INVALID_REFERENCE_FORMAT, source, span, detail)
        if source == HUB_ALIAS:
            if strict:
                raise G.fail(_K.NAME_NOT_CANONICAL, source, (0, len(source)), f"use {DOCKER_HUB!r}")
            return cls(DOCKER_HUB)
        return cls(source)

    @property
    def familiar(self) -> str:
        """The name as Docker prints it (the same as `str()` for a registry)."""
        return self.name

    def repository(self, path: str) -> Repository:
        """The repository *path* on this registry, validated (no normalisation)."""
        if not path:
            raise G.fail(_K.INVALID_REFERENCE_FORMAT, path, (0, 0), "empty repository path")
        path_, tag, digest = G.split_remainder(path, path, 0)
        if tag is not None or digest is not None:
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT,
                path,
                (len(path_), len(path)),
                "a repository path has no tag or digest",
            )
        return Repository(self, path_)

    def catalog_scope(self) -> Scope:
        """The token scope `registry:catalog:*` needed for `/v2/_catalog`."""
        from registry_sdk.scope import Scope  # noqa: PLC0415 (keeps this module light)

        return Scope.catalog()


class Repository:
    """A repository: a registry and a path such as `library/ubuntu`."""

    __slots__ = ("__weakref__", "path", "registry")
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __match_args__ = ("registry", "path")
    if TYPE_CHECKING:

        @property
        def registry(self) -> Registry:
            """The registry that holds the repository."""

        @property
        def path(self) -> str:
            """The repository path on its registry, e.g. `library/ubuntu`."""

    def __init__(self, registry: Registry, path: str) -> None:
        _set(self, "registry", registry)
        _set(self, "path", path)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.path == other.path and self.registry == other.registry

    def __hash__(self) -> int:
        return hash((Repository, self.registry.name, self.path))

    def __reduce__(self) -> tuple[type[Repository], tuple[Registry, str]]:
        return self.__class__, (self.registry, self.path)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(registry={self.registry!r}, path={self.path!r})"

    def __str__(self) -> str:
        return f"{self.registry.name}/{self.path}"

    @classmethod
    def parse(
        cls, source: str, *, strict: bool = False, default_registry: str = DOCKER_HUB
    ) -> Repository:
        """Parse a repository name; a tag or digest in *source* is an error.

        Raises:
            InvalidReference: see [ReferenceErrorKind][registry_sdk.errors.ReferenceErrorKind].
        """
        domain, path, tag, digest = normalise(source, strict, default_registry)
        if tag is not None or digest is not None:
            start = suffix_start(source, tag, digest)
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT,
                source,
                (start, len(source)),
                "a repository has no tag or digest",
            )
        return cls(_registry(domain), path)

    @property
    def familiar(self) -> str:
        """The short form Docker prints: `ubuntu`, `org/app`, `ghcr.io/org/app`."""
        if self.registry.name != DOCKER_HUB:
            return str(self)
        path = self.path
        if path.startswith(LIBRARY) and path.count("/") == 1:
            return path[len(LIBRARY) :]
        first = path.partition("/")[0]
        # Upstream's FamiliarName drops docker.io even when the first component would be
        # read back as a domain ("docker.io/foo.bar/baz" -> "foo.bar/baz"); we keep it,
        # so that the familiar form always parses back to the same repository.
        if looks_like_domain(first):
            return str(self)
        return path

    def with_tag(self, tag: str) -> Tag:
        """This repository with *tag*, validated (`tag_invalid_format`)."""
        if G.TAG_RE.fullmatch(tag) is None:
            span = G._locate_in(tag, 0, G._TAG_CHARS) if tag else (0, 0)
            raise G.fail(_K.TAG_INVALID_FORMAT, tag, span)
        return Tag(self, tag)

    def with_digest(self, digest: str) -> Digest:
        """This repository with *digest*, validated.

        Unlike distribution's `WithDigest`, which checks only the grammar, the digest
        must also be a supported algorithm of exact length (sha256 or sha512).
        """
        if G.DIGEST_GRAMMAR_RE.fullmatch(digest) is None:
            raise G.fail(_K.DIGEST_INVALID_FORMAT, digest, (0, len(digest)))
        G.validate_digest(digest, 0, digest)
        return Digest(self, digest)

    def scope(self, *actions: Action | str) -> Scope:
        """The token scope `repository:<path>:<actions>` (default: pull)."""
        from registry_sdk.scope import Scope  # noqa: PLC0415 (keeps this module light)

        return Scope.repository(self.path, *(actions or ("pull",)))

    # The facade: thin sugar over a Client, imported at call time so that importing
    # this module never imports urllib3 or cattrs.

    def tags(self, *, client: Client | None = None) -> list[str]:
        """All tags of this repository (every page), through *client* or the default."""
        return self.list_tags(client=client)

    def list_tags(self, *, page_size: int | None = None, client: Client | None = None) -> list[str]:
        """All tags, asking for *page_size* per page."""
        return _client(client).list_tags(self, page_size=page_size)

    def get_manifest(self, reference: str = "latest", *, client: Client | None = None) -> Manifest:
        """The verified manifest of *reference*, a tag (`v1`) or a digest (`sha256:…`)."""
        ref: Tag | Digest = (
            self.with_digest(reference) if ":" in reference else self.with_tag(reference)
        )
        return _client(client).get_manifest(ref)


class Tag:
    """A tagged reference such as `docker.io/library/ubuntu:22.04`."""

    __slots__ = ("__weakref__", "repository", "tag")
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __match_args__ = ("repository", "tag")
    if TYPE_CHECKING:

        @property
        def repository(self) -> Repository:
            """The repository the tag belongs to."""

        @property
        def tag(self) -> str:
            """The tag, e.g. `22.04`."""

    def __init__(self, repository: Repository, tag: str) -> None:
        _set(self, "repository", repository)
        _set(self, "tag", tag)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.tag == other.tag and self.repository == other.repository

    def __hash__(self) -> int:
        return hash((Tag, self.repository, self.tag))

    def __reduce__(self) -> tuple[type[Tag], tuple[Repository, str]]:
        return self.__class__, (self.repository, self.tag)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(repository={self.repository!r}, tag={self.tag!r})"

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag}"

    @property
    def registry(self) -> Registry:
        """The registry of the repository."""
        return self.repository.registry

    @property
    def identifier(self) -> str:
        """What goes after `/manifests/` in a URL: the tag."""
        return self.tag

    @property
    def familiar(self) -> str:
        """The short form Docker prints, e.g. `ubuntu:22.04`."""
        return f"{self.repository.familiar}:{self.tag}"

    @classmethod
    def parse(
        cls,
        source: str,
        *,
        strict: bool = False,
        default_registry: str = DOCKER_HUB,
        default_tag: str = "latest",
    ) -> Tag:
        """Parse a tag reference; without a tag, *default_tag* (an error when strict)."""
        ref = parse_reference(
            source, strict=strict, default_registry=default_registry, default_tag=default_tag
        )
        if isinstance(ref, Digest):
            start = len(source) - len(ref.digest) - 1
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT,
                source,
                (start, len(source)),
                "a tag reference has no digest",
            )
        return ref


class Digest:
    """A reference by content digest, e.g. `ghcr.io/org/app@sha256:…`.

    `tag` keeps a tag written beside the digest (`app:v1@sha256:…`); it takes no part
    in equality and is not printed by `str()`.
    """

    __slots__ = ("__weakref__", "digest", "repository", "tag")
    __setattr__ = _frozen_setattr
    __delattr__ = _frozen_delattr
    __match_args__ = ("repository", "digest", "tag")
    if TYPE_CHECKING:

        @property
        def repository(self) -> Repository:
            """The repository the digest belongs to."""

        @property
        def digest(self) -> str:
            """The digest, `algorithm:hex`, e.g. `sha256:…`."""

        @property
        def tag(self) -> str | None:
            """The tag written beside the digest, else `None` (not part of equality)."""

    def __init__(self, repository: Repository, digest: str, tag: str | None = None) -> None:
        _set(self, "repository", repository)
        _set(self, "digest", digest)
        _set(self, "tag", tag)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.digest == other.digest and self.repository == other.repository

    def __hash__(self) -> int:
        return hash((Digest, self.repository, self.digest))

    def __reduce__(self) -> tuple[type[Digest], tuple[Repository, str, str | None]]:
        return self.__class__, (self.repository, self.digest, self.tag)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(repository={self.repository!r}, "
            f"digest={self.digest!r}, tag={self.tag!r})"
        )

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}"

    @property
    def registry(self) -> Registry:
        """The registry of the repository."""
        return self.repository.registry

    @property
    def identifier(self) -> str:
        """What goes after `/manifests/` in a URL: the digest."""
        return self.digest

    @property
    def familiar(self) -> str:
        """The short form Docker prints, e.g. `ubuntu@sha256:…`."""
        return f"{self.repository.familiar}@{self.digest}"

    @classmethod
    def parse(
        cls, source: str, *, strict: bool = False, default_registry: str = DOCKER_HUB
    ) -> Digest:
        """Parse a digest reference; *source* must contain `@algorithm:hex`."""
        domain, path, tag, digest = normalise(source, strict, default_registry)
        if digest is None:
            raise G.fail(
                _K.INVALID_REFERENCE_FORMAT, source, (len(source), len(source)), "missing digest"
            )
        return cls(Repository(_registry(domain), path), digest, tag)


Reference: TypeAlias = Tag | Digest


def parse_reference(
    source: str,
    *,
    strict: bool = False,
    default_registry: str = DOCKER_HUB,
    default_tag: str = "latest",
) -> Tag | Digest:
    """Parse a tag or digest reference, as `docker pull` reads its argument.

    A tag and a digest together give a [Digest][registry_sdk.name.Digest] that keeps the
    tag. Without either, the tag is *default_tag*; in strict mode that is an error.

    Raises:
        InvalidReference: see [ReferenceErrorKind][registry_sdk.errors.ReferenceErrorKind].
    """
    domain, path, tag, digest = normalise(source, strict, default_registry)
    repo = _new_repository(_REGISTRIES.get(domain) or _registry(domain), path)
    if digest is not None:
        return _new_digest(repo, digest, tag)
    if tag is None:
        if strict:
            raise G.fail(_K.NAME_NOT_CANONICAL, source, (len(source), len(source)), "missing tag")
        if default_tag != "latest" and G.TAG_RE.fullmatch(default_tag) is None:
            raise G.fail(_K.TAG_INVALID_FORMAT, default_tag, (0, len(default_tag)))
        tag = default_tag
    return _new_tag(repo, tag)


def split_reference(source: str) -> ReferenceParts:
    """The pure grammar parse of distribution/reference's `Parse`: no normalisation.

    >>> split_reference("a/b:c")
    ReferenceParts(domain='a', path='b', tag='c', digest=None)
    """
    return G.split(source)


_REGISTRIES: dict[str, Registry] = {}


def _registry(name: str) -> Registry:
    """An interned Registry: there are few distinct registries and values are immutable."""
    found = _REGISTRIES.get(name)
    if found is None:
        found = Registry(name)
        if len(_REGISTRIES) < 1024:
            _REGISTRIES[name] = found
    return found


# Constructors for the parser's hot path: the same values as the classes' __init__, built
# by setting the slots directly (about half the cost of __init__ with object.__setattr__).
_new = object.__new__


def _slot(cls: type, name: str) -> Callable[[object, object], None]:
    setter: Callable[[object, object], None] = vars(cls)[name].__set__
    return setter


_SET_REPOSITORY_REGISTRY = _slot(Repository, "registry")
_SET_REPOSITORY_PATH = _slot(Repository, "path")
_SET_TAG_REPOSITORY = _slot(Tag, "repository")
_SET_TAG_TAG = _slot(Tag, "tag")
_SET_DIGEST_REPOSITORY = _slot(Digest, "repository")
_SET_DIGEST_DIGEST = _slot(Digest, "digest")
_SET_DIGEST_TAG = _slot(Digest, "tag")


def _new_repository(registry: Registry, path: str) -> Repository:
    repository: Repository = _new(Repository)
    _SET_REPOSITORY_REGISTRY(repository, registry)
    _SET_REPOSITORY_PATH(repository, path)
    return repository


def _new_tag(repository: Repository, tag: str) -> Tag:
    value: Tag = _new(Tag)
    _SET_TAG_REPOSITORY(value, repository)
    _SET_TAG_TAG(value, tag)
    return value


def _new_digest(repository: Repository, digest: str, tag: str | None) -> Digest:
    value: Digest = _new(Digest)
    _SET_DIGEST_REPOSITORY(value, repository)
    _SET_DIGEST_DIGEST(value, digest)
    _SET_DIGEST_TAG(value, tag)
    return value


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from registry_sdk.client import default_client  # noqa: PLC0415 (lazy: heavy import)

    return default_client()
