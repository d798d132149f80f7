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

import hashlib
import io
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, TYPE_CHECKING, Union, cast
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from registry_sdk._blob import hasher_for
from registry_sdk._errors import (
    DigestMismatch,
    ErrorCode,
    RegistryResponseError,
    TransportError,
    UploadError,
)
from registry_sdk.errors import check_error
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

#: What `push_blob` accepts: bytes, a path, a binary file, or an iterable of bytes.
BlobSource = Union[bytes, str, "os.PathLike[str]", IO[bytes], Iterable[bytes]]

#: Size of one PATCH chunk (and the largest blob sent in the closing PUT alone).
CHUNK_SIZE = 8 * 1024 * 1024
#: One read (and one hashing step) of a streamed PATCH, and how many are read ahead.
PIECE_SIZE = 2 * 1024 * 1024
PIECES_AHEAD = 2
#: Largest chunk a registry may demand through OCI-Chunk-Min-Length (memory bound).
MAX_CHUNK_SIZE = 256 * 1024 * 1024
#: Attempts at one chunk (resume after a failure) before the upload is given up.
CHUNK_ATTEMPTS = 4
#: Longest wait honoured from a Retry-After header, and the cap of the backoff.
MAX_WAIT = 30.0
_OCTET = "application/octet-stream"
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


# ------------------------------------------------------------------------- sources


class _Source:
    """A blob source: where its bytes come from and whether they can be read again."""

    def __init__(self, source: BlobSource) -> None:
        self.data: bytes | None = None
        self.path: str | None = None
        self.file: IO[bytes] | None = None
        self.start = 0
        self.iterable: Iterable[bytes] | None = None
        self._used = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
        elif hasattr(source, "read"):
            file: IO[bytes] = source  # type: ignore[assignment]
            self.file = file
            try:
                self.start = file.tell() if file.seekable() else -1
            except (OSError, ValueError, AttributeError):
                self.start = -1
        else:
            self.iterable = source

    @property
    def rereadable(self) -> bool:
        """Whether the bytes can be read from the start again (bytes, path, seekable)."""
        return self.data is not None or self.path is not None or (
            self.file is not None and self.start >= 0)

    def describe(self) -> str:
        return (self.path or ("bytes" if self.data is not None else
                              "file" if self.file is not None else "iterable"))

    def pieces(self, size: int) -> Iterator[bytes]:
        """The bytes from the start, in pieces of at most about *size*."""
        if self.data is not None:
            for i in range(0, len(self.data), size):
                yield self.data[i:i + size]
        elif self.path is not None:
            with open(self.path, "rb") as f:
                while piece := f.read(size):
                    yield piece
        elif self.file is not None:
            if self.start >= 0:
                self.file.seek(self.start)
            elif self._used:
                raise ValueError("a one-shot file cannot be read twice")
            self._used = True
            while piece := self.file.read(size):
                yield piece
        else:
            if self._used:
                raise ValueError("a one-shot iterable cannot be read twice")
            self._used = True
            assert self.iterable is not None
            for piece in self.iterable:
                if not isinstance(piece, (bytes, bytearray, memoryview)):
                    raise TypeError(f"a blob iterable must yield bytes, not "
                                    f"{type(piece).__name__}")
                yield bytes(piece)

    def open_at(self, offset: int) -> AbstractContextManager[IO[bytes]]:
        """A binary file *offset* bytes into a re-readable source, for a `with`.

        The `with` closes a file opened here and leaves the caller's own file open.
        """
        if self.data is not None:
            data = io.BytesIO(self.data)  # shares the bytes (no copy while only read)
            data.seek(offset)
            return data
        if self.path is not None:
            f = open(self.path, "rb")  # noqa: SIM115 (closed by the caller)
            f.seek(offset)
            return f
        assert self.file is not None
        assert self.start >= 0
        self.file.seek(self.start + offset)
        return nullcontext(self.file)

    def length(self) -> int | None:
        """The size in bytes when the source can tell it without reading."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return os.path.getsize(self.path)
        if self.file is not None and self.start >= 0:
            end = self.file.seek(0, os.SEEK_END)
            self.file.seek(self.start)
            return end - self.start
        return None

    def hash_all(self, algorithm: str) -> tuple[str, int]:
        """Digest and size of the whole re-readable source (one read)."""
        h = hashlib.new(algorithm)
        size = 0
        if self.data is not None:
            h.update(self.data)
            return f"{algorithm}:{h.hexdigest()}", len(self.data)
        buffer = memoryview(bytearray(PIECE_SIZE))  # one buffer, read into again and again
        with self.open_at(0) as f:
            while got := _read_into(f, buffer):
                h.update(buffer[:got])
                size += got
        return f"{algorithm}:{h.hexdigest()}", size


def _rechunk(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Pieces regrouped into chunks of exactly *size* bytes (the last may be shorter).

    Pieces are joined once per chunk (no growing buffer copied again and again), so at
    most about two chunks are held here while one is assembled.
    """
    parts: list[bytes] = []
    have = 0
    for piece in pieces:
        if not piece:
            continue
        parts.append(piece)
        have += len(piece)
        if have < size:
            continue
        joined = parts[0] if len(parts) == 1 else b"".join(parts)
        parts.clear()
        view = memoryview(joined)
        start = 0
        while have - start >= size:
            yield joined if (start == 0 and len(joined) == size) else bytes(
                view[start:start + size])
            start += size
        if start < have:
            parts.append(bytes(view[start:]))
        have -= start
        del view, joined
    if parts:
        yield b"".join(parts)


_END = object()


class _Chunks:
    """Chunks of the source, read and hashed one step ahead on a second thread.

    One chunk waits in the queue and one is being read, so memory stays flat whatever the size.
    """

    def __init__(self, source: _Source, size: int, algorithm: str, *,
                 known: str | None = None) -> None:
        # Bytes in memory were hashed already and cannot change: no second hashing.
        threaded = source.data is None
        self._known = known if source.data is not None else None
        self._hash = hashlib.new(algorithm)
        self._algorithm = algorithm
        self._iter = _rechunk(source.pieces(size), size)
        self._stop = threading.Event()
        self._queue: queue.Queue[object] | None = None
        self.size = 0
        self.finished = False
        if threaded:
            self._queue = queue.Queue(maxsize=1)
            threading.Thread(target=self._produce, daemon=True,
                             name="registry-sdk-hash").start()

    def _produce(self) -> None:
        assert self._queue is not None
        item: object
        try:
            for chunk in self._iter:
                self._hash.update(chunk)
                if not self._put(chunk):
                    return
            item = _END
        except BaseException as exc:  # noqa: BLE001 (handed to the consuming thread)
            item = exc
        self._put(item)

    def _put(self, item: object) -> bool:
        assert self._queue is not None
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def next(self) -> bytes | None:
        """The next chunk, or None at the end."""
        if self.finished:
            return None
        if self._queue is None:
            chunk = next(self._iter, None)
            if chunk is not None and self._known is None:
                self._hash.update(chunk)
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self.finished = True
                raise item
            chunk = None if item is _END else item  # type: ignore[assignment]
        if chunk is None:
            self.finished = True
            return None
        self.size += len(chunk)
        return chunk

    @property
    def digest(self) -> str:
        """The digest of everything read (complete once `next()` returned None)."""
        return self._known or f"{self._algorithm}:{self._hash.hexdigest()}"

    def close(self) -> None:
        """Stop the reading thread (if it is waiting to hand over a chunk)."""
        self._stop.set()
        if self._queue is not None:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break


class _SourceFailed(Exception):
    """Reading the source failed inside a streamed request body.

    Carried past urllib3 (which would take an OSError for a broken connection); `error`
    is None when the source simply ended before its announced size.
    """

    def __init__(self, error: BaseException | None) -> None:
        super().__init__(str(error or "the source ended early"))
        self.error = error


class _Stream:
    """A re-readable source of known size, sent from any offset as one streamed body.

    A second thread reads it into PIECES_AHEAD + 2 reused buffers of PIECE_SIZE and hashes
    every byte once, in order, the first time it is read, while the previous piece is
    sent (hashlib and the socket both release the GIL). After a break the body starts
    again from the session's offset: bytes already hashed are read, not hashed again.
    Memory: those buffers, whatever the size.

    A piece handed to the request is a view of a buffer that is filled again only after
    the request asked for the piece after next (the producer is at most PIECES_AHEAD
    pieces ahead, plus the one it fills).
    """

    def __init__(self, src: _Source, total: int, algorithm: str, *, hashing: bool,
                 report: Callable[[int], None] | None = None) -> None:
        self.src, self.total = src, total
        self._hash = hashlib.new(algorithm) if hashing else None
        self._algorithm = algorithm
        self.hashed = 0
        #: bytes the source held when read to its end (total + 1 for "more than total")
        self.read_size: int | None = None
        self._buffers = [bytearray(min(PIECE_SIZE, max(total, 1)))
                         for _ in range(PIECES_AHEAD + 2)]
        self._report = report
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=PIECES_AHEAD)

    @property
    def digest(self) -> str | None:
        """The digest of the whole source once read to the end (None when not hashing)."""
        if self._hash is None:
            return None
        return f"{self._algorithm}:{self._hash.hexdigest()}"

    def body(self, offset: int) -> Iterator[memoryview]:
        """The bytes from *offset* to the announced size, read and hashed ahead."""
        self.stop()
        self._stop = threading.Event()
        self._queue = queue.Queue(maxsize=PIECES_AHEAD)
        self._thread = threading.Thread(target=self._produce,
                                        args=(offset, self._stop, self._queue),
                                        daemon=True, name="registry-sdk-hash")
        self._thread.start()
        return self._consume(offset, self._queue)

    def _produce(self, offset: int, stop: threading.Event,
                 q: queue.Queue[object]) -> None:
        item: object = _END
        pos = min(offset, self.hashed) if self._hash is not None else offset
        try:
            with self.src.open_at(pos) as f:
                index = 0
                while pos < self.total:
                    buffer = self._buffers[index % len(self._buffers)]
                    index += 1
                    view = memoryview(buffer)[:min(len(buffer), self.total - pos)]
                    got = _read_into(f, view)
                    piece = view[:got]
                    if self._hash is not None and pos + got > self.hashed:
                        self._hash.update(piece[self.hashed - pos:])
                        self.hashed = pos + got
                    if pos + got > offset and not _put(stop, q, piece[max(0, offset - pos):]):
                        return
                    pos += got
                    if got < len(view):  # shorter than announced
                        self.read_size = pos
                        raise _SourceFailed(None)
                self.read_size = self.total + (1 if f.read(1) else 0)
        except _SourceFailed as failed:
            item = failed
        except BaseException as exc:  # noqa: BLE001 (handed to the sending thread)
            item = _SourceFailed(exc)
        _put(stop, q, item)

    def _consume(self, offset: int, q: queue.Queue[object]) -> Iterator[memoryview]:
        sent = reported = offset
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, memoryview)
            yield item
            sent += len(item)
            if self._report is not None and sent - reported >= CHUNK_SIZE:
                reported = sent
                self._report(sent)

    def stop(self) -> None:
        """Stop the reading thread and wait for it (one reader at a time)."""
        self._stop.set()
        thread = self._thread
        while thread is not None and thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            thread.join(0.05)
        self._thread = None


def _read_into(f: IO[bytes], view: memoryview) -> int:
    """Fill *view* from *f* (short only at the end of the file); the bytes read."""
    got = 0
    readinto = getattr(f, "readinto", None)
    while got < len(view):
        if readinto is not None:
            n = readinto(view[got:])
        else:
            data = f.read(len(view) - got)
            view[got:got + len(data)] = data
            n = len(data)
        if not n:
            break
        got += n
    return got


def _put(stop: threading.Event, q: queue.Queue[object], item: object) -> bool:
    """Hand *item* over unless asked to stop; whether it was handed over."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False


# ------------------------------------------------------------------------- sending


def _registry_netloc(t: Transport) -> tuple[str, str]:
    parts = urlsplit(t.base_url)
    return parts.scheme, parts.netloc


def resolve_location(t: Transport, request_url: str, location: str) -> str:
    """The absolute upload URL for a `Location` answered to *request_url*.

    On the registry's own host the transport's scheme is kept; another host's URL is
    returned as it is (requests to it never carry credentials: rule 1).
    """
    absolute = urljoin(request_url, location)
    parts = urlsplit(absolute)
    scheme, netloc = _registry_netloc(t)
    if parts.netloc.lower() == netloc.lower():
        return urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    return absolute


def _on_other_host(t: Transport, url: str) -> bool:
    return urlsplit(url).netloc.lower() != _registry_netloc(t)[1].lower()


def _request(t: Transport, method: str, url: str, *, scopes: Collection[Scope],
             headers: dict[str, str] | None = None,
             body: bytes | Iterator[bytes] | None = None) -> urllib3.BaseHTTPResponse:
    """One request; to another host (an upload location) without any credentials.

    An iterator body is sent once (never re-sent), with the Content-Length in *headers*.
    """
    if _on_other_host(t, url):  # rule 1: no credentials at all
        return t.request(method, url, headers=headers, body=body, allow_other_host=True)
    return t.request(method, url, headers=headers, body=body, scopes=scopes)


def _with_digest(url: str, digest: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'digest': digest})}"


def _parse_range(value: str | None) -> int | None:
    """The number of bytes a session holds, from `Range: [bytes=]0-LAST`."""
    if not value:
        return None
    _, _, spec = value.rpartition("=")
    first, sep, last = spec.strip().partition("-")
    if not sep or not first.isdigit() or not last.isdigit():
        return None
    return int(last) + 1


def _wait(resp: urllib3.BaseHTTPResponse | None, attempt: int) -> None:
    value = resp.headers.get("Retry-After", "") if resp is not None else ""
    try:
        seconds = float(value)
    except ValueError:
        seconds = min(MAX_WAIT, 0.25 * 2 ** attempt)
    time.sleep(max(0.0, min(MAX_WAIT, seconds)))


def _codes(resp: urllib3.BaseHTTPResponse) -> RegistryResponseError:
    """The typed error for *resp* (read here, returned, never raised in an except)."""
    try:
        check_error(resp)
    except RegistryResponseError as exc:
        return exc
    raise AssertionError("unreachable: _codes is called on failed responses only")


class _SessionLost(Exception):
    """The session cannot go on: lost by the registry, or holding bytes we lack.

    `reason` says why, for the UploadError raised if starting again is impossible.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _ChunksRefused(Exception):
    """The registry refused a PATCH chunk outright (it wants one PUT)."""


class _Upload:
    """One upload session and the state of sending to it."""

    def __init__(self, t: Transport, repo: Repository, url: str, *,
                 scopes: Collection[Scope], progress: Progress | None = None,
                 digest: str | None = None, total: int | None = None) -> None:
        self.t, self.repo, self.url, self.scopes = t, repo, url, scopes
        self.progress, self.digest, self.total = progress, digest, total
        self.offset = 0
        self.min_chunk = 0

    def learn_minimum(self, resp: urllib3.BaseHTTPResponse) -> None:
        """Keep the registry's `OCI-Chunk-Min-Length` (0 when it sends none)."""
        value = resp.headers.get("OCI-Chunk-Min-Length", "")
        self.min_chunk = int(value) if value.isdigit() else 0

    def _update(self, resp: urllib3.BaseHTTPResponse, request_url: str) -> None:
        location = resp.headers.get("Location")
        if location:
            self.url = resolve_location(self.t, request_url, location)

    def _report(self, action: ProgressAction = ProgressAction.UPLOAD) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(self.digest, self.offset, self.total, action))

    def cancel(self) -> None:
        """DELETE the session, best effort (the registry may refuse or have lost it)."""
        try:
            resp = _request(self.t, "DELETE", self.url, scopes=self.scopes)
            resp.drain_conn()
            log.debug("cancelled upload session in %s: %s", self.repo.path, resp.status)
        except Exception:  # noqa: BLE001 (best effort: the session expires anyway)
            log.debug("could not cancel an upload session in %s", self.repo.path)

    def status(self) -> int:
        """Where the session stands (bytes held), from GET on the upload URL."""
        try:
            resp = _request(self.t, "GET", self.url, scopes=self.scopes)
        except TransportError:
            raise _SessionLost("the connection kept breaking") from None
        resp.drain_conn()
        if resp.status not in {200, 204}:
            raise _SessionLost(f"the registry lost the session (status {resp.status})")
        self._update(resp, self.url)
        held = _parse_range(resp.headers.get("Range"))
        return 0 if held is None else held

    def patch(self, chunk: bytes, *, first: bool) -> None:
        """Send one chunk at the current offset, resuming after failures."""
        start = self.offset
        data = chunk
        for attempt in range(CHUNK_ATTEMPTS):
            url = self.url
            headers = {"Content-Type": _OCTET, "Content-Length": str(len(data)),
                       "Content-Range": f"{self.offset}-{self.offset + len(data) - 1}"}
            resp: urllib3.BaseHTTPResponse | None
            try:
                resp = _request(self.t, "PATCH", url, headers=headers, body=data,
                                scopes=self.scopes)
            except TransportError:
                resp = None  # broken mid-request: ask the session where it stands
            if resp is not None and resp.status == 202:
                resp.drain_conn()
                self._update(resp, url)
                self.offset += len(data)
                return
            if resp is not None:
                self._refusal(resp, first=first and start == 0)
            if resp is not None and resp.status == 429:
                _wait(resp, attempt)  # not processed: send the same bytes again
                continue
            held = self._where(resp, url, attempt)
            if not start <= held <= start + len(chunk):
                raise _SessionLost(f"the registry holds {held} bytes, outside the chunk "
                                   "in hand")
            self.offset = held
            data = chunk[held - start:]
            if not data:
                return
        raise _SessionLost(f"a chunk failed {CHUNK_ATTEMPTS} times")

    def _refusal(self, resp: urllib3.BaseHTTPResponse, *, first: bool) -> None:
        """Raise for a PATCH answer that no resume can fix."""
        error = _codes(resp)  # reads the (capped) error body
        resp.drain_conn()
        if first and resp.status in (400, 405, 501) and (
                resp.status != 400 or ErrorCode.UNSUPPORTED in error.codes):
            raise _ChunksRefused
        if resp.status == 404:
            raise _SessionLost(f"the registry lost the session ({', '.join(error.codes)})")
        if resp.status not in _RETRY_STATUSES and resp.status != 416:
            raise error

    def _where(self, resp: urllib3.BaseHTTPResponse | None, url: str, attempt: int) -> int:
        """The session's offset after a failed PATCH (416 says it; else GET asks)."""
        if resp is not None and resp.status == 416:
            self._update(resp, url)
            held = _parse_range(resp.headers.get("Range"))
        else:
            _wait(resp, attempt)
            held = self.status()
        held = self.offset if held is None else held
        if held == 1 and self.offset == 0:
            held = 0  # "0-0" means empty as well as one byte: assume empty
        return held

    def close(self, digest: str, body: bytes | Iterator[bytes] = b"", *,
              length: int | None = None) -> Descriptor:
        """The closing PUT with the digest (and the last bytes); returns the descriptor.

        *body* is bytes, or an iterator sent once with *length* as its Content-Length.
        """
        url = _with_digest(self.url, digest)
        if isinstance(body, bytes):
            length = len(body)
        headers = {"Content-Type": _OCTET}
        if length is not None:
            headers["Content-Length"] = str(length)
        try:
            resp = _request(self.t, "PUT", url, headers=headers, body=body,
                            scopes=self.scopes)
        except TransportError:
            resp = None
        if resp is None or resp.status in _RETRY_STATUSES:
            # The PUT may have landed before the connection broke: ask for the blob.
            if resp is not None:
                resp.drain_conn()
            found = blob_exists_in(self.t, self.repo, digest, self.scopes)
            if found is not None:
                return found
            raise _SessionLost("the closing PUT failed" + (
                f" (status {resp.status})" if resp is not None else ""))
        if resp.status == 404:
            error = _codes(resp)
            resp.drain_conn()
            raise _SessionLost(f"the registry lost the session ({', '.join(error.codes)})")
        resp.drain_conn()
        if resp.status not in (201, 204):
            raise _codes(resp)
        answered = resp.headers.get("Docker-Content-Digest")
        if answered and answered.partition(":")[0] == digest.partition(":")[0] and (
                answered != digest):
            raise DigestMismatch(f"the registry stored blob {digest} as {answered}",
                                 expected=digest, actual=answered, what="blob")
        self.offset += len(body) if isinstance(body, bytes) else (length or 0)
        return Descriptor(_OCTET, digest, self.offset)


def _streamed_put(up: _Upload, chunks: _Chunks, digest: str, *, size: int | None,
                  source: _Source) -> Descriptor:
    """The registry refused chunks: send the whole blob, streamed, in the closing PUT.

    The registry checks the digest in the URL against what arrives; ours is compared as
    well once it is sent.
    """
    def body() -> Iterator[bytes]:
        while (chunk := chunks.next()) is not None:
            yield chunk

    result = up.close(digest, body(), length=size if size is not None else source.length())
    if chunks.digest != digest:  # the registry should have refused it already
        raise DigestMismatch(expected=digest, actual=chunks.digest,
                             what=f"blob {digest} ({source.describe()})")
    return result


# ------------------------------------------------------------------------ the API


def _repo_scopes(repo: Repository) -> tuple[Scope, ...]:
    return (Scope.repository(repo.path, "pull", "push"),)


def blob_exists_in(t: Transport, repo: Repository, digest: str,
                   scopes: Collection[Scope] = ()) -> Descriptor | None:
    """HEAD the blob in *repo*: its descriptor, or None when the registry answers 404."""
    url = t.url(f"/v2/{repo.path}/blobs/{digest}")
    resp = t.request("HEAD", url, scopes=scopes)
    if resp.status == 404:
        return None
    t.check(resp, 200, method="HEAD", url=url)
    length = resp.headers.get("Content-Length", "")
    media_type = (resp.headers.get("Content-Type") or _OCTET).split(";", 1)[0].strip()
    return Descriptor(media_type or _OCTET, digest, int(length) if length.isdigit() else 0)


def blob_exists(client: Client, ref: Digest) -> Descriptor | None:
    """See [Client.blob_exists][registry_sdk.client.Client.blob_exists]."""
    return blob_exists_in(client.transport(ref.repository), ref.repository, ref.digest)


def _post(t: Transport, repo: Repository, scopes: Collection[Scope], query: str = "",
          ) -> urllib3.BaseHTTPResponse:
    url = t.url(f"/v2/{repo.path}/blobs/uploads/{query}")
    for attempt in range(CHUNK_ATTEMPTS):
        resp = t.request("POST", url, headers={"Content-Length": "0"}, scopes=scopes)
        if resp.status not in _RETRY_STATUSES or attempt == CHUNK_ATTEMPTS - 1:
            return resp
        resp.drain_conn()
        _wait(resp, attempt)
    raise AssertionError("unreachable")


def _open_session(t: Transport, repo: Repository, *, scopes: Collection[Scope],
                  progress: Progress | None, digest: str | None, total: int | None,
                  ) -> _Upload:
    url = t.url(f"/v2/{repo.path}/blobs/uploads/")
    resp = _post(t, repo, scopes)
    t.check(resp, 202, method="POST", url=url)
    resp.drain_conn()
    location = resp.headers.get("Location")
    if not location:
        raise UploadError(f"{repo}: the registry opened an upload session without a "
                          "Location", repository=str(repo), digest=digest)
    up = _Upload(t, repo, resolve_location(t, url, location), scopes=scopes,
                 progress=progress, digest=digest, total=total)
    up.learn_minimum(resp)
    return up


def mount_blob(client: Client, src: Digest, dst: Repository) -> bool:
    """See [Client.mount_blob][registry_sdk.client.Client.mount_blob]."""
    t = client.transport(dst)
    mounted, session = _mount(t, src.repository, dst, src.digest, _repo_scopes(dst))
    if session is not None:
        session.cancel()
    return mounted


def _mount(t: Transport, src: Repository, dst: Repository, digest: str,
           scopes: Collection[Scope], *, lenient: bool = False,
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
        session = _Upload(t, dst, resolve_location(t, url, location), scopes=scopes,
                          digest=digest)
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


def _prehash(src: _Source, digest: str | None, size: int | None,
             algorithm: str) -> tuple[str | None, int | None]:
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
            expected=digest or actual, actual=actual, what="blob")
    return actual, actual_size


def _skip_or_mount(t: Transport, repo: Repository, known: str, *, total: int | None,
                   mount_from: Iterable[Repository | str], scopes: Collection[Scope],
                   progress: Progress | None) -> Descriptor | _Upload | None:
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
            return Descriptor(_OCTET, known, total) if total is not None else (
                blob_exists_in(t, repo, known, scopes) or Descriptor(_OCTET, known, 0))
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
        skipped = _skip_or_mount(t, repo, known, total=total, mount_from=mount_from,
                                 scopes=scopes, progress=progress)
        if isinstance(skipped, Descriptor):
            return skipped
        session = skipped
    if session is not None:  # a refused mount opened a session: upload into it
        session.progress, session.total = progress, total
    else:
        session = _open_session(t, repo, scopes=scopes, progress=progress, digest=known,
                                total=total)
    restarts = 1 if src.rereadable else 0
    while True:
        size_of_chunk = max(chunk_size or CHUNK_SIZE, min(session.min_chunk, MAX_CHUNK_SIZE))
        outcome = _send(session, src, known=known, given_size=size, total=total,
                        algorithm=algorithm, chunk_size=size_of_chunk,
                        stream=chunk_size is None)
        if isinstance(outcome, Descriptor):
            return outcome
        session.cancel()
        if restarts <= 0:
            break
        restarts -= 1
        log.debug("upload of %s: %s; starting again", known or "a blob", outcome)
        session = _open_session(t, repo, scopes=scopes, progress=progress, digest=known,
                                total=total)
    raise UploadError(
        f"upload of blob {known or '(digest unknown)'} ({src.describe()}) to {repo} failed: "
        f"{outcome}" + (", twice" if src.rereadable else
                        ", and a one-shot source cannot be read again"),
        repository=str(repo), digest=known)


def stream_blob(client: Client, repo: Repository, digest: str, size: int,
                open_source: Callable[[], Iterator[bytes]], *,
                mount_from: Repository | None = None, scopes: Collection[Scope] = (),
                progress: Progress | None = None) -> ProgressAction:
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
            session = _open_session(t, repo, scopes=scopes, progress=progress,
                                    digest=digest, total=size)
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
                exc.status in _RETRY_STATUSES or exc.status in (400, 405, 413, 501)):
            if session is not None:
                session.cancel()
            raise
        if session is not None:
            session.cancel()
        log.debug("streamed upload of %s to %s failed (%s); once more, in chunks",
                  digest, repo, exc)
    except BaseException:
        if session is not None:
            session.cancel()
        raise
    push_blob(client, repo, open_source(), digest=digest, size=size, progress=progress)
    return ProgressAction.UPLOAD


def _counted(pieces: Iterator[bytes], digest: str, size: int,
             progress: Progress | None) -> Iterator[bytes]:
    """*pieces* passed on, counted: a body longer or shorter than *size* is stopped."""
    done = 0
    for piece in pieces:
        done += len(piece)
        if done > size:
            raise DigestMismatch(f"blob {digest} is longer than its {size} bytes",
                                 expected=digest, actual="(longer)", what="blob")
        yield piece
        if progress is not None:
            progress(ProgressEvent(digest, done, size, ProgressAction.UPLOAD))
    if done != size:
        raise DigestMismatch(f"blob {digest} ended after {done} of {size} bytes",
                             expected=digest, actual="(shorter)", what="blob")


def _send(up: _Upload, src: _Source, *, known: str | None, given_size: int | None,
          total: int | None, algorithm: str, chunk_size: int,
          stream: bool = False) -> Descriptor | str:
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
            return _send_stream(up, src, known, length, given_size=given_size,
                                algorithm=algorithm)
        return _send_chunks(up, chunks, src, known, given_size=given_size,
                            chunk_size=chunk_size)
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
        raise UploadError(f"{up.repo} refuses chunked uploads, and a single PUT needs the "
                          "digest up front: pass digest= for a one-shot source",
                          repository=str(up.repo), digest=None)
    return _retry_as_put(up, src, known, total, algorithm)
def _retry_as_put(up: _Upload, src: _Source, known: str, total: int | None,
                  algorithm: str) -> Descriptor:
    if not src.rereadable:
        up.cancel()
        raise UploadError(f"{up.repo} refuses chunked uploads and blob {known} "
                          f"({src.describe()}) was partly read", repository=str(up.repo),
                          digest=known)
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
    raise UploadError(f"upload of blob {known} to {up.repo} in one PUT failed: {reason}",
                      repository=str(up.repo), digest=known)


def _send_chunks(up: _Upload, chunks: _Chunks, src: _Source, known: str | None, *,
                 given_size: int | None, chunk_size: int) -> Descriptor:
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


def _send_stream(up: _Upload, src: _Source, known: str, total: int, *,
                 given_size: int | None, algorithm: str) -> Descriptor:
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
            expected=known, actual=actual, what="blob")
    up.digest = known
    up._report()
    return up.close(known)


def _stream_patches(up: _Upload, stream: _Stream) -> None:
    """PATCH the bytes from the session's offset to the end, resuming after breaks."""
    total, failures = stream.total, 0
    while up.offset < total:
        start, url = up.offset, up.url
        headers = {"Content-Type": _OCTET, "Content-Length": str(total - start),
                   "Content-Range": f"{start}-{total - 1}"}
        resp: urllib3.BaseHTTPResponse | None
        try:
            resp = _request(up.t, "PATCH", url, headers=headers,
                            body=cast("Iterator[bytes]", stream.body(start)),
                            scopes=up.scopes)
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


def _check(up: _Upload, chunks: _Chunks, src: _Source, known: str | None,
           given_size: int | None) -> None:
    """Compare what was read with what was announced, before the closing PUT."""
    if up.digest is None:
        up.digest = chunks.digest
    wrong_size = given_size is not None and chunks.size != given_size
    if (known is not None and chunks.digest != known) or wrong_size:
        expected = known or chunks.digest
        raise DigestMismatch(
            f"blob ({src.describe()}) read as {chunks.digest} ({chunks.size} bytes), "
            f"expected {expected}" + (f" ({given_size} bytes)" if given_size is not None
                                      else ""),
            expected=expected, actual=chunks.digest, what="blob")
