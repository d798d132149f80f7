"""Copying an image (or index, or artifact) from one repository to another.

The plan, then the work:

1. Read the source tree: the root manifest, every kept child of an index (recursively),
   and with `referrers` the artifacts whose subject is a kept manifest (and theirs).
   Each manifest's exact bytes are kept, so its digest is kept; a `platforms` filter
   replaces the root index by the filtered one (serialised once: a new digest).
2. Ask the destination for the root (one HEAD): the same digest there means every
   manifest under it is already in place, and only the blobs are checked.
3. Blobs, `concurrency` at once: a HEAD each (present: skipped); missing ones are
   mounted from the source repository on the same registry, else streamed from the
   source's GET into the destination's PUT, verified on both sides, never on disk.
4. Manifests, children before parents, then referrers after their subjects: each PUT
   only after everything it references is known to be there (security rule 8).

Every request to the destination carries one scope set (push and pull on it, plus pull
on the source repository when a mount may be tried), so one token serves them all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

import attrs

from registry_sdk import _push, _upload, _write
from registry_sdk._errors import DigestMismatch, NoMatchingPlatform, UnsupportedOperation
from registry_sdk.models import (
    MANIFEST_ACCEPT,
    Descriptor,
    ImageIndex,
    ImageManifest,
    Manifest,
    Platform,
    as_platform,
)
from registry_sdk.name import Digest, Repository, Tag, parse_reference, split_reference
from registry_sdk.progress import Progress, ProgressAction, ProgressEvent
from registry_sdk.scope import Scope

if TYPE_CHECKING:
    from registry_sdk.client import Client
    from registry_sdk.transport import Transport

__all__ = ["as_destination", "copy", "wanted_platforms"]

log = logging.getLogger("registry_sdk.copy")

#: Annotations of Docker's attestation manifests naming the image they describe.
_REFERENCE_DIGEST = "vnd.docker.reference.digest"
_REFERENCE_TYPE = "vnd.docker.reference.type"
#: Layer media types whose blobs may legitimately live elsewhere (foreign layers).
_NON_DISTRIBUTABLE = ("nondistributable", "foreign")
#: How deep indexes and referrers may nest (a loop in a hostile registry stops here).
_MAX_DEPTH = 16


def as_destination(value: Tag | Digest | Repository | str) -> Tag | Digest | Repository:
    """A copy's destination: a string with a tag or digest is a reference, else a repository."""
    if not isinstance(value, str):
        return value
    parts = split_reference(value)
    if parts.tag is None and parts.digest is None:
        return Repository.parse(value)
    return parse_reference(value)


def wanted_platforms(
    platforms: Platform | str | Iterable[Platform | str] | None,
) -> tuple[Platform, ...]:
    """The platforms to keep (empty: all), parsed (InvalidPlatform when one is bad)."""
    if platforms is None:
        return ()
    if isinstance(platforms, (Platform, str)):
        return (as_platform(platforms),)
    return tuple(as_platform(p) for p in platforms)


@attrs.define
class _Node:
    """A manifest to put at the destination, its target and whether it is there already."""

    manifest: Manifest
    target: Tag | Digest | Repository
    present: bool = False


@attrs.define
class _Plan:
    nodes: list[_Node] = attrs.field(factory=list)  # in PUT order
    blobs: dict[str, int] = attrs.field(factory=dict)  # digest -> size, in first-seen order
    seen: set[str] = attrs.field(factory=set)  # manifest digests planned


class _Copy:
    """One copy: the source and destination, the shared scopes and the progress sink."""

    def __init__(
        self,
        client: Client,
        src: Tag | Digest,
        dst_repo: Repository,
        *,
        referrers: bool,
        concurrency: int,
        progress: Progress | None,
    ) -> None:
        self.client, self.src, self.dst = client, src, dst_repo
        self.src_repo = src.repository
        self.same_registry = self.src_repo.registry == dst_repo.registry
        self.mount_from = (
            self.src_repo if self.same_registry and self.src_repo != dst_repo else None
        )
        scopes = [Scope.repository(dst_repo.path, "pull", "push")]
        if self.mount_from is not None:
            scopes.append(Scope.repository(self.src_repo.path, "pull"))
        self.scopes = tuple(scopes)
        self.referrers = referrers
        self.concurrency = max(1, concurrency)
        self._progress = progress
        self._progress_lock = threading.Lock()
        self.t: Transport = client.transport(dst_repo)

    def report(self, event: ProgressEvent) -> None:
        if self._progress is not None:
            with self._progress_lock:  # one event at a time, whichever thread sends it
                self._progress(event)

    # ------------------------------------------------------------------ planning

    def fetch(self, digests: list[str]) -> list[Manifest]:
        """The source manifests *digests*, fetched (and verified) in parallel."""
        refs = [self.src_repo.with_digest(d) for d in digests]
        if len(refs) <= 1:
            return [self.client.get_manifest(r) for r in refs]
        with ThreadPoolExecutor(
            min(self.concurrency, len(refs)), thread_name_prefix="registry-sdk-copy"
        ) as pool:
            return list(pool.map(self.client.get_manifest, refs))

    def plan(self, root: Manifest, target: Tag | Digest | Repository, root_present: bool) -> _Plan:
        plan = _Plan()
        self._add(plan, root, target, present=root_present, depth=0)
        return plan

    def _add(
        self,
        plan: _Plan,
        manifest: Manifest,
        target: Tag | Digest | Repository,
        *,
        present: bool,
        depth: int,
        with_referrers: bool = True,
    ) -> None:
        """Add *manifest*, its children before it, its referrers after it."""
        if depth > _MAX_DEPTH:
            raise UnsupportedOperation(
                f"manifests nest deeper than {_MAX_DEPTH} levels under {self.src}",
                operation="copy",
                registry=self.src_repo.registry.name,
            )
        plan.seen.add(manifest.digest)
        content = manifest.content
        if isinstance(content, ImageIndex):
            wanted = [c.digest for c in content.manifests if c.digest not in plan.seen]
            for child in self.fetch(list(dict.fromkeys(wanted))):
                if child.digest in plan.seen:
                    continue
                self._add(
                    plan,
                    child,
                    self.dst.with_digest(child.digest),
                    present=present,
                    depth=depth + 1,
                )
        else:
            for blob in _blobs(content):
                plan.blobs.setdefault(blob.digest, blob.size)
        plan.nodes.append(_Node(manifest, target, present))
        if self.referrers and with_referrers:
            self._add_referrers(plan, manifest.digest, depth)

    def _add_referrers(self, plan: _Plan, subject: str, depth: int) -> None:
        found = self.client.referrers(self.src_repo.with_digest(subject))
        wanted = [d.digest for d in found.manifests if d.digest not in plan.seen]
        for referrer in self.fetch(list(dict.fromkeys(wanted))):
            if referrer.digest in plan.seen:
                continue
            self._add(
                plan,
                referrer,
                self.dst.with_digest(referrer.digest),
                present=self.manifest_at_destination(referrer.digest),
                depth=depth + 1,
            )

    # --------------------------------------------------------------- destination

    def destination_digest(self, target: Tag | Digest | Repository) -> str | None:
        """The digest *target* resolves to at the destination (one HEAD), or None."""
        if isinstance(target, Repository):
            return None
        url = self.t.url(f"/v2/{self.dst.path}/manifests/{target.identifier}")
        resp = self.t.request(
            "HEAD", url, headers={"Accept": ", ".join(MANIFEST_ACCEPT)}, scopes=self.scopes
        )
        if resp.status == 404:
            return None
        self.t.check(resp, 200, method="HEAD", url=url)
        found = resp.headers.get("Docker-Content-Digest")
        if found is None and isinstance(target, Digest):
            return target.digest
        return found

    def manifest_at_destination(self, digest: str) -> bool:
        return self.destination_digest(self.dst.with_digest(digest)) == digest

    def blob(self, digest: str, size: int) -> ProgressAction:
        """Make the destination hold blob *digest*; returns what that took."""
        found = _upload.blob_exists_in(self.t, self.dst, digest, self.scopes)
        if found is not None:
            self.report(ProgressEvent(digest, size, size, ProgressAction.SKIP))
            return ProgressAction.SKIP
        ref = self.src_repo.with_digest(digest)

        def open_source() -> Iterator[bytes]:
            with self.client.get_blob(ref) as reader:
                if reader.size is not None and reader.size != size:
                    raise DigestMismatch(
                        f"blob {ref} is {reader.size} bytes at the source; its manifest "
                        f"says {size}",
                        expected=digest,
                        actual=digest,
                        what="blob",
                    )
                yield from reader

        return _push.stream_blob(
            self.client,
            self.dst,
            digest,
            size,
            open_source,
            mount_from=self.mount_from,
            scopes=self.scopes,
            progress=self.report,
        )

    def blobs(self, blobs: dict[str, int]) -> None:
        """Every blob of the plan, `concurrency` at once; the first failure stops the rest."""
        # Largest first: the small ones (configs) fill the gaps at the end.
        items = sorted(blobs.items(), key=lambda item: -item[1])
        if len(items) <= 1 or self.concurrency == 1:
            for digest, size in items:
                self.blob(digest, size)
            return
        with ThreadPoolExecutor(
            min(self.concurrency, len(items)), thread_name_prefix="registry-sdk-copy"
        ) as pool:
            futures: list[Future[ProgressAction]] = [pool.submit(self.blob, d, s) for d, s in items]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in futures:
                if future in done and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]

    def put(self, node: _Node) -> Descriptor:
        descriptor = _write.put_present(self.client, node.target, node.manifest, scopes=self.scopes)
        self.report(
            ProgressEvent(
                descriptor.digest, descriptor.size, descriptor.size, ProgressAction.MANIFEST
            )
        )
        return descriptor


def _blobs(content: ImageManifest) -> list[Descriptor]:
    """The blobs an image manifest needs in its repository (config first)."""
    return [
        content.config,
        *(
            d
            for d in content.layers
            if not (d.urls and any(m in d.media_type for m in _NON_DISTRIBUTABLE))
        ),
    ]


def _filtered(root: Manifest, wanted: tuple[Platform, ...]) -> Manifest:
    """The root with only the children for *wanted* (and their attestations)."""
    if not wanted or not isinstance(root.content, ImageIndex):
        return root
    index = root.content
    kept = [
        c
        for c in index.manifests
        if c.platform is not None
        and c.annotations.get(_REFERENCE_TYPE) is None
        and any(c.platform.matches(w) for w in wanted)
    ]
    if not kept:
        raise NoMatchingPlatform(wanted=wanted[0], available=index.platforms, digest=root.digest)
    digests = {c.digest for c in kept}
    children = tuple(
        c
        for c in index.manifests
        if c.digest in digests or (c.annotations.get(_REFERENCE_DIGEST) in digests)
    )
    if children == index.manifests:
        return root  # nothing filtered out: the exact bytes, the same digest
    return Manifest.from_model(attrs.evolve(index, manifests=children))


def _target(
    src: Tag | Digest,
    dst: Tag | Digest | Repository,
    *,
    filtering: bool,
) -> Tag | Digest | Repository:
    if isinstance(dst, Repository):
        if isinstance(src, Tag):
            return dst.with_tag(src.tag)
        return dst if filtering else dst.with_digest(src.digest)
    if isinstance(dst, Digest) and filtering:
        raise UnsupportedOperation(
            f"a copy filtered by platform has a new digest, so it cannot go to the digest "
            f"reference {dst}: copy to a tag, or to the repository {dst.repository}",
            operation="filtered copy to a digest",
            registry=dst.registry.name,
            use_instead=str(dst.repository),
        )
    return dst


def copy(
    client: Client,
    src: Tag | Digest,
    dst: Tag | Digest | Repository,
    *,
    platforms: Platform | str | Iterable[Platform | str] | None = None,
    referrers: bool = False,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> Descriptor:
    """See [Client.copy][registry_sdk.client.Client.copy]."""
    wanted = wanted_platforms(platforms)
    if isinstance(dst, Digest) and wanted:
        _target(src, dst, filtering=True)  # refused before any request
    source = client.get_manifest(src)
    root = _filtered(source, wanted)
    filtering = root.digest != source.digest
    target = _target(src, dst, filtering=filtering)
    if isinstance(target, Digest) and target.digest != root.digest:
        raise DigestMismatch(
            f"{src} is {root.digest}, not the destination's digest {target.digest}",
            expected=target.digest,
            actual=root.digest,
            what="manifest",
        )
    dst_repo = target if isinstance(target, Repository) else target.repository
    job = _Copy(
        client, src, dst_repo, referrers=referrers, concurrency=concurrency, progress=progress
    )
    check = target if not isinstance(target, Repository) else dst_repo.with_digest(root.digest)
    present = job.destination_digest(check) == root.digest
    plan = _Plan()
    plan.seen.add(source.digest)
    if filtering:
        # The referrers of the unfiltered index name a digest the destination will not
        # have: only the kept children's come along.
        job._add(plan, root, target, present=present, depth=0, with_referrers=False)
    else:
        job._add(plan, root, target, present=present, depth=0)
    job.blobs(plan.blobs)
    result = root.descriptor
    for node in plan.nodes:
        if node.present:
            job.report(
                ProgressEvent(
                    node.manifest.digest,
                    len(node.manifest.raw),
                    len(node.manifest.raw),
                    ProgressAction.SKIP,
                )
            )
            continue
        put = job.put(node)
        if node.manifest is root:
            result = put
    log.debug(
        "copied %s to %s as %s (%d manifests, %d blobs)",
        src,
        target,
        result.digest,
        len(plan.nodes),
        len(plan.blobs),
    )
    return result
