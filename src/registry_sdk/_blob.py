"""A blob body that verifies its size and digest as it is read."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from urllib3.exceptions import HTTPError

from registry_sdk._errors import DigestMismatch, InvalidResponse, TransportError

if TYPE_CHECKING:
    import urllib3

CHUNK = 1024 * 1024


def _new_hash(algorithm: str) -> hashlib._Hash:
    """A hash object for a supported digest algorithm (sha256 or sha512)."""
    if algorithm not in ("sha256", "sha512"):
        raise InvalidResponse(f"unsupported digest algorithm {algorithm!r}", what="digest")
    return hashlib.new(algorithm)


def hasher_for(digest: str) -> hashlib._Hash:
    """A fresh hash object for *digest*'s algorithm."""
    return _new_hash(digest.partition(":")[0])


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """`algorithm:hex` of *data* (sha256 or sha512, else InvalidResponse)."""
    hasher = _new_hash(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


class BlobReader:
    """A blob being read from the registry, verified as it is read (what `get_blob` yields).

    Iterate over it, or call `read()`, until it ends: the bytes must then hash to
    `digest` and match `size` (from `Content-Length`), else DigestMismatch or
    InvalidResponse is raised, naming the blob.
    """

    def __init__(self, response: urllib3.BaseHTTPResponse, digest: str, *,
                 name: str = "") -> None:
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
            raise TransportError(f"connection broken after {self.read_bytes} bytes of blob "
                                 f"{self._name}")
        if data:
            self._hash.update(data)
            self.read_bytes += len(data)
            if self.size is not None and self.read_bytes > self.size:
                raise InvalidResponse(f"blob {self._name} is longer than its Content-Length",
                                      what="blob")
            return data
        self._done = True
        self._verify()
        return b""

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read():
            yield chunk

    def _verify(self) -> None:
        if self.size is not None and self.read_bytes != self.size:
            raise InvalidResponse(f"blob {self._name} ended after {self.read_bytes} of "
                                  f"{self.size} bytes", what="blob")
        actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatch(expected=self.digest, actual=actual, what=f"blob {self._name}")

    def close(self) -> None:
        """Release the connection (drained if unread)."""
        self._response.drain_conn()
        self._response.release_conn()
