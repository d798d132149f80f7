"""`Client`: typed registry operations over one pool, one token cache and a keychain.

```python
from registry_sdk import Client, Repository

with Client() as client:                # DefaultKeychain; https, or plain http on loopback
    repo = Repository.parse("ghcr.io/org/app")
    print(client.list_tags(repo))
    manifest = client.get_manifest(repo.with_tag("v1"))
    print(manifest.digest, manifest.media_type)
```

Thread-safe: transports, what each registry taught us, and tokens are shared across
threads, and one token exchange happens per scope however many threads ask. The
operations live in modules by job (`_read`, ...); this class is their table of contents.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import IO, Any, Self

import urllib3

from registry_sdk import _copy, _images, _push, _read, _write
from registry_sdk._blob import BlobReader
from registry_sdk._errors import AuthenticationError
from registry_sdk._read import MANIFEST_LIMIT, PAGE_LIMIT
from registry_sdk.authn import DefaultKeychain, Keychain
from registry_sdk.models import (
    MANIFEST_ACCEPT,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    Manifest,
    Platform,
)
from registry_sdk.name import Digest, Registry, Repository, Tag, parse_reference
from registry_sdk.progress import Progress
from registry_sdk.transport import Body, StateStore, TokenCache, Transport

__all__ = [
    "BlobReader",
    "Client",
    "MANIFEST_LIMIT",
    "PAGE_LIMIT",
    "default_client",
    "set_default_client",
]

BlobReader.__module__ = __name__  # its public home (the class lives in _blob)

#: How many resolved targets (repositories) a Client remembers.
_TARGET_CACHE_LIMIT = 4096


class Client:
    """Registry operations with typed results.

    Args:
        keychain: where credentials come from (default: a
            [DefaultKeychain][registry_sdk.authn.DefaultKeychain]). When a registry
            refuses credentials, the keychain is asked again, once (a `docker login`
            or a credential helper's new answer is picked up).
        retries: a urllib3 `Retry`, as for [Transport][registry_sdk.transport.Transport].
        timeout: seconds (a float) or a urllib3 `Timeout`.
        user_agent: added in front of `registry-sdk/VERSION`.
        insecure: names of registries (`host[:port]`) allowed plain http. Loopback
            registries need no flag: plain http is used when they speak it.
        ca_certs: a CA bundle file to verify TLS with.

    A Client is a context manager; `close()` releases its connections.
    """

    def __init__(
        self,
        *,
        keychain: Keychain | None = None,
        retries: urllib3.Retry | None = None,
        timeout: urllib3.Timeout | float | None = None,
        user_agent: str | None = None,
        insecure: Collection[str] = (),
        ca_certs: str | None = None,
    ) -> None:
        self.keychain: Keychain = keychain if keychain is not None else DefaultKeychain()
        self._retries, self._timeout = retries, timeout
        self._user_agent, self._ca_certs = user_agent, ca_certs
        self._insecure = frozenset(Registry.parse(r).name for r in insecure)
        self._pool = urllib3.PoolManager(ca_certs=ca_certs, cert_reqs="CERT_REQUIRED", maxsize=16)
        self.token_cache = TokenCache()
        self._state = StateStore()
        self._transports: dict[tuple[str, object], Transport] = {}
        self._by_target: dict[str, Transport] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Client(keychain={self.keychain!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection (the Client stays usable: it reconnects)."""
        self._pool.clear()
        with self._lock:
            transports = list(self._transports.values())
        for transport in transports:
            transport.close()

    # ---------------------------------------------------------------- transports

    def transport(self, target: Registry | Repository) -> Transport:
        """The shared transport for *target*, with the keychain's credentials for it."""
        found = self._by_target.get(str(target))
        if found is not None:
            return found
        return self._bind(target, self.keychain.resolve(target).authorization())

    def _bind(self, target: Registry | Repository, creds: Any) -> Transport:  # noqa: ANN401
        registry = target.registry if isinstance(target, Repository) else target
        with self._lock:
            transport = self._transports.get((registry.name, creds))
            if transport is None:
                transport = Transport(
                    registry,
                    creds,
                    pool=self._pool,
                    token_cache=self.token_cache,
                    state=self._state,
                    insecure=registry.name in self._insecure,
                    retries=self._retries,
                    timeout=self._timeout,
                    user_agent=self._user_agent,
                    ca_certs=self._ca_certs,
                )
                self._transports[(registry.name, creds)] = transport
            if len(self._by_target) >= _TARGET_CACHE_LIMIT:
                self._by_target.clear()  # bounded: resolved again on next use
            self._by_target[str(target)] = transport
        return transport

    def _resolve_again(self, target: Registry | Repository, refused: Transport) -> Transport | None:
        """After a refusal: the keychain's answer now, if it differs from the refused one."""
        creds = self.keychain.resolve(target).authorization()
        if creds == refused.authenticator.authorization():
            return None
        return self._bind(target, creds)

    def send(
        self,
        target: Registry | Repository,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: Body | None = None,
        preload_content: bool = True,
    ) -> tuple[urllib3.BaseHTTPResponse, Transport]:
        """Send through *target*'s transport; returns the response and the transport.

        When the registry (or its token server) refuses the credentials and the body can
        be sent again, the keychain is asked once more and, if its answer changed, the
        request is retried once with the new credentials.
        """
        t = self.transport(target)
        refused: AuthenticationError | None = None
        resp: urllib3.BaseHTTPResponse | None = None
        try:
            resp = t.request(
                method, url, headers=headers, body=body, preload_content=preload_content
            )
        except AuthenticationError as exc:
            refused = exc
        rewindable = body is None or isinstance(body, bytes)
        if resp is not None and (resp.status != 401 or not rewindable):
            return resp, t
        fresh = self._resolve_again(target, t) if rewindable else None
        if fresh is None:
            if resp is None:
                raise refused or AssertionError("unreachable")
            return resp, t
        if resp is not None:
            resp.drain_conn()
        return fresh.request(
            method, url, headers=headers, body=body, preload_content=preload_content
        ), fresh

    def check(
        self, resp: urllib3.BaseHTTPResponse, t: Transport, method: str, url: str, *expected: int
    ) -> None:
        """[check_error][registry_sdk.errors.check_error], with a 401 that says who.

        The Unauthorized names the user refused and where their credentials came from,
        or says that none were found and the request was anonymous.
        """
        t.check(resp, *expected, method=method, url=url)

    # ------------------------------------------------------------------- reading

    def iter_tags(
        self, repo: Repository | str, *, page_size: int | None = None, max_pages: int | None = None
    ) -> Iterator[str]:
        """Yield the repository's tags page by page, following `Link: rel="next"`.

        *max_pages* stops quietly after that many pages; without it, pagination that
        never ends is an InvalidResponse.
        """
        repo = Repository.parse(repo) if isinstance(repo, str) else repo
        return _read.iter_tags(self, repo, page_size, max_pages)

    def list_tags(self, repo: Repository | str, *, page_size: int | None = None) -> list[str]:
        """All tags of *repo* (every page)."""
        return list(self.iter_tags(repo, page_size=page_size))

    def iter_catalog(
        self,
        registry: Registry | str,
        *,
        page_size: int | None = None,
        max_pages: int | None = None,
    ) -> Iterator[str]:
        """Yield the registry's repositories (`/v2/_catalog`), one page at a time."""
        registry = Registry.parse(registry) if isinstance(registry, str) else registry
        return _read.iter_catalog(self, registry, page_size, max_pages)

    def catalog(
        self,
        registry: Registry | str,
        *,
        page_size: int | None = None,
        max_pages: int | None = None,
    ) -> list[str]:
        """The registry's repositories (`/v2/_catalog`, every page)."""
        return list(self.iter_catalog(registry, page_size=page_size, max_pages=max_pages))

    def get_manifest(
        self,
        ref: Tag | Digest | str,
        *,
        accept: Collection[str] = MANIFEST_ACCEPT,
        max_size: int = MANIFEST_LIMIT,
    ) -> Manifest:
        """Fetch and verify a manifest or index.

        By digest, the body must hash to that digest; by tag, it must match
        `Docker-Content-Digest` when the registry sends one.

        Raises:
            RegistryResponseError: the registry refused (e.g. 404 `MANIFEST_UNKNOWN`;
                a 401 is an `Unauthorized`).
            DigestMismatch: the bytes do not hash to the digest asked for or announced.
            InvalidResponse: too large, bad JSON, wrong shape, or a media type mismatch.
        """
        return _read.get_manifest(self, _read.as_ref(ref), accept, max_size)

    def head_manifest(self, ref: Tag | Digest | str) -> Descriptor:
        """The manifest's descriptor from a HEAD.

        Falls back to GET when the registry's HEAD lacks `Docker-Content-Digest`.
        """
        return _read.head_manifest(self, _read.as_ref(ref))

    def digest(self, ref: Tag | Digest | str) -> str:
        """The digest a tag (or digest) currently resolves to."""
        return self.head_manifest(ref).digest

    def get_blob(self, ref: Digest | str) -> AbstractContextManager[BlobReader]:
        """Stream a blob; its size and digest are verified as it is read.

        ```python
        with client.get_blob(ref) as blob:
            for chunk in blob:
                out.write(chunk)      # DigestMismatch is raised at the end if bad
        ```
        """
        return _read.get_blob(self, _read.as_digest(ref))

    def referrers(self, ref: Digest | str, *, artifact_type: str | None = None) -> ImageIndex:
        """Manifests whose `subject` is *ref*.

        Uses the referrers API, or the tag-schema fallback (`sha256-<hex>`) on
        registries without it.
        """
        return _read.referrers(self, _read.as_digest(ref), artifact_type)

    def get_image(
        self, ref: Tag | Digest | str, *, platform: Platform | str | None = None
    ) -> Manifest:
        """The image manifest *ref* names for *platform*: never an index.

        ```python
        image = client.get_image("ghcr.io/org/app:v1", platform="linux/arm64")
        for layer in image.image.layers: ...
        ```

        An index is resolved one level deep: the child for *platform* (matched with
        [Platform.matches][registry_sdk.models.Platform.matches], first in index order)
        is fetched by digest and verified; with no platform, the index must offer exactly
        one (attestations and `unknown/unknown` entries do not count). A nested index
        is not followed (ManifestKindMismatch). An image manifest is returned as is; when
        a *platform* is given, its config is read to check that it is for that platform.

        Raises:
            NoMatchingPlatform: nothing for *platform*, or several platforms and none
                given; `.available` lists what there is.
            InvalidPlatform: *platform* is a string that does not parse (before any
                request).
            ManifestKindMismatch: an index child that is itself an index.
            RegistryResponseError: the registry refused (a missing tag, say).
            DigestMismatch: bytes that do not hash to their digest.
        """
        return _images.get_image(self, _read.as_ref(ref), platform)

    def get_config(
        self, ref: Tag | Digest | str, *, platform: Platform | str | None = None
    ) -> ImageConfig:
        """The config of the image *ref* names for *platform* (resolved as by get_image).

        The config blob is capped at the manifest limit (4 MiB) and verified by digest;
        OCI and Docker configs read into the one model.

        Raises:
            NoMatchingPlatform, InvalidPlatform: as get_image.
            InvalidResponse: the image is an artifact (its config is not an OCI or
                Docker image config), or the config is too large or malformed.
            DigestMismatch: the config does not hash to its digest.
            RegistryResponseError: the registry refused.
        """
        return _images.get_config(self, _read.as_ref(ref), platform)

    def download_blob(
        self, ref: Digest | str, path: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> Descriptor:
        """Save a blob to *path*, verified, and return its descriptor.

        ```python
        client.download_blob("ghcr.io/org/app@sha256:...", "layer.tar.gz")
        ```

        The bytes are hashed as they are written to a temporary file beside *path*
        (same directory), which is renamed over *path* only when the size and digest
        match; on any failure (interruption included) nothing is left behind. A
        connection broken mid-body is resumed with `Range: bytes=N-`, the hash carrying
        on from the bytes already written (at most 5 times; a registry that ignores the
        range starts over). *progress* receives DOWNLOAD events as bytes arrive, the
        last one with `done == total`.

        Raises:
            DigestMismatch, InvalidResponse: the bytes are not the blob's (the file is
                not written).
            TransportError: the connection kept breaking.
            RegistryResponseError: the registry refused (a missing blob, say).
            OSError: the file system failed.
        """
        return _images.download_blob(self, _read.as_digest(ref), path, progress)

    # ---- writing

    def blob_exists(self, ref: Digest | str) -> Descriptor | None:
        """The blob's descriptor when *ref*'s repository has it (one HEAD), else None."""
        return _push.blob_exists(self, Digest.parse(ref) if isinstance(ref, str) else ref)

    def push_blob(
        self,
        repo: Repository | str,
        source: bytes | str | os.PathLike[str] | IO[bytes] | Iterable[bytes],
        *,
        digest: str | None = None,
        size: int | None = None,
        mount_from: Iterable[Repository | str] = (),
        progress: Progress | None = None,
    ) -> Descriptor:
        """Upload a blob (bytes, a path, a binary file or an iterable of bytes).

        With the digest known up front (bytes; *digest* given; a path or seekable file,
        hashed first) an existing blob costs one HEAD and `mount_from` repositories of
        the same registry are tried before any upload. Small blobs go in one POST + PUT;
        larger ones that can be re-read in one streamed PATCH, one-shot sources in PATCH
        chunks; hashed while sent, memory flat. A broken upload resumes where the session
        stands (re-reading the source from there), or starts again when the source can be
        re-read.

        Raises:
            DigestMismatch: the bytes disagree with *digest* or *size* (nothing is
                committed; the session is cancelled).
            UploadError: the upload could not be finished (the session is cancelled).
            RegistryResponseError, TransportError: as for every request.
        """
        repo = Repository.parse(repo) if isinstance(repo, str) else repo
        return _push.push_blob(
            self, repo, source, digest=digest, size=size, mount_from=mount_from, progress=progress
        )

    def mount_blob(self, src: Digest | str, dst: Repository | str) -> bool:
        """Mount blob *src* into *dst* (same registry): True when mounted.

        When the registry opens an upload session instead, it is cancelled and the
        answer is False.
        """
        return _push.mount_blob(
            self,
            Digest.parse(src) if isinstance(src, str) else src,
            Repository.parse(dst) if isinstance(dst, str) else dst,
        )

    def put_manifest(
        self,
        target: Tag | Digest | Repository,
        manifest: Manifest | ImageManifest | ImageIndex | bytes,
        *,
        media_type: str | None = None,
    ) -> Descriptor:
        """Put a manifest by tag, by digest, or by digest alone (a `Repository` target).

        A fetched `Manifest` is sent as its exact bytes, a model serialised once, raw
        bytes as they are. Everything it references must already be in the target
        repository (security rule 8). A manifest with a `subject` on a registry without
        the referrers API also updates the referrers fallback index.

        Raises:
            MissingReferences: blobs or child manifests are missing; nothing is put.
            DigestMismatch: the bytes do not hash to a `Digest` target, or the registry
                stored a different digest.
            InvalidResponse: raw bytes of no known media type.
        """
        return _write.put_manifest(self, target, manifest, media_type=media_type)

    def tag(self, src: Tag | Digest | str, new_tag: str) -> Descriptor:
        """Tag the manifest *src* points at as *new_tag* in the same repository.

        The manifest's bytes are kept exactly, so its digest does not change.
        """
        return _write.tag(self, parse_reference(src) if isinstance(src, str) else src, new_tag)

    def delete(self, ref: Tag | Digest | str) -> None:
        """Delete a manifest by digest (or by tag where the registry supports it).

        Raises:
            UnsupportedOperation: the registry cannot delete by tag; `use_instead`
                names the digest reference to delete.
        """
        _write.delete(self, parse_reference(ref) if isinstance(ref, str) else ref)

    def delete_blob(self, ref: Digest | str) -> None:
        """Delete a blob from a repository."""
        _push.delete_blob(self, Digest.parse(ref) if isinstance(ref, str) else ref)

    def copy(
        self,
        src: Tag | Digest | str,
        dst: Tag | Digest | Repository | str,
        *,
        platforms: Platform | str | Iterable[Platform | str] | None = None,
        referrers: bool = False,
        concurrency: int = 4,
        progress: Progress | None = None,
    ) -> Descriptor:
        """Copy an image, index or artifact from *src* to *dst*, digests kept.

        *dst* is a `Tag`, a `Digest`, or a `Repository` (then *src*'s tag is kept, or
        its digest alone). An index is copied children first, each manifest's exact
        bytes kept. *platforms* keeps only those children of an index: the copy is
        then the filtered index, whose new digest the returned descriptor gives.
        *referrers* brings along the artifacts whose subject is a copied manifest
        (signatures, SBOMs). Blobs the destination has are skipped (one HEAD); on the
        same registry the others are mounted, else streamed from source to destination
        through memory, verified on both sides, *concurrency* at once. Run again, a copy
        only checks what is there and sends what is missing.

        Raises:
            UnsupportedOperation: *platforms* with a `Digest` destination.
            NoMatchingPlatform: no child of the index is for *platforms*.
            InvalidPlatform: a platform string does not parse.
            DigestMismatch: content that does not hash to its digest.
            UploadError: a blob that could not be sent.
            RegistryResponseError: either registry refused.
            TransportError: a connection failed.
        """
        return _copy.copy(
            self,
            _read.as_ref(src),
            _copy.as_destination(dst),
            platforms=platforms,
            referrers=referrers,
            concurrency=concurrency,
            progress=progress,
        )


_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The process-wide Client the `Repository` sugar uses (created on first use)."""
    global _default  # noqa: PLW0603 (one lazily created process-wide instance)
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def set_default_client(client: Client | None) -> None:
    """Make *client* the one the `Repository` sugar uses.

    Configure it as any Client (CA bundle, timeouts, keychain, insecure registries);
    None goes back to a default `Client()` on next use.
    """
    global _default  # noqa: PLW0603 (one process-wide instance)
    with _default_lock:
        _default = client
