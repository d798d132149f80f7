"""A blob body that verifies its size and digest as it is read."""

from __future__ import annotations

import hashlib
import queue
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from urllib3.exceptions import HTTPError

from registry_sdk._errors import DigestMismatch, InvalidResponse, TransportError

if TYPE_CHECKING:
    import urllib3

CHUNK = 1024 * 1024
#: Whether large blobs are hashed on a second thread while the next chunk is read. Off:
#: measured side by side in scripts/bench on this project's machine (2 cores, registry on
#: the same machine), the thread was slower than hashing inline at 256 MiB (613 against
#: 797 MiB/s, and never reliably faster): its hand-offs cost more than the overlap wins
#: when the registry competes for the cores. A client with cores to spare may turn it on.
HASH_ON_THREAD = False
#: With HASH_ON_THREAD, a blob at least this large (announced, or read so far) is hashed
#: on a second thread.
THREAD_MIN = 8 * CHUNK
#: Hashing hand-offs are at least this large (smaller reads are batched; hashlib releases
#: the GIL only on buffers over 2 KiB, and each hand-off costs a queue round trip).
_BATCH = 256 * 1024
#: Hand-offs waiting for the hashing thread (memory stays flat: about this many chunks).
_QUEUE_DEPTH = 2


#: The supported digest algorithms' constructors (hashlib.new costs a lookup per call).
_CONSTRUCTORS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _new_hash(algorithm: str) -> hashlib._Hash:
    """A hash object for a supported digest algorithm (sha256 or sha512)."""
    constructor = _CONSTRUCTORS.get(algorithm)
    if constructor is None:
        raise InvalidResponse(f"unsupported digest algorithm {algorithm!r}", what="digest")
    return constructor()


def hasher_for(digest: str) -> hashlib._Hash:
    """A fresh hash object for *digest*'s algorithm."""
    return _new_hash(digest.partition(":")[0])


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """`algorithm:hex` of *data* (sha256 or sha512, else InvalidResponse)."""
    constructor = _CONSTRUCTORS.get(algorithm)
    if constructor is None:
        raise InvalidResponse(f"unsupported digest algorithm {algorithm!r}", what="digest")
    return f"{algorithm}:{constructor(data).hexdigest()}"


class _Hasher:
    """Feeds a hash object on a worker thread, in order, while the caller reads on.

    hashlib releases the GIL while it hashes a buffer larger than 2 KiB, so hashing chunk
    N overlaps reading chunk N+1. The queue is bounded (memory stays flat). The thread
    holds no reference to the reader: a reader dropped without `close()` is finalized,
    which stops the thread.
    """

    def __init__(self, hasher: hashlib._Hash) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUE_DEPTH)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(hasher,), name="registry-sdk blob hash", daemon=True
        )
        self._thread.start()

    def _run(self, hasher: hashlib._Hash) -> None:
        get, update = self._queue.get, hasher.update
        try:
            while (data := get()) is not None:
                update(data)
        except BaseException as exc:  # noqa: BLE001 (handed to the reading thread)
            self.error = exc
            while get() is not None:  # keep consuming so the reader never blocks
                pass

    def feed(self, data: bytes) -> None:
        """Hash *data* after everything fed before it."""
        if len(data) >= _BATCH and not self._pending:
            self._queue.put(data)
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pending = self._pending
            self._queue.put(pending[0] if len(pending) == 1 else b"".join(pending))
            self._pending, self._pending_size = [], 0

    def finish(self) -> None:
        """Hash what is left and stop the thread (the hash object is then the caller's)."""
        self._flush()
        self._queue.put(None)
        self._thread.join()


def _stop(worker: _Hasher) -> None:
    worker.finish()


class BlobReader:
    """A blob being read from the registry, verified as it is read (what `get_blob` yields).

    Iterate over it, or call `read()`, until it ends: the bytes must then hash to
    `digest` and match `size` (from `Content-Length`), else DigestMismatch or
    InvalidResponse is raised, naming the blob.

    A large blob is hashed on a second thread while the next chunk is read (hashlib
    releases the GIL), so verifying costs little more than the slower of the two;
    `close()` (or leaving `get_blob`'s block) stops that thread.
    """

    def __init__(self, response: urllib3.BaseHTTPResponse, digest: str, *, name: str = "") -> None:
        self._response = response
        #: The digest the bytes must hash to.
        self.digest = digest
        self._name = name or digest
        length = response.headers.get("Content-Length")
        #: The size the registry announced (`Content-Length`), or None when it sent none.
        self.size: int | None = int(length) if length and length.isdigit() else None
        self._hash = hasher_for(digest)
        #: How many bytes were read so far.
        self.read_bytes = 0
        self._done = False
        self._worker: _Hasher | None = None
        self._finalizer: weakref.finalize[[_Hasher], BlobReader] | None = None
        self._threadless = False  # set once the worker stopped: never start another
        self._failed: BaseException | None = None

    def read(self, amt: int = CHUNK) -> bytes:
        """Up to *amt* verified-so-far bytes; b"" at the end (after verification)."""
        if self._done:
            return b""
        broken, data = False, b""
        try:
            data = self._response.read(amt)
        except (HTTPError, OSError):
            self._response.close()
            broken = True
        if broken:  # raised outside the except: urllib3's messages may hold the URL
            raise TransportError(
                f"connection broken after {self.read_bytes} bytes of blob {self._name}"
            )
        if data:
            self.read_bytes += len(data)
            if self._worker is not None:
                self._worker.feed(data)
            elif (
                HASH_ON_THREAD
                and not self._threadless
                and (self.size or self.read_bytes) >= THREAD_MIN
            ):
                self._start_worker(data)
            else:
                self._hash.update(data)
            if self.size is not None and self.read_bytes > self.size:
                raise InvalidResponse(
                    f"blob {self._name} is longer than its Content-Length", what="blob"
                )
            return data
        self._done = True
        self._verify()
        return b""

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read():
            yield chunk

    def _start_worker(self, data: bytes) -> None:
        self._worker = worker = _Hasher(self._hash)
        self._finalizer = weakref.finalize(self, _stop, worker)
        worker.feed(data)

    def _join_worker(self) -> None:
        """Stop the hashing thread, if any, once it has hashed everything fed to it.

        What the thread raised, if anything, is kept for `_verify` to raise.
        """
        worker, finalizer = self._worker, self._finalizer
        if worker is None or finalizer is None:
            return
        self._worker = self._finalizer = None
        self._threadless = True
        finalizer()  # runs worker.finish() once, and no more at garbage collection
        self._failed = worker.error

    def _verify(self) -> None:
        self._join_worker()
        if self._failed is not None:
            raise self._failed
        if self.size is not None and self.read_bytes != self.size:
            raise InvalidResponse(
                f"blob {self._name} ended after {self.read_bytes} of {self.size} bytes", what="blob"
            )
        actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatch(expected=self.digest, actual=actual, what=f"blob {self._name}")

    def close(self) -> None:
        """Release the connection (drained if unread) and the hashing thread."""
        try:
            self._join_worker()  # what it raised, if anything, is _verify's to report
        finally:
            self._response.drain_conn()
            self._response.release_conn()
