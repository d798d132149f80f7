"""Blob writes: existence checks, uploads (monolithic, chunked, resumed), mounts, deletes.

The upload protocol (OCI distribution spec, "Pushing blobs"):

* `POST /v2/NAME/blobs/uploads/` opens a session; its `Location` is the upload URL
  (relative or absolute; the most recent one is always used).
* A blob that fits in one chunk is sent in the closing `PUT URL?digest=D` (POST + PUT).
* A larger one goes in `PATCH` requests with `Content-Range: start-end`, each chunk at
  least `OCI-Chunk-Min-Length` when the registry asks for it, then an empty closing PUT.
  A source that can be read again from any offset (bytes, a path, a seekable file) and
  whose size is known goes in one streamed PATCH (fewer, larger requests: the registry's
  per-request cost is paid once); a one-shot source goes in chunks, the chunk in flight
  kept in memory to be sent again.
* After a failure, `GET URL` answers `Range: 0-LAST` (where the session stands) and the
  upload resumes from there; a session the registry lost (404) starts again from the
  beginning when the source can be read again.
* `DELETE URL` cancels a session: done whenever an upload cannot finish (rule 8).

The source is sent in one pass, in pieces of bounded size, hashed as it is read on a
second thread (hashlib releases the GIL on large buffers) while the previous piece is
sent. A streamed PATCH reads into a few reused buffers (no allocation per piece), and
after a break resumes from the session's Range by reading the source again from there
(bytes already hashed are not hashed twice). (A path or seekable file without a digest
is also hashed once before, so that an existing blob can be skipped.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode

from registry_sdk._blob import hasher_for
from registry_sdk._errors import (
    DigestMismatch,
    RegistryResponseError,
    TransportError,
    UploadError,
)
from registry_sdk._sources import (
    CHUNK_SIZE,
    MAX_CHUNK_SIZE,
    BlobSource,
    _Chunks,
    _Source,
    _SourceFailed,
    _Stream,
)
from registry_sdk._upload import (
    _OCTET,
    _RETRY_STATUSES,
    CHUNK_ATTEMPTS,
    _ChunksRefused,
    _request,
    _SessionLost,
    _streamed_put,
    _Upload,
    _wait,
    blob_exists_in,
    resolve_location,
)
from registry_sdk.models import Descriptor
from registry_sdk.name import Digest, Repository
from registry_sdk.progress import Progress, ProgressAction, ProgressEvent
from registry_sdk.scope import Scope
from registry_sdk.transport import Transport

if TYPE_CHECKING:
    import urllib3

    from registry_sdk.client import Client

__all__ = [
    "CHUNK_SIZE",
    "BlobSource",
    "blob_exists",
    "delete_blob",
    "mount_blob",
    "push_blob",
    "stream_blob",
]

log = logging.getLogger("registry_sdk.push")


# ------------------------------------------------------------------------ the API


def _repo_scopes(repo: Repository) -> tuple[Scope, ...]:
    return (Scope.repository(repo.path, "pull", "push"),)


def blob_exists(client: Client, ref: Digest) -> Descriptor | None:
    """See [Client.blob_exists][registry_sdk.client.Client.blob_exists]."""
    return blob_exists_in(client.transport(ref.repository), ref.repository, ref.digest)


def _post(
    t: Transport,
    repo: Repository,
    scopes: Collection[Scope],
    query: str = "",
) -> urllib3.BaseHTTPResponse:
    url = t.url(f"/v2/{repo.path}/blobs/uploads/{query}")
    for attempt in range(CHUNK_ATTEMPTS):
        resp = t.request("POST", url, headers={"Content-Length": "0"}, scopes=scopes)
        if resp.status not in _RETRY_STATUSES or attempt == CHUNK_ATTEMPTS - 1:
            return resp
        resp.drain_conn()
        _wait(resp, attempt)
    raise AssertionError("unreachable")


def _open_session(
    t: Transport,
    repo: Repository,
    *,
    scopes: Collection[Scope],
    progress: Progress | None,
    digest: str | None,
    total: int | None,
) -> _Upload:
    url = t.url(f"/v2/{repo.path}/blobs/uploads/")
    resp = _post(t, repo, scopes)
    t.check(resp, 202, method="POST", url=url)
    resp.drain_conn()
    location = resp.headers.get("Location")
    if not location:
        raise UploadError(
            f"{repo}: the registry opened an upload session without a Location",
            repository=str(repo),
            digest=digest,
        )
    up = _Upload(
        t,
        repo,
        resolve_location(t, url, location),
        scopes=scopes,
        progress=progress,
        digest=digest,
        total=total,
    )
    up.learn_minimum(resp)
    return up


def mount_blob(client: Client, src: Digest, dst: Repository) -> bool:
    """See [Client.mount_blob][registry_sdk.client.Client.mount_blob]."""
    t = client.transport(dst)
    mounted, session = _mount(t, src.repository, dst, src.digest, _repo_scopes(dst))
    if session is not None:
        session.cancel()
    return mounted


def _mount(
    t: Transport,
    src: Repository,
    dst: Repository,
    digest: str,
    scopes: Collection[Scope],
    *,
    lenient: bool = False,
) -> tuple[bool, _Upload | None]:
    """POST ?mount&from: (True, None) when mounted; else the session opened instead.

    *lenient*: a refusal (no pull on the source, an unknown source) is (False, None),
    so that `push_blob` uploads instead.
    """
    if src.registry != dst.registry:
        return False, None
    query = "?" + urlencode({"mount": digest, "from": src.path})
    url = t.url(f"/v2/{dst.path}/blobs/uploads/{query}")
    resp = _post(t, dst, [*scopes, Scope.repository(src.path, "pull")], query)
    if lenient and resp.status in (401, 403, 404):
        resp.drain_conn()
        log.debug("mount of %s from %s refused (%s); uploading", digest, src, resp.status)
        return False, None
    t.check(resp, 201, 202, method="POST", url=url)
    resp.drain_conn()
    location = resp.headers.get("Location")
    if resp.status == 202 and location:
        session = _Upload(t, dst, resolve_location(t, url, location), scopes=scopes, digest=digest)
        session.learn_minimum(resp)
        return False, session
    return resp.status == 201, None


def delete_blob(client: Client, ref: Digest) -> None:
    """See [Client.delete_blob][registry_sdk.client.Client.delete_blob]."""
    t = client.transport(ref.repository)
    url = t.url(f"/v2/{ref.repository.path}/blobs/{ref.digest}")
    resp = t.request("DELETE", url)
    t.check(resp, 202, 204, method="DELETE", url=url)
    resp.drain_conn()


def _prehash(
    src: _Source, digest: str | None, size: int | None, algorithm: str
) -> tuple[str | None, int | None]:
    """Digest and size known before sending: given, or hashed from a re-readable source.

    Bytes are always hashed (a given digest is checked before anything is sent); a path
    or seekable file only when no digest is given (one extra read, then the HEAD and
    mounts can skip the upload).
    """
    if not src.rereadable or (digest is not None and src.data is None):
        return digest, size
    actual, actual_size = src.hash_all(algorithm)
    if (digest is not None and actual != digest) or (size is not None and actual_size != size):
        raise DigestMismatch(
            f"blob ({src.describe()}) is {actual} ({actual_size} bytes), expected "
            f"{digest or actual} ({size if size is not None else actual_size} bytes)",
            expected=digest or actual,
            actual=actual,
            what="blob",
        )
    return actual, actual_size


def _skip_or_mount(
    t: Transport,
    repo: Repository,
    known: str,
    *,
    total: int | None,
    mount_from: Iterable[Repository | str],
    scopes: Collection[Scope],
    progress: Progress | None,
) -> Descriptor | _Upload | None:
    """The descriptor when the blob is there or mounted; else a session a mount opened."""
    found = blob_exists_in(t, repo, known, scopes)
    if found is not None:
        if progress is not None:
            progress(ProgressEvent(known, found.size, found.size, ProgressAction.SKIP))
        return found
    session: _Upload | None = None
    for other in mount_from:
        other_repo = Repository.parse(other) if isinstance(other, str) else other
        if other_repo == repo or other_repo.registry != repo.registry:
            continue
        if session is not None:
            session.cancel()
        mounted, session = _mount(t, other_repo, repo, known, scopes, lenient=True)
        if mounted:
            if progress is not None:
                progress(ProgressEvent(known, total or 0, total, ProgressAction.MOUNT))
            return (
                Descriptor(_OCTET, known, total)
                if total is not None
                else (blob_exists_in(t, repo, known, scopes) or Descriptor(_OCTET, known, 0))
            )
    return session


def push_blob(
    client: Client,
    repo: Repository,
    source: BlobSource,
    *,
    digest: str | None = None,
    size: int | None = None,
    mount_from: Iterable[Repository | str] = (),
    progress: Progress | None = None,
    chunk_size: int | None = None,
) -> Descriptor:
    """See [Client.push_blob][registry_sdk.client.Client.push_blob].

    *chunk_size* None (the default): a re-readable source of known size larger than one
    chunk goes in one streamed PATCH, anything else in CHUNK_SIZE chunks; a size given
    here always sends chunks of that size.
    """
    if digest is not None:
        Digest.parse(f"{repo}@{digest}")  # validates the digest's form
        hasher_for(digest)  # and that its algorithm is supported
    src = _Source(source)
    t = client.transport(repo)
    scopes = _repo_scopes(repo)
    algorithm = digest.partition(":")[0] if digest else "sha256"
    known, total = _prehash(src, digest, size, algorithm)
    session: _Upload | None = None
    if known is not None:
        skipped = _skip_or_mount(
            t, repo, known, total=total, mount_from=mount_from, scopes=scopes, progress=progress
        )
        if isinstance(skipped, Descriptor):
            return skipped
        session = skipped
    if session is not None:  # a refused mount opened a session: upload into it
        session.progress, session.total = progress, total
    else:
        session = _open_session(
            t, repo, scopes=scopes, progress=progress, digest=known, total=total
        )
    restarts = 1 if src.rereadable else 0
    while True:
        size_of_chunk = max(chunk_size or CHUNK_SIZE, min(session.min_chunk, MAX_CHUNK_SIZE))
        outcome = _send(
            session,
            src,
            known=known,
            given_size=size,
            total=total,
            algorithm=algorithm,
            chunk_size=size_of_chunk,
            stream=chunk_size is None,
        )
        if isinstance(outcome, Descriptor):
            return outcome
        session.cancel()
        if restarts <= 0:
            break
        restarts -= 1
        log.debug("upload of %s: %s; starting again", known or "a blob", outcome)
        session = _open_session(
            t, repo, scopes=scopes, progress=progress, digest=known, total=total
        )
    raise UploadError(
        f"upload of blob {known or '(digest unknown)'} ({src.describe()}) to {repo} failed: "
        f"{outcome}"
        + (", twice" if src.rereadable else ", and a one-shot source cannot be read again"),
        repository=str(repo),
        digest=known,
    )


def stream_blob(
    client: Client,
    repo: Repository,
    digest: str,
    size: int,
    open_source: Callable[[], Iterator[bytes]],
    *,
    mount_from: Repository | None = None,
    scopes: Collection[Scope] = (),
    progress: Progress | None = None,
) -> ProgressAction:
    """Put a blob that *repo* lacks (the caller's HEAD said so): mount it, else stream it.

    *mount_from* (same registry) is tried first. Otherwise the bytes of `open_source()`
    go in one streamed PUT with `Content-Length` *size* (POST + PUT: nothing is held but
    the piece in flight), counted on the way (more or fewer bytes than *size* abort the
    PUT, so nothing is committed; the registry checks the digest in the URL, and the
    digest it answers is compared with ours). When that fails (a broken connection, a
    lost session, a registry refusing one large PUT), the source is opened again and
    the blob goes through `push_blob` (a HEAD first, in case it landed; then chunks
    that resume), once. Returns what was done: `MOUNT` or `UPLOAD`.
    """
    scopes = tuple(scopes) or _repo_scopes(repo)
    t = client.transport(repo)
    session: _Upload | None = None
    if mount_from is not None and mount_from != repo:
        mounted, session = _mount(t, mount_from, repo, digest, scopes)
        if mounted:
            if progress is not None:
                progress(ProgressEvent(digest, size, size, ProgressAction.MOUNT))
            return ProgressAction.MOUNT
    try:
        if session is None:
            session = _open_session(
                t, repo, scopes=scopes, progress=progress, digest=digest, total=size
            )
        pieces = open_source()
        try:
            session.close(digest, _counted(pieces, digest, size, progress), length=size)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
        return ProgressAction.UPLOAD
    except (TransportError, _SessionLost, RegistryResponseError) as exc:
        if isinstance(exc, RegistryResponseError) and not (
            exc.status in _RETRY_STATUSES or exc.status in (400, 405, 413, 501)
        ):
            if session is not None:
                session.cancel()
            raise
        if session is not None:
            session.cancel()
        log.debug(
            "streamed upload of %s to %s failed (%s); once more, in chunks", digest, repo, exc
        )
    except BaseException:
        if session is not None:
            session.cancel()
        raise
    push_blob(client, repo, open_source(), digest=digest, size=size, progress=progress)
    return ProgressAction.UPLOAD


def _counted(
    pieces: Iterator[bytes], digest: str, size: int, progress: Progress | None
) -> Iterator[bytes]:
    """*pieces* passed on, counted: a body longer or shorter than *size* is stopped."""
    done = 0
    for piece in pieces:
        done += len(piece)
        if done > size:
            raise DigestMismatch(
                f"blob {digest} is longer than its {size} bytes",
                expected=digest,
                actual="(longer)",
                what="blob",
            )
        yield piece
        if progress is not None:
            progress(ProgressEvent(digest, done, size, ProgressAction.UPLOAD))
    if done != size:
        raise DigestMismatch(
            f"blob {digest} ended after {done} of {size} bytes",
            expected=digest,
            actual="(shorter)",
            what="blob",
        )


def _send(
    up: _Upload,
    src: _Source,
    *,
    known: str | None,
    given_size: int | None,
    total: int | None,
    algorithm: str,
    chunk_size: int,
    stream: bool = False,
) -> Descriptor | str:
    """Send the source into *up*; the descriptor, or why the session was lost.

    With *stream*, a re-readable source of known digest and size larger than one chunk
    goes in one streamed PATCH; anything else in chunks. Any other failure cancels the
    session and propagates.
    """
    length = None
    if stream and known is not None and src.rereadable:
        length = total if total is not None else src.length()
    chunks = None
    if length is None or length <= chunk_size:
        chunks = _Chunks(src, chunk_size, algorithm, known=known)
    try:
        if chunks is None:
            assert known is not None
            assert length is not None
            return _send_stream(up, src, known, length, given_size=given_size, algorithm=algorithm)
        return _send_chunks(up, chunks, src, known, given_size=given_size, chunk_size=chunk_size)
    except _SessionLost as lost:
        return lost.reason
    except _ChunksRefused:
        pass
    except BaseException:
        up.cancel()
        raise
    finally:
        if chunks is not None:
            chunks.close()
    if known is None:  # outside the except block: no exception context to carry
        up.cancel()
        raise UploadError(
            f"{up.repo} refuses chunked uploads, and a single PUT needs the "
            "digest up front: pass digest= for a one-shot source",
            repository=str(up.repo),
            digest=None,
        )
    return _retry_as_put(up, src, known, total, algorithm)


def _retry_as_put(
    up: _Upload, src: _Source, known: str, total: int | None, algorithm: str
) -> Descriptor:
    if not src.rereadable:
        up.cancel()
        raise UploadError(
            f"{up.repo} refuses chunked uploads and blob {known} "
            f"({src.describe()}) was partly read",
            repository=str(up.repo),
            digest=known,
        )
    chunks = _Chunks(src, CHUNK_SIZE, algorithm, known=known)
    reason = ""
    try:
        return _streamed_put(up, chunks, known, size=total, source=src)
    except _SessionLost as lost:
        reason = lost.reason
    except BaseException:
        up.cancel()
        raise
    finally:
        chunks.close()
    up.cancel()
    raise UploadError(
        f"upload of blob {known} to {up.repo} in one PUT failed: {reason}",
        repository=str(up.repo),
        digest=known,
    )


def _send_chunks(
    up: _Upload,
    chunks: _Chunks,
    src: _Source,
    known: str | None,
    *,
    given_size: int | None,
    chunk_size: int,
) -> Descriptor:
    pending = chunks.next() or b""
    if len(pending) < chunk_size:  # only the last chunk is short: POST + PUT
        if chunks.next() is not None:
            raise AssertionError("a short chunk before the end")
        _check(up, chunks, src, known, given_size)
        result = up.close(chunks.digest, pending)
        up._report()
        return result
    first = True
    while True:
        up.patch(pending, first=first)
        up._report()
        first = False
        del pending  # hold one chunk at a time while the next is read
        following = chunks.next()
        if following is None:
            break
        pending = following
        del following
    _check(up, chunks, src, known, given_size)
    return up.close(chunks.digest)


def _send_stream(
    up: _Upload, src: _Source, known: str, total: int, *, given_size: int | None, algorithm: str
) -> Descriptor:
    """The whole blob in one streamed PATCH, checked, then the closing PUT.

    A break (connection, 5xx, 401 of an expired token) asks the session where it stands
    and streams again from there, re-reading the source from that offset; CHUNK_ATTEMPTS
    failures in a row without progress give the session up.
    """

    def report(done: int) -> None:
        if up.progress is not None:
            up.progress(ProgressEvent(up.digest, done, up.total, ProgressAction.UPLOAD))

    # Bytes in memory were hashed already (and cannot change): no second hashing.
    stream = _Stream(src, total, algorithm, hashing=src.data is None, report=report)
    try:
        _stream_patches(up, stream)
    except _SourceFailed as failed:
        if failed.error is not None:
            raise failed.error from None
    finally:
        stream.stop()
    actual = stream.digest or known
    wrong_size = stream.read_size != total or (given_size is not None and given_size != total)
    if actual != known or wrong_size:
        read = stream.read_size
        raise DigestMismatch(
            f"blob ({src.describe()}) read as {actual} ("
            + (f"{read} bytes" if read is None or read <= total else f"over {total} bytes")
            + f"), expected {known} ({given_size if given_size is not None else total} bytes)",
            expected=known,
            actual=actual,
            what="blob",
        )
    up.digest = known
    up._report()
    return up.close(known)


def _stream_patches(up: _Upload, stream: _Stream) -> None:
    """PATCH the bytes from the session's offset to the end, resuming after breaks."""
    total, failures = stream.total, 0
    while up.offset < total:
        start, url = up.offset, up.url
        headers = {
            "Content-Type": _OCTET,
            "Content-Length": str(total - start),
            "Content-Range": f"{start}-{total - 1}",
        }
        resp: urllib3.BaseHTTPResponse | None
        try:
            resp = _request(
                up.t,
                "PATCH",
                url,
                headers=headers,
                body=cast("Iterator[bytes]", stream.body(start)),
                scopes=up.scopes,
            )
        except TransportError:
            resp = None  # broken mid-request: ask the session where it stands
        finally:
            stream.stop()
        if resp is not None and resp.status == 202:
            resp.drain_conn()
            up._update(resp, url)
            up.offset = total
            return
        if resp is not None and resp.status == 401:
            # A streamed body is never re-sent by the transport, not even after a 401
            # (a token that expired mid-upload): the GET below gets a fresh one.
            resp.drain_conn()
            resp = None
        if resp is not None:
            up._refusal(resp, first=start == 0)
        failures += 1
        if failures >= CHUNK_ATTEMPTS:
            raise _SessionLost(f"the streamed PATCH failed {CHUNK_ATTEMPTS} times")
        if resp is not None and resp.status == 429:
            _wait(resp, failures - 1)  # not processed: send from the same offset
            continue
        held = up._where(resp, url, failures - 1)
        if not 0 <= held <= total:
            raise _SessionLost(f"the registry holds {held} bytes of {total}")
        if held > start:
            failures = 0  # progress: the next break gets a full set of attempts
        up.offset = held
        log.debug("streamed PATCH of %s broke at %d: resuming from %d", up.digest, start, held)


def _check(
    up: _Upload, chunks: _Chunks, src: _Source, known: str | None, given_size: int | None
) -> None:
    """Compare what was read with what was announced, before the closing PUT."""
    if up.digest is None:
        up.digest = chunks.digest
    wrong_size = given_size is not None and chunks.size != given_size
    if (known is not None and chunks.digest != known) or wrong_size:
        expected = known or chunks.digest
        raise DigestMismatch(
            f"blob ({src.describe()}) read as {chunks.digest} ({chunks.size} bytes), "
            f"expected {expected}" + (f" ({given_size} bytes)" if given_size is not None else ""),
            expected=expected,
            actual=chunks.digest,
            what="blob",
        )
