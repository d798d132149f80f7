"""The upload session: its location, PATCH and PUT, where it stands, resume and cancel.

Speaks the OCI distribution spec's push protocol to one session (see `_push` for the
whole story): a relative or absolute `Location` (always the newest one; another host
gets no credentials), `Content-Range` chunks, `GET` for the `Range` after a failure, the
closing `PUT ?digest=`, and `DELETE` to cancel an upload that cannot finish (rule 8).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from registry_sdk._errors import (
    DigestMismatch,
    ErrorCode,
    RegistryResponseError,
    TransportError,
)
from registry_sdk._sources import (
    _Chunks,
    _Source,
)
from registry_sdk.errors import check_error
from registry_sdk.models import Descriptor
from registry_sdk.name import Repository
from registry_sdk.progress import Progress, ProgressAction, ProgressEvent
from registry_sdk.scope import Scope
from registry_sdk.transport import Transport

if TYPE_CHECKING:
    import urllib3


__all__ = ["CHUNK_ATTEMPTS", "MAX_WAIT", "blob_exists_in", "resolve_location"]

log = logging.getLogger("registry_sdk.push")

#: Attempts at one chunk (resume after a failure) before the upload is given up.
CHUNK_ATTEMPTS = 4
#: Longest wait honoured from a Retry-After header, and the cap of the backoff.
MAX_WAIT = 30.0
_OCTET = "application/octet-stream"
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


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


def _request(
    t: Transport,
    method: str,
    url: str,
    *,
    scopes: Collection[Scope],
    headers: dict[str, str] | None = None,
    body: bytes | Iterator[bytes] | None = None,
) -> urllib3.BaseHTTPResponse:
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
        seconds = min(MAX_WAIT, 0.25 * 2**attempt)
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

    def __init__(
        self,
        t: Transport,
        repo: Repository,
        url: str,
        *,
        scopes: Collection[Scope],
        progress: Progress | None = None,
        digest: str | None = None,
        total: int | None = None,
    ) -> None:
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
            headers = {
                "Content-Type": _OCTET,
                "Content-Length": str(len(data)),
                "Content-Range": f"{self.offset}-{self.offset + len(data) - 1}",
            }
            resp: urllib3.BaseHTTPResponse | None
            try:
                resp = _request(
                    self.t, "PATCH", url, headers=headers, body=data, scopes=self.scopes
                )
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
                raise _SessionLost(f"the registry holds {held} bytes, outside the chunk in hand")
            self.offset = held
            data = chunk[held - start :]
            if not data:
                return
        raise _SessionLost(f"a chunk failed {CHUNK_ATTEMPTS} times")

    def _refusal(self, resp: urllib3.BaseHTTPResponse, *, first: bool) -> None:
        """Raise for a PATCH answer that no resume can fix."""
        error = _codes(resp)  # reads the (capped) error body
        resp.drain_conn()
        if (
            first
            and resp.status in (400, 405, 501)
            and (resp.status != 400 or ErrorCode.UNSUPPORTED in error.codes)
        ):
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

    def close(
        self, digest: str, body: bytes | Iterator[bytes] = b"", *, length: int | None = None
    ) -> Descriptor:
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
            resp = _request(self.t, "PUT", url, headers=headers, body=body, scopes=self.scopes)
        except TransportError:
            resp = None
        if resp is None or resp.status in _RETRY_STATUSES:
            # The PUT may have landed before the connection broke: ask for the blob.
            if resp is not None:
                resp.drain_conn()
            found = blob_exists_in(self.t, self.repo, digest, self.scopes)
            if found is not None:
                return found
            raise _SessionLost(
                "the closing PUT failed" + (f" (status {resp.status})" if resp is not None else "")
            )
        if resp.status == 404:
            error = _codes(resp)
            resp.drain_conn()
            raise _SessionLost(f"the registry lost the session ({', '.join(error.codes)})")
        resp.drain_conn()
        if resp.status not in (201, 204):
            raise _codes(resp)
        answered = resp.headers.get("Docker-Content-Digest")
        if (
            answered
            and answered.partition(":")[0] == digest.partition(":")[0]
            and (answered != digest)
        ):
            raise DigestMismatch(
                f"the registry stored blob {digest} as {answered}",
                expected=digest,
                actual=answered,
                what="blob",
            )
        self.offset += len(body) if isinstance(body, bytes) else (length or 0)
        return Descriptor(_OCTET, digest, self.offset)


def _streamed_put(
    up: _Upload, chunks: _Chunks, digest: str, *, size: int | None, source: _Source
) -> Descriptor:
    """The registry refused chunks: send the whole blob, streamed, in the closing PUT.

    The registry checks the digest in the URL against what arrives; ours is compared as
    well once it is sent.
    """

    def body() -> Iterator[bytes]:
        while (chunk := chunks.next()) is not None:
            yield chunk

    result = up.close(digest, body(), length=size if size is not None else source.length())
    if chunks.digest != digest:  # the registry should have refused it already
        raise DigestMismatch(
            expected=digest, actual=chunks.digest, what=f"blob {digest} ({source.describe()})"
        )
    return result


def blob_exists_in(
    t: Transport, repo: Repository, digest: str, scopes: Collection[Scope] = ()
) -> Descriptor | None:
    """HEAD the blob in *repo*: its descriptor, or None when the registry answers 404."""
    url = t.url(f"/v2/{repo.path}/blobs/{digest}")
    resp = t.request("HEAD", url, scopes=scopes)
    if resp.status == 404:
        return None
    t.check(resp, 200, method="HEAD", url=url)
    length = resp.headers.get("Content-Length", "")
    media_type = (resp.headers.get("Content-Type") or _OCTET).split(";", 1)[0].strip()
    return Descriptor(media_type or _OCTET, digest, int(length) if length.isdigit() else 0)
