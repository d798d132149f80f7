"""Blob writes against the real registry (distribution 2.8, token mode): every source
kind, monolithic and chunked, skip, mount, digest mismatches, deletes, request counts."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import secrets
import tracemalloc
from pathlib import Path

import pytest

from registry_sdk import _push, _sources, _upload
from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import DigestMismatch, RegistryResponseError
from registry_sdk.name import Digest, Repository
from registry_sdk.progress import ProgressAction, ProgressEvent
from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, TokenServer]
MiB = 1024 * 1024


def client_for(reg: RunningRegistry, user: str = "alice") -> Client:
    return Client(
        keychain=StaticKeychain({reg.address: Basic(user, USERS[user])}), insecure=[reg.address]
    )


def fresh(reg: RunningRegistry, ns: str = "alice") -> Repository:
    return Repository.parse(f"{reg.address}/{ns}/w{secrets.token_hex(4)}")


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_back(client: Client, repo: Repository, digest: str) -> bytes:
    with client.get_blob(repo.with_digest(digest)) as blob:
        return b"".join(blob)


def upload_requests(reg: RunningRegistry, path: str) -> list[tuple[str, str, int]]:
    return [(m, p, s) for m, p, s in reg.requests() if p.startswith(f"/v2/{path}/")]


class OneShot(io.RawIOBase):
    """A binary file that cannot seek (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer)


def test_one_byte_and_empty_blobs(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    for data in (b"x", b""):
        desc = client.push_blob(repo, data)
        assert (desc.digest, desc.size) == (sha(data), len(data))
        assert read_back(client, repo, desc.digest) == data
        assert client.blob_exists(repo.with_digest(desc.digest)) is not None


@pytest.mark.parametrize("kind", ["bytes", "path", "str-path", "file", "pipe", "iterable"])
def test_every_source_kind_chunked(token_stack: Stack, tmp_path: Path, kind: str) -> None:
    """Each source kind, sent in PATCH chunks of 1 MiB (3.5 chunks), reads back exactly."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    data = os.urandom(3 * MiB + MiB // 2)
    path = tmp_path / "blob"
    path.write_bytes(data)
    source: _sources.BlobSource
    if kind == "bytes":
        source = data
    elif kind == "path":
        source = path
    elif kind == "str-path":
        source = str(path)
    elif kind == "file":
        source = io.BytesIO(b"ignored prefix" + data)
        source.seek(len(b"ignored prefix"))  # a seekable file is read from where it stands
    elif kind == "pipe":
        source = OneShot(data)
    else:
        source = (data[i : i + 100_000] for i in range(0, len(data), 100_000))
    events: list[ProgressEvent] = []
    desc = _push.push_blob(client, repo, source, progress=events.append, chunk_size=MiB)
    assert (desc.digest, desc.size) == (sha(data), len(data))
    assert read_back(client, repo, desc.digest) == data
    assert events[-1].done == len(data)
    assert all(e.action == ProgressAction.UPLOAD for e in events)
    patches = [r for r in upload_requests(reg, repo.path) if r[0] == "PATCH"]
    assert len(patches) == 4


def test_small_blob_is_one_post_and_one_put(token_stack: Stack) -> None:
    """A one-shot iterable (digest unknown): no HEAD, one POST, one PUT."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    client.push_blob(repo, iter([b"abc", b"def"]))
    methods = [m for m, _, s in upload_requests(reg, repo.path) if s != 401]
    assert methods == ["POST", "PUT"]


def test_existing_blob_costs_one_head(token_stack: Stack) -> None:
    reg, server = token_stack
    client, repo = client_for(reg), fresh(reg)
    data = os.urandom(1000)
    client.push_blob(repo, data)
    before = len(reg.requests())
    server.log.clear()
    events: list[ProgressEvent] = []
    desc = client.push_blob(repo, data, progress=events.append)
    assert desc.digest == sha(data) and desc.size == 1000
    assert [m for m, _, _ in reg.requests()[before:]] == ["HEAD"]
    assert server.count() == 0  # the token of the first push is reused
    assert events == [ProgressEvent(sha(data), 1000, 1000, ProgressAction.SKIP)]


def test_mount_costs_one_post(token_stack: Stack) -> None:
    """alice mounts from alice/a into alice/b: HEAD (absent), one POST ?mount -> 201."""
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    data = os.urandom(5000)
    client.push_blob(src, data)
    before = len(reg.requests())
    events: list[ProgressEvent] = []
    desc = client.push_blob(dst, data, mount_from=[src], progress=events.append)
    assert desc.digest == sha(data)
    later = [(m, s) for m, _, s in reg.requests()[before:] if s != 401]
    assert later == [("HEAD", 404), ("POST", 201)]
    assert events[-1].action == ProgressAction.MOUNT
    assert read_back(client, dst, desc.digest) == data


def test_mount_blob_from_other_namespace(token_stack: Stack) -> None:
    """bob may push bob/* and shared/*: mount shared -> bob needs pull on the source;
    the mount is one POST and one token exchange."""
    reg, server = token_stack
    bob = client_for(reg, "bob")
    src, dst = fresh(reg, "shared"), fresh(reg, "bob")
    desc = bob.push_blob(src, b"shared layer")
    before = len(reg.requests())
    server.log.clear()
    assert bob.mount_blob(src.with_digest(desc.digest), dst) is True
    assert [(m, s) for m, _, s in reg.requests()[before:] if s != 401] == [("POST", 201)]
    # one exchange for the new scope set: pull,push on the target and pull on the source
    assert [r.scopes for r in server.log] == [
        (f"repository:{dst.path}:pull,push", f"repository:{src.path}:pull")
    ]
    assert read_back(bob, dst, desc.digest) == b"shared layer"


def test_refused_mount_is_cancelled_and_false(token_stack: Stack) -> None:
    """A blob missing from the source: the registry opens a session; it is cancelled."""
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    missing = sha(b"never pushed")
    assert client.mount_blob(src.with_digest(missing), dst) is False
    methods = [(m, s) for m, p, s in reg.requests() if dst.path in p and s != 401]
    assert methods == [("POST", 202), ("DELETE", 204)]


def test_push_with_failed_mount_uploads_into_that_session(token_stack: Stack) -> None:
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    data = os.urandom(2000)
    desc = client.push_blob(dst, data, mount_from=[src])
    methods = [(m, s) for m, p, s in reg.requests() if dst.path in p and s != 401]
    assert methods == [("HEAD", 404), ("POST", 202), ("PUT", 201)]
    assert read_back(client, dst, desc.digest) == data


def test_given_digest_that_lies_is_refused_before_sending(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    with pytest.raises(DigestMismatch) as info:
        client.push_blob(repo, b"real bytes", digest=sha(b"other bytes"))
    assert info.value.expected == sha(b"other bytes")
    assert info.value.actual == sha(b"real bytes")
    assert upload_requests(reg, repo.path) == []
    pickle.loads(pickle.dumps(info.value))


def test_lying_digest_on_a_stream_cancels_the_session(token_stack: Stack) -> None:
    """A one-shot stream with a wrong digest: HEAD, POST, PATCHes, then DELETE, no PUT."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    data = os.urandom(2 * MiB + 5)
    wrong = sha(b"something else")
    with pytest.raises(DigestMismatch) as info:
        _push.push_blob(client, repo, iter([data]), digest=wrong, chunk_size=MiB)
    assert info.value.expected == wrong and info.value.actual == sha(data)
    methods = [m for m, _, s in upload_requests(reg, repo.path) if s != 401]
    assert methods == ["HEAD", "POST", "PATCH", "PATCH", "PATCH", "DELETE"]
    assert client.blob_exists(repo.with_digest(wrong)) is None
    assert client.blob_exists(repo.with_digest(sha(data))) is None


def test_wrong_size_is_refused(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    data = b"twelve bytes"
    with pytest.raises(DigestMismatch):
        client.push_blob(repo, iter([data]), digest=sha(data), size=13)
    assert client.blob_exists(repo.with_digest(sha(data))) is None


def test_denied_push_is_typed_and_creates_nothing(token_stack: Stack) -> None:
    """bob may not push to alice/*: a typed error, and no blob appears."""
    reg, _ = token_stack
    repo = fresh(reg)
    with pytest.raises(RegistryResponseError) as info:
        client_for(reg, "bob").push_blob(repo, b"intruder")
    assert info.value.status in (401, 403)
    assert client_for(reg).blob_exists(repo.with_digest(sha(b"intruder"))) is None


def test_delete_blob(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    desc = client.push_blob(repo, b"short-lived")
    ref = repo.with_digest(desc.digest)
    client.delete_blob(ref)
    assert client.blob_exists(ref) is None
    with pytest.raises(RegistryResponseError) as info:
        client.delete_blob(ref)
    assert info.value.status == 404


def test_first_push_costs_one_token_exchange_per_scope_set(token_stack: Stack) -> None:
    reg, server = token_stack
    client, repo = client_for(reg), fresh(reg)
    client.push_blob(repo, os.urandom(3000))
    scopes = [r.scopes for r in server.log]
    assert len(scopes) == len(set(scopes)) == 1, scopes


def test_path_blob_of_64_mib_has_flat_memory(token_stack: Stack, tmp_path: Path) -> None:
    """64 MiB from a file: hashed first, then HEAD, POST, one streamed PATCH, PUT; memory
    flat."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    path = tmp_path / "big"
    h = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(64):
            piece = os.urandom(MiB)
            h.update(piece)
            f.write(piece)
    tracemalloc.start()
    desc = client.push_blob(repo, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert desc.digest == "sha256:" + h.hexdigest() and desc.size == 64 * MiB
    assert peak < 4 * _sources.CHUNK_SIZE, peak
    methods = [m for m, _, s in upload_requests(reg, repo.path) if s != 401]
    assert methods == ["HEAD", "POST", "PATCH", "PUT"]


def test_blob_exists_for_missing_digest(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    assert client.blob_exists(Digest.parse(f"{repo}@{sha(b'nope')}")) is None


@pytest.mark.parametrize("mib", [16, 256])
def test_stream_up_to_256_mib_has_flat_memory(token_stack: Stack, mib: int) -> None:
    """A one-shot stream of 16 and 256 MiB in 1 MiB pieces: peak memory is bounded by
    the chunk size, the same for both sizes."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    block = os.urandom(MiB)
    h = hashlib.sha256()
    for _ in range(mib):
        h.update(block)
    tracemalloc.start()
    desc = client.push_blob(repo, (block for _ in range(mib)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (desc.digest, desc.size) == ("sha256:" + h.hexdigest(), mib * MiB)
    # About four chunks whatever the size: one being sent, one queued, one assembled.
    assert peak < 5 * _sources.CHUNK_SIZE, peak
    assert client.blob_exists(repo.with_digest(desc.digest)) == desc


def test_chunk_min_length_is_honoured(token_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry asking for 2 MiB chunks (OCI-Chunk-Min-Length) gets them, not 1 MiB."""
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)
    real = _upload._Upload.learn_minimum

    def asks_for_2_mib(self: _upload._Upload, resp: object) -> None:
        real(self, resp)  # type: ignore[arg-type]
        self.min_chunk = 2 * MiB

    monkeypatch.setattr(_upload._Upload, "learn_minimum", asks_for_2_mib)
    data = os.urandom(5 * MiB)
    desc = _push.push_blob(client, repo, data, chunk_size=MiB)
    assert read_back(client, repo, desc.digest) == data
    patches = [m for m, _, _ in upload_requests(reg, repo.path) if m == "PATCH"]
    assert len(patches) == 3


def test_a_failing_progress_callback_cancels_the_session(token_stack: Stack) -> None:
    reg, _ = token_stack
    client, repo = client_for(reg), fresh(reg)

    def explode(event: ProgressEvent) -> None:
        raise RuntimeError("stop here")

    data = os.urandom(3 * MiB)
    with pytest.raises(RuntimeError, match="stop here"):
        _push.push_blob(client, repo, data, progress=explode, chunk_size=MiB)
    methods = [m for m, _, s in upload_requests(reg, repo.path) if s != 401]
    assert methods == ["HEAD", "POST", "PATCH", "DELETE"]
    assert client.blob_exists(repo.with_digest(sha(data))) is None


def test_a_refused_mount_source_falls_back_to_upload(token_stack: Stack) -> None:
    """alice may not pull bob/*: the mount is refused, and the blob is uploaded instead;
    mount_blob alone reports the refusal as a typed error."""
    reg, _ = token_stack
    bob_repo = fresh(reg, "bob")
    data = os.urandom(4000)
    client_for(reg, "bob").push_blob(bob_repo, data)
    alice, repo = client_for(reg), fresh(reg)
    desc = alice.push_blob(repo, data, mount_from=[bob_repo])
    assert read_back(alice, repo, desc.digest) == data
    with pytest.raises(RegistryResponseError) as info:
        alice.mount_blob(bob_repo.with_digest(desc.digest), fresh(reg))
    assert info.value.status in (401, 403)
