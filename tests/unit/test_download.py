"""The download loop (`_images._Download`) on scripted responses: the cases no HTTP
server in the tests produces (no Content-Length, a body longer than announced)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping

import pytest
from urllib3.exceptions import ProtocolError

from registry_sdk._images import READ_STEP, _Download
from registry_sdk.errors import DigestMismatch, InvalidResponse
from registry_sdk.name import Digest
from registry_sdk.progress import ProgressEvent


class Scripted:
    """What _Download reads of a urllib3 response: status, headers, read(n)."""

    def __init__(
        self,
        body: bytes,
        headers: Mapping[str, str],
        status: int = 200,
        *,
        break_after: int | None = None,
    ) -> None:
        self.status, self.headers = status, dict(headers)
        self._body, self._break_after = io.BytesIO(body), break_after

    def read(self, amt: int) -> bytes:
        if self._break_after is not None and self._body.tell() >= self._break_after:
            raise ProtocolError("connection broken")
        return self._body.read(amt)


DATA = bytes(range(256)) * 1000
REF = Digest.parse("localhost:5000/a@sha256:" + hashlib.sha256(DATA).hexdigest())


def run(*responses: Scripted) -> tuple[_Download, io.BytesIO, list[ProgressEvent], list[bool]]:
    out, events = io.BytesIO(), list[ProgressEvent]()
    download = _Download(REF, out, events.append)
    whole: list[bool] = []
    for resp in responses:
        download.start(resp)  # type: ignore[arg-type]
        whole.append(download.copy(resp))  # type: ignore[arg-type]
    return download, out, events, whole


def test_no_content_length_ends_at_the_body_end_and_reports_the_total() -> None:
    download, out, events, whole = run(Scripted(DATA, {}))
    assert whole == [True]
    assert download.finish().size == len(DATA)
    assert out.getvalue() == DATA
    assert [e.total for e in events[:-1]] == [None] * (len(events) - 1)
    assert (events[-1].done, events[-1].total) == (len(DATA), len(DATA))


def test_broken_then_resumed_keeps_the_hash_state() -> None:
    cut = 3 * READ_STEP
    first = Scripted(DATA, {"Content-Length": str(len(DATA))}, break_after=cut)
    rest = Scripted(
        DATA[cut:], {"Content-Range": f"bytes {cut}-{len(DATA) - 1}/{len(DATA)}"}, status=206
    )
    download, out, _, whole = run(first, rest)
    assert whole == [False, True]
    assert download.finish().digest == REF.digest
    assert out.getvalue() == DATA


def test_a_200_to_a_range_starts_over() -> None:
    cut = 2 * READ_STEP
    first = Scripted(DATA, {"Content-Length": str(len(DATA))}, break_after=cut)
    again = Scripted(DATA, {"Content-Length": str(len(DATA))})
    download, out, events, _ = run(first, again)
    download.finish()
    assert out.getvalue() == DATA
    assert [e.done for e in events].count(0) == 2


def test_longer_than_announced_is_refused() -> None:
    resp = Scripted(
        DATA + b"extra", {"Content-Range": f"bytes 0-{len(DATA) - 1}/{len(DATA)}"}, status=206
    )
    with pytest.raises(InvalidResponse, match="longer than"):
        run(resp)


def test_wrong_bytes_are_a_digest_mismatch() -> None:
    download, _, _, _ = run(Scripted(DATA[::-1], {"Content-Length": str(len(DATA))}))
    with pytest.raises(DigestMismatch):
        download.finish()
