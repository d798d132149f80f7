"""Table tests for registry_sdk.name: the distribution grammar and Docker normalisation."""

from __future__ import annotations

import pickle

import pytest

from registry_sdk.errors import InvalidReference, ReferenceErrorKind
from registry_sdk.name import (
    Digest,
    Registry,
    Repository,
    Tag,
    parse_reference,
    split_reference,
)

K = ReferenceErrorKind
H64 = "a" * 64
D256 = "sha256:" + H64
D512 = "sha512:" + "f" * 128
PATH_255 = "a/" + "b" * 253
PATH_256 = "a/" + "b" * 254
TAG_128 = "t" * 128
TAG_129 = "t" * 129

# (input, canonical str(), familiar form, registry, path, tag, digest)
NORMALISED = [
    (
        "ubuntu",
        "docker.io/library/ubuntu:latest",
        "ubuntu:latest",
        "docker.io",
        "library/ubuntu",
        "latest",
        None,
    ),
    (
        "ubuntu:22.04",
        "docker.io/library/ubuntu:22.04",
        "ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
    ),
    (
        "library/ubuntu",
        "docker.io/library/ubuntu:latest",
        "ubuntu:latest",
        "docker.io",
        "library/ubuntu",
        "latest",
        None,
    ),
    (
        "docker.io/foo",
        "docker.io/library/foo:latest",
        "foo:latest",
        "docker.io",
        "library/foo",
        "latest",
        None,
    ),
    (
        "index.docker.io/foo",
        "docker.io/library/foo:latest",
        "foo:latest",
        "docker.io",
        "library/foo",
        "latest",
        None,
    ),
    (
        "docker.io/library/foo/bar",
        "docker.io/library/foo/bar:latest",
        "library/foo/bar:latest",
        "docker.io",
        "library/foo/bar",
        "latest",
        None,
    ),
    ("org/app:v1", "docker.io/org/app:v1", "org/app:v1", "docker.io", "org/app", "v1", None),
    ("gcr.io/foo", "gcr.io/foo:latest", "gcr.io/foo:latest", "gcr.io", "foo", "latest", None),
    (
        "registry-1.docker.io/foo",
        "registry-1.docker.io/foo:latest",
        "registry-1.docker.io/foo:latest",
        "registry-1.docker.io",
        "foo",
        "latest",
        None,
    ),
    (
        "localhost/foo",
        "localhost/foo:latest",
        "localhost/foo:latest",
        "localhost",
        "foo",
        "latest",
        None,
    ),
    (
        "localhost:5000/foo/bar:1",
        "localhost:5000/foo/bar:1",
        "localhost:5000/foo/bar:1",
        "localhost:5000",
        "foo/bar",
        "1",
        None,
    ),
    (
        "localhost:5000",
        "docker.io/library/localhost:5000",
        "localhost:5000",
        "docker.io",
        "library/localhost",
        "5000",
        None,
    ),
    (
        "test.com:5000",
        "docker.io/library/test.com:5000",
        "test.com:5000",
        "docker.io",
        "library/test.com",
        "5000",
        None,
    ),
    (
        "192.168.0.1:80",
        "docker.io/library/192.168.0.1:80",
        "192.168.0.1:80",
        "docker.io",
        "library/192.168.0.1",
        "80",
        None,
    ),
    (
        "[2001:db8::1]:5000/repo",
        "[2001:db8::1]:5000/repo:latest",
        "[2001:db8::1]:5000/repo:latest",
        "[2001:db8::1]:5000",
        "repo",
        "latest",
        None,
    ),
    ("[::1]/repo", "[::1]/repo:latest", "[::1]/repo:latest", "[::1]", "repo", "latest", None),
    ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", "bar", "latest", None),
    (
        "Asdf.com/foo/bar",
        "Asdf.com/foo/bar:latest",
        "Asdf.com/foo/bar:latest",
        "Asdf.com",
        "foo/bar",
        "latest",
        None,
    ),
    (
        "foo:UPPER_tag",
        "docker.io/library/foo:UPPER_tag",
        "foo:UPPER_tag",
        "docker.io",
        "library/foo",
        "UPPER_tag",
        None,
    ),
    (
        "foo__bar",
        "docker.io/library/foo__bar:latest",
        "foo__bar:latest",
        "docker.io",
        "library/foo__bar",
        "latest",
        None,
    ),
    (
        "a-----b/c.d_e",
        "docker.io/a-----b/c.d_e:latest",
        "a-----b/c.d_e:latest",
        "docker.io",
        "a-----b/c.d_e",
        "latest",
        None,
    ),
    (
        f"foo@{D256}",
        f"docker.io/library/foo@{D256}",
        f"foo@{D256}",
        "docker.io",
        "library/foo",
        None,
        D256,
    ),
    (
        f"foo:v1@{D256}",
        f"docker.io/library/foo@{D256}",
        f"foo@{D256}",
        "docker.io",
        "library/foo",
        "v1",
        D256,
    ),
    (
        f"ghcr.io/o/a@{D512}",
        f"ghcr.io/o/a@{D512}",
        f"ghcr.io/o/a@{D512}",
        "ghcr.io",
        "o/a",
        None,
        D512,
    ),
    (
        f"{PATH_255}:{TAG_128}",
        f"docker.io/{PATH_255}:{TAG_128}",
        f"{PATH_255}:{TAG_128}",
        "docker.io",
        PATH_255,
        TAG_128,
        None,
    ),
    (
        "a" * 63,
        f"docker.io/library/{'a' * 63}:latest",
        f"{'a' * 63}:latest",
        "docker.io",
        f"library/{'a' * 63}",
        "latest",
        None,
    ),
    (
        f"sha256:{H64}",
        f"docker.io/library/sha256:{H64}",
        f"sha256:{H64}",
        "docker.io",
        "library/sha256",
        H64,
        None,
    ),
]


@pytest.mark.parametrize(
    ("source", "canonical", "familiar", "registry", "path", "tag", "digest"),
    NORMALISED,
    ids=[row[0][:40] for row in NORMALISED],
)
def test_normalised_parse(
    source: str,
    canonical: str,
    familiar: str,
    registry: str,
    path: str,
    tag: str | None,
    digest: str | None,
) -> None:
    """Docker normalisation gives the canonical form, familiar form and each part."""
    ref = parse_reference(source)
    assert str(ref) == canonical
    assert ref.familiar == familiar
    assert ref.repository.registry == Registry(registry)
    assert ref.repository.path == path
    assert getattr(ref, "tag", None) == tag
    assert getattr(ref, "digest", None) == digest
    assert parse_reference(str(ref)) == ref


# (input, kind, span, message first line)
INVALID = [
    ("", K.NAME_EMPTY, (0, 0), "repository name must have at least one component"),
    (H64, K.IDENTIFIER_NOT_ALLOWED, (0, 64), "cannot specify 64-byte hexadecimal strings"),
    ("Uppercase:tag", K.NAME_CONTAINS_UPPERCASE, (0, 1), "repository name must be lowercase"),
    ("docker.io/Foo", K.NAME_CONTAINS_UPPERCASE, (10, 11), "repository name must be lowercase"),
    ("foo/Bar", K.NAME_CONTAINS_UPPERCASE, (4, 5), "repository name must be lowercase"),
    (
        "busybox\n",
        K.INVALID_REFERENCE_FORMAT,
        (7, 8),
        "invalid reference format: invalid path component",
    ),
    ("foo:tæg", K.INVALID_REFERENCE_FORMAT, (5, 6), "invalid reference format: invalid tag"),
    (
        "foo___bar",
        K.INVALID_REFERENCE_FORMAT,
        (0, 9),
        "invalid reference format: invalid path component",
    ),
    (
        "foo..bar",
        K.INVALID_REFERENCE_FORMAT,
        (0, 8),
        "invalid reference format: invalid path component",
    ),
    (
        "-foo",
        K.INVALID_REFERENCE_FORMAT,
        (0, 4),
        "invalid reference format: invalid path component",
    ),
    (
        "foo/",
        K.INVALID_REFERENCE_FORMAT,
        (4, 4),
        "invalid reference format: invalid path component",
    ),
    (
        "a//b",
        K.INVALID_REFERENCE_FORMAT,
        (2, 2),
        "invalid reference format: invalid path component",
    ),
    ("foo:", K.INVALID_REFERENCE_FORMAT, (3, 4), "invalid reference format: invalid tag"),
    ("foo:-tag", K.INVALID_REFERENCE_FORMAT, (4, 8), "invalid reference format: invalid tag"),
    (
        f"foo:{TAG_129}",
        K.INVALID_REFERENCE_FORMAT,
        (4, 133),
        "invalid reference format: invalid tag",
    ),
    (PATH_256, K.NAME_TOO_LONG, (255, 256), "repository name must not be more than 255 characters"),
    (
        f"docker.io/{PATH_256}",
        K.NAME_TOO_LONG,
        (265, 266),
        "repository name must not be more than 255 characters",
    ),
    (
        "foo@sha256:abc",
        K.INVALID_REFERENCE_FORMAT,
        (4, 14),
        "invalid reference format: invalid digest",
    ),
    (
        f"foo@sha256:{'F' * 64}",
        K.DIGEST_INVALID_FORMAT,
        (11, 12),
        "invalid digest format: hex must be lower-case",
    ),
    (f"foo@sha256:{'a' * 65}", K.DIGEST_INVALID_LENGTH, (11, 76), "invalid digest length"),
    (f"foo@sha512:{'a' * 64}", K.DIGEST_INVALID_LENGTH, (11, 75), "invalid digest length"),
    (
        f"foo@md5:{'a' * 32}",
        K.DIGEST_UNSUPPORTED,
        (4, 7),
        "unsupported digest algorithm: 'md5' (supported: sha256, sha512)",
    ),
    (f"foo@Sha256:{H64}", K.DIGEST_INVALID_FORMAT, (4, 75), "invalid digest format"),
    (
        "[2001:db8::1]:5000",
        K.INVALID_REFERENCE_FORMAT,
        (9, 10),
        "invalid reference format: invalid tag",
    ),
    (
        "foo_bar.com/x",
        K.INVALID_REFERENCE_FORMAT,
        (3, 4),
        "invalid reference format: invalid domain",
    ),
    (
        "a" * 256,
        K.NAME_TOO_LONG,
        (247, 256),
        "repository name must not be more than 255 characters",
    ),
    (
        "a" * 5000,
        K.INVALID_REFERENCE_FORMAT,
        (4096, 5000),
        "invalid reference format: longer than 4096 characters",
    ),
]


@pytest.mark.parametrize(
    ("source", "kind", "span", "message"), INVALID, ids=[repr(r[0][:30]) for r in INVALID]
)
def test_invalid(source: str, kind: K, span: tuple[int, int], message: str) -> None:
    """Invalid input raises InvalidReference with the exact kind, span and message."""
    with pytest.raises(InvalidReference) as info:
        parse_reference(source)
    assert (info.value.kind, info.value.span, info.value.message) == (kind, span, message)
    assert info.value.source == source
    assert isinstance(info.value, ValueError)


def test_rendered_message_underlines_the_span() -> None:
    """str() draws the source and a caret line under the offending characters."""
    with pytest.raises(InvalidReference) as info:
        parse_reference("ghcr.io/org/Bad:1")
    assert info.exconly() == (
        "registry_sdk.errors.InvalidReference: repository name must be lowercase\n"
        "    ghcr.io/org/Bad:1\n"
        "                ^"
    )


def test_rendered_message_escapes_control_characters() -> None:
    """A newline in the input is drawn escaped and still underlined."""
    with pytest.raises(InvalidReference) as info:
        parse_reference("busybox\n")
    assert str(info.value).splitlines()[1:] == ["    busybox\\n", "           ~^"]


STRICT_INVALID = [
    ("ubuntu:1", "expected 'docker.io/library/ubuntu'"),
    ("library/ubuntu:1", "expected 'docker.io/library/ubuntu'"),
    ("docker.io/ubuntu:1", "expected 'docker.io/library/ubuntu'"),
    ("index.docker.io/library/ubuntu:1", "expected 'docker.io/library/ubuntu'"),
    ("docker.io/library/ubuntu", "missing tag"),
]


@pytest.mark.parametrize(("source", "detail"), STRICT_INVALID)
def test_strict_rejects_non_canonical(source: str, detail: str) -> None:
    """Strict mode applies no normalisation: name_not_canonical otherwise."""
    with pytest.raises(InvalidReference) as info:
        parse_reference(source, strict=True)
    assert info.value.kind == K.NAME_NOT_CANONICAL
    assert info.value.message == f"repository name must be canonical: {detail}"


@pytest.mark.parametrize(
    "source",
    [
        "docker.io/library/ubuntu:1",
        "gcr.io/a/b:c",
        f"localhost:5000/x@{D256}",
        f"ghcr.io/o/a:v@{D256}",
    ],
)
def test_strict_accepts_canonical(source: str) -> None:
    """Canonical strings parse in strict mode to the same value as non-strict."""
    assert parse_reference(source, strict=True) == parse_reference(source)


def test_default_registry_and_tag() -> None:
    """default_registry replaces Docker Hub (no library/ prefix); default_tag fills in."""
    ref = parse_reference("foo", default_registry="ghcr.io", default_tag="stable")
    assert str(ref) == "ghcr.io/foo:stable"
    with pytest.raises(InvalidReference) as info:
        parse_reference("foo", default_tag="-bad")
    assert info.value.kind == K.TAG_INVALID_FORMAT


def test_registry_parse() -> None:
    """Registry.parse validates host[:port], folds the Hub alias, defaults the empty name."""
    assert Registry.parse("") == Registry("docker.io")
    assert Registry.parse("index.docker.io") == Registry("docker.io")
    assert str(Registry.parse("[::1]:5000")) == "[::1]:5000"
    with pytest.raises(InvalidReference) as info:
        Registry.parse("", strict=True)
    assert info.value.kind == K.NAME_EMPTY
    with pytest.raises(InvalidReference) as info:
        Registry.parse("https://ghcr.io")
    assert info.value.message == (
        "invalid reference format: a registry is host[:port], without a scheme"
    )
    assert info.value.span == (6, 7)
    with pytest.raises(InvalidReference) as info:
        Registry.parse("index.docker.io", strict=True)
    assert info.value.kind == K.NAME_NOT_CANONICAL


def test_repository_parse_rejects_tag_and_digest() -> None:
    """A repository has no tag or digest; the span covers the suffix."""
    assert Repository.parse("ubuntu") == Repository(Registry("docker.io"), "library/ubuntu")
    with pytest.raises(InvalidReference) as info:
        Repository.parse("ubuntu:22.04")
    assert info.value.span == (6, 12)
    with pytest.raises(InvalidReference) as info:
        Repository.parse(f"ubuntu@{D256}")
    assert info.value.span == (6, 6 + len(D256) + 1)


def test_tag_and_digest_parse() -> None:
    """Tag.parse refuses digests; Digest.parse needs one and keeps a tag beside it."""
    assert Tag.parse("a").tag == "latest"
    with pytest.raises(InvalidReference):
        Tag.parse(f"a@{D256}")
    with pytest.raises(InvalidReference) as info:
        Tag.parse("docker.io/library/a", strict=True)
    assert info.value.kind == K.NAME_NOT_CANONICAL
    digest = Digest.parse(f"a:v1@{D256}")
    assert (digest.tag, digest.digest, str(digest)) == ("v1", D256, f"docker.io/library/a@{D256}")
    assert digest == Digest.parse(f"a@{D256}")
    with pytest.raises(InvalidReference) as info:
        Digest.parse("a:v1")
    assert info.value.message == "invalid reference format: missing digest"


def test_with_tag_and_with_digest_validate() -> None:
    """with_tag / with_digest validate what they add, with their own kinds."""
    repo = Repository.parse("ghcr.io/o/a")
    assert str(repo.with_tag("v1")) == "ghcr.io/o/a:v1"
    assert str(repo.with_digest(D512)) == f"ghcr.io/o/a@{D512}"
    for bad, kind in [
        ("", K.TAG_INVALID_FORMAT),
        (".x", K.TAG_INVALID_FORMAT),
        (TAG_129, K.TAG_INVALID_FORMAT),
    ]:
        with pytest.raises(InvalidReference) as info:
            repo.with_tag(bad)
        assert info.value.kind == kind
    for bad, kind in [
        ("sha256:xyz", K.DIGEST_INVALID_FORMAT),
        ("sha256:" + "a" * 37, K.DIGEST_INVALID_LENGTH),
        ("blake9:" + "a" * 64, K.DIGEST_UNSUPPORTED),
    ]:
        with pytest.raises(InvalidReference) as info:
            repo.with_digest(bad)
        assert info.value.kind == kind


SPLIT = [
    ("a/b/c", ("a", "b/c", None, None)),
    ("foo/foo_bar.com:8080", ("foo", "foo_bar.com", "8080", None)),
    ("test_com/foo", (None, "test_com/foo", None, None)),
    ("test.com:5000", (None, "test.com", "5000", None)),
    (f"localhost:8080@{D256}", (None, "localhost", "8080", D256)),
    ("lowercase:Uppercase", (None, "lowercase", "Uppercase", None)),
    ("[fd00123123123]:75050/x", ("[fd00123123123]:75050", "x", None, None)),
]


@pytest.mark.parametrize(("source", "parts"), SPLIT)
def test_split_reference(source: str, parts: tuple[str | None, ...]) -> None:
    """split_reference is the pure grammar parse (first component is a domain if it can be)."""
    assert tuple(split_reference(source)) == parts


def test_scopes_from_names() -> None:
    """Repositories and registries build their token scopes."""
    repo = Repository.parse("ubuntu")
    assert str(repo.scope()) == "repository:library/ubuntu:pull"
    assert str(repo.scope("push", "pull")) == "repository:library/ubuntu:pull,push"
    assert str(repo.registry.catalog_scope()) == "registry:catalog:*"


def test_values_hash_pickle_and_compare() -> None:
    """Values are hashable, picklable and equal on the canonical form."""
    a, b = parse_reference("ubuntu"), parse_reference("docker.io/library/ubuntu:latest")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.tag = "x"  # type: ignore[misc]


def test_values_are_frozen_slotted_and_weakrefable() -> None:
    """No attribute can be set or deleted, there is no __dict__, weak references work."""
    import weakref

    tag = parse_reference("ghcr.io/o/a:v1")
    digest = parse_reference(f"ghcr.io/o/a:v1@{D256}")
    assert isinstance(tag, Tag) and isinstance(digest, Digest)
    for value, attr in [
        (tag.registry, "name"),
        (tag.repository, "path"),
        (tag, "tag"),
        (digest, "digest"),
        (digest, "tag"),
        (tag, "other"),
    ]:
        with pytest.raises(AttributeError):
            setattr(value, attr, "x")
        with pytest.raises(AttributeError):
            delattr(value, attr)
        assert not hasattr(value, "__dict__")
        assert weakref.ref(value)() is value
    assert (tag.tag, digest.tag, str(tag.registry)) == ("v1", "v1", "ghcr.io")


def test_equality_and_hash_follow_the_canonical_form() -> None:
    """Equal values hash alike; a Digest's tag takes no part; types never compare equal."""
    repo = Repository(Registry("ghcr.io"), "o/a")
    assert repo == Repository(Registry("ghcr.io"), "o/a") != Repository(Registry("ghcr.io"), "o/b")
    assert Registry("ghcr.io") != Registry("quay.io")
    with_tag, bare = Digest(repo, D256, "v1"), Digest(repo, D256)
    assert with_tag == bare and hash(with_tag) == hash(bare) and bare.tag is None
    assert Digest(repo, D256) != Digest(repo, D512)
    assert Tag(repo, "v1") == Tag(repo, "v1") != Tag(repo, "v2")
    assert hash(Tag(repo, "v1")) == hash(Tag(repo, "v1"))
    assert Tag(repo, D256) != Digest(repo, D256)
    assert Tag(repo, "v1") != Digest(repo, D256, "v1")
    assert Registry("ghcr.io") != "ghcr.io"
    assert repo != ("ghcr.io", "o/a")
    assert repo.__eq__("x") is NotImplemented


def test_repr_is_the_attrs_style_repr() -> None:
    """repr shows every field as keyword arguments, like an attrs class."""
    digest = parse_reference(f"a:v1@{D256}")
    assert repr(digest) == (
        "Digest(repository=Repository(registry=Registry(name='docker.io'), "
        f"path='library/a'), digest='{D256}', tag='v1')"
    )
    assert repr(parse_reference("ubuntu")) == (
        "Tag(repository=Repository(registry=Registry(name='docker.io'), "
        "path='library/ubuntu'), tag='latest')"
    )
    assert repr(Digest(Repository(Registry("r.io"), "p"), D256)) == (
        f"Digest(repository=Repository(registry=Registry(name='r.io'), path='p'), "
        f"digest='{D256}', tag=None)"
    )


def test_pickle_round_trips_every_field() -> None:
    """Pickling keeps every field, including a Digest's tag, at every protocol."""
    values = [
        Registry("ghcr.io"),
        Repository.parse("ghcr.io/o/a"),
        parse_reference("ghcr.io/o/a:v1"),
        parse_reference(f"ghcr.io/o/a:v1@{D256}"),
    ]
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        for value in values:
            back = pickle.loads(pickle.dumps(value, protocol=proto))
            assert back == value and repr(back) == repr(value) and type(back) is type(value)


def test_match_args_and_keyword_construction() -> None:
    """Positional pattern matching and keyword construction follow the field order."""
    repo = Repository(registry=Registry(name="ghcr.io"), path="o/a")
    ref: Tag | Digest = Digest(repository=repo, digest=D256, tag="v1")
    match ref:
        case Digest(Repository(Registry(host), path), digest, tag):
            assert (host, path, digest, tag) == ("ghcr.io", "o/a", D256, "v1")
        case _:
            pytest.fail("no match")
    assert Tag(repository=repo, tag="v1").tag == "v1"


def test_errors_show_their_public_module_without_importing_it() -> None:
    """With only registry_sdk.name imported, InvalidReference is registry_sdk.errors'."""
    import subprocess
    import sys

    code = (
        "import sys, registry_sdk.name as n; "
        "print(n.InvalidReference.__module__, n.ReferenceErrorKind.__module__, "
        "'registry_sdk.errors' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["registry_sdk.errors", "registry_sdk.errors", "False"]
