"""Never executed: mypy checks that the public API reads the way applications use it.

A signature regression makes `mypy --strict` fail on this file.
"""

from __future__ import annotations

from registry_sdk import (
    ANONYMOUS,
    Action,
    Authenticator,
    Basic,
    Bearer,
    Credentials,
    DefaultKeychain,
    Digest,
    IdentityToken,
    InvalidReference,
    Keychain,
    MultiKeychain,
    Reference,
    ReferenceErrorKind,
    Registry,
    Repository,
    Scope,
    StaticKeychain,
    Tag,
    parse_reference,
    split_reference,
)
from registry_sdk.challenge import Challenge, parse_challenges, pick_challenge
from registry_sdk.errors import Diagnostic, ErrorCode, RegistryResponseError
from registry_sdk.name import DIGEST_PATTERN, NAME_PATTERN, REFERENCE_PATTERN
from registry_sdk.scope import merge_scopes, parse_scopes


def names() -> None:
    ref: Reference = parse_reference("ubuntu", strict=False, default_tag="22.04")
    repo: Repository = ref.repository
    reg: Registry = repo.registry
    tag: Tag = repo.with_tag("v1")
    digest: Digest = Tag.parse("a:b").repository.with_digest("sha256:" + "a" * 64)
    maybe_tag: str | None = digest.tag
    text: str = str(ref) + ref.familiar + reg.name + repo.path + tag.tag + digest.digest
    parts = split_reference("a/b:c")
    domain: str | None = parts.domain
    patterns: tuple[str, ...] = (DIGEST_PATTERN, NAME_PATTERN, REFERENCE_PATTERN)
    try:
        Repository.parse(text, strict=True)
    except InvalidReference as exc:
        kind: ReferenceErrorKind = exc.kind
        span: tuple[int, int] = exc.span
        print(kind, span, maybe_tag, domain, patterns)


def scopes() -> None:
    scope: Scope = Repository.parse("a").scope(Action.PULL, "push")
    merged: tuple[Scope, ...] = merge_scopes([scope, Scope.parse("repository:a:delete")])
    catalog: Scope = Registry.parse("r.example").catalog_scope()
    print(merged, catalog, parse_scopes("registry:catalog:*"), scope.actions)


def credentials() -> None:
    kc: Keychain = DefaultKeychain()
    multi: Keychain = MultiKeychain(kc, StaticKeychain({"r.example": Basic("u", "p")}))
    auths: list[Authenticator] = [ANONYMOUS, Basic("u", "p"), Bearer("t"), IdentityToken("t")]
    creds: Credentials = multi.resolve(Repository.parse("r.example/a")).authorization()
    print(auths, creds.is_anonymous, DefaultKeychain().explain(Registry.parse("r")).origin)


def challenges() -> None:
    parsed: tuple[Challenge, ...] = parse_challenges(['Bearer realm="r"'])
    picked: Challenge | None = pick_challenge(parsed)
    if picked is not None:
        realm: str | None = picked.realm
        print(realm, picked.params.get("service"), picked.scopes)


def errors(exc: RegistryResponseError) -> None:
    first: Diagnostic = exc.diagnostics[0]
    code: ErrorCode | str = first.code
    print(code, exc.status, exc.is_temporary, exc.retry_after)


def client_api() -> None:
    from registry_sdk import Client, Manifest, Transport, default_client
    from registry_sdk.models import Descriptor, ImageIndex, ImageManifest

    client = Client(insecure=["localhost:5000"], ca_certs=None)
    repo = Repository.parse("localhost:5000/a")
    tags: list[str] = client.list_tags(repo, page_size=100) + repo.tags(client=client)
    manifest: Manifest = client.get_manifest(repo.with_tag("v1"))
    content: ImageManifest | ImageIndex = manifest.content
    desc: Descriptor = client.head_manifest("localhost:5000/a:v1")
    digest: str = client.digest(repo.with_tag("v1"))
    with client.get_blob(repo.with_digest(digest)) as blob:
        data: bytes = b"".join(blob)
    referrers: ImageIndex = client.referrers(repo.with_digest(digest))
    catalog: list[str] = default_client().catalog("localhost:5000")
    t: Transport = client.transport(repo)
    print(tags, content, desc, data, referrers, catalog, t.url("/v2/"))


def client_lifecycle_and_errors() -> None:
    import io

    from registry_sdk.client import BlobReader, Client, set_default_client
    from registry_sdk.errors import (
        AuthenticationError,
        TokenExchangeError,
        TransportError,
        Unauthorized,
    )
    from registry_sdk.transport import StateStore, TokenCache, Transport

    with Client(timeout=5.0) as client:  # seconds as a float
        set_default_client(client)
        try:
            names: list[str] = list(client.iter_catalog("localhost:5000", max_pages=2))
            with client.get_blob("localhost:5000/a@sha256:" + "a" * 64) as reader:
                blob: BlobReader = reader
                size: int | None = blob.size
                print(names, size, blob.digest, blob.read_bytes)
        except Unauthorized as exc:
            who: str = exc.username + exc.origin + exc.registry
            status: int = exc.status
            print(who, status, exc.diagnostics)
        except TokenExchangeError as exc:
            print(exc.status, exc.realm, exc.username)
        except AuthenticationError as exc:
            print(exc.origin)
        except TransportError as exc:
            print(exc.method, exc.url)
    set_default_client(None)
    t = Transport(
        "localhost:5000", ANONYMOUS, timeout=2.5, token_cache=TokenCache(), state=StateStore()
    )
    t.request("PUT", t.url("/v2/a/blobs/uploads/x"), body=io.BytesIO(b"data"))
    t.request(
        "PATCH",
        t.url("/v2/a/blobs/uploads/x"),
        body=iter([b"a", b"b"]),
        headers={"Content-Length": "2"},
    )
    t.close()


def images_and_platforms() -> None:
    from registry_sdk.errors import InvalidPlatform, ManifestKindMismatch, NoMatchingPlatform
    from registry_sdk.models import ImageConfig, ImageIndex, ImageManifest, Manifest, Platform
    from registry_sdk.progress import Progress, ProgressAction, ProgressEvent

    wanted = Platform.parse("linux/arm64/v8")
    print(str(wanted), wanted.matches("linux/arm64"))
    manifest = Manifest.parse(b"{}")
    try:
        image: ImageManifest = manifest.image
        index: ImageIndex = manifest.index
        print(image.layers, index.select(wanted), index.platforms)
    except ManifestKindMismatch as exc:
        print(exc.found)
    except (InvalidPlatform, NoMatchingPlatform) as exc:
        print(exc)
    config: ImageConfig | None = None
    if config is not None and config.config is not None:
        env: tuple[str, ...] = config.config.env
        print(env, config.created, config.rootfs.diff_ids)

    def show(event: ProgressEvent) -> None:
        print(event.done, event.total, event.action is ProgressAction.DOWNLOAD)

    callback: Progress = show
    print(callback)


def write_api() -> None:
    from pathlib import Path

    from registry_sdk import Client
    from registry_sdk.errors import MissingReferences, UnsupportedOperation, UploadError
    from registry_sdk.models import Descriptor
    from registry_sdk.progress import Progress, ProgressAction, ProgressEvent

    client = Client()
    repo = Repository.parse("localhost:5000/a")

    def show(event: ProgressEvent) -> None:
        action: ProgressAction = event.action
        print(action, event.digest, event.done, event.total)

    progress: Progress = show
    blob: Descriptor = client.push_blob(
        repo, Path("layer.tar"), progress=progress, mount_from=["localhost:5000/b"]
    )
    client.push_blob(repo, b"bytes", digest=blob.digest, size=5)
    client.push_blob(repo, iter([b"a", b"b"]))
    found: Descriptor | None = client.blob_exists(repo.with_digest(blob.digest))
    mounted: bool = client.mount_blob(repo.with_digest(blob.digest), "localhost:5000/c")
    manifest = client.get_manifest(repo.with_tag("v1"))
    put: Descriptor = client.put_manifest(repo.with_tag("v2"), manifest)
    client.put_manifest(repo, manifest.content)
    client.put_manifest(repo.with_digest(put.digest), manifest.raw, media_type=manifest.media_type)
    tagged: Descriptor = client.tag(repo.with_tag("v2"), "stable")
    try:
        client.delete(repo.with_tag("stable"))
    except UnsupportedOperation as exc:
        instead: str | None = exc.use_instead
        print(instead)
    except MissingReferences as exc:
        missing: tuple[str, ...] = exc.missing
        print(missing)
    except UploadError as exc:
        print(exc.repository, exc.digest)
    client.delete_blob(repo.with_digest(blob.digest))
    print(found, mounted, tagged)
