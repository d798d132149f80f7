"""Uploads through the fault proxy in front of the real registry: connections cut
mid-PATCH resume, a lost session starts again (or is a typed error for a one-shot
source), 429 with Retry-After, a registry refusing chunks, a lying Docker-Content-Digest."""

from __future__ import annotations

import hashlib
import os
import secrets
import time

import pytest

from registry_sdk import _push, _sources
from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import DigestMismatch, UploadError
from registry_sdk.models import OCI_MANIFEST, Descriptor, ImageManifest
from registry_sdk.name import Repository
from registry_sdk.progress import ProgressEvent
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]
MiB = 1024 * 1024
SESSION = "_state="  # every request on an upload URL (not the POST that opens it)
LOST = {"Content-Type": "application/json"}
LOST_BODY = b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown"}]}'


def setup(stack: Stack) -> tuple[Client, Repository, FaultProxy]:
    _, proxy, _, _ = stack
    client = Client(
        keychain=StaticKeychain({proxy.address: Basic("alice", USERS["alice"])}),
        insecure=[proxy.address],
    )
    repo = Repository.parse(f"{proxy.address}/alice/f{secrets.token_hex(4)}")
    client.blob_exists(repo.with_digest(sha(b"")))  # learn the challenge: no 401s later
    return client, repo, proxy


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_back(client: Client, repo: Repository, digest: str) -> bytes:
    with client.get_blob(repo.with_digest(digest)) as blob:
        return b"".join(blob)


def methods(proxy: FaultProxy) -> list[tuple[str, str]]:
    return [(m, f) for m, p, f in proxy.seen if "/blobs/" in p]


@pytest.mark.parametrize("kind", ["path", "iterable"])
def test_connection_cut_mid_patch_resumes(
    faulty_stack: Stack, tmp_path: os.PathLike[str], kind: str
) -> None:
    """The second PATCH is cut: GET on the session says where it stands, and the upload
    continues from there, even from a one-shot iterable (the chunk is still in hand)."""
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(3 * MiB + 17)
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as f:
        f.write(data)
    proxy.plan(Fault("delay", match=SESSION), Fault("reset", match=SESSION))
    source: _sources.BlobSource = path if kind == "path" else iter([data])
    desc = _push.push_blob(client, repo, source, chunk_size=MiB)
    assert desc.digest == sha(data)
    seen = [m for m, _ in methods(proxy)]
    assert seen.count("GET") == 1 and seen.count("POST") == 1
    assert seen.count("PATCH") == 5  # four chunks, one of them sent twice
    assert read_back(client, repo, desc.digest) == data


def test_streamed_patch_cut_resumes_from_the_session(
    faulty_stack: Stack, tmp_path: os.PathLike[str]
) -> None:
    """A file larger than a chunk goes in one streamed PATCH; cut, GET on the session
    says where it stands and the file is streamed again from there (read again)."""
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(_sources.CHUNK_SIZE + 3 * MiB + 5)
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as f:
        f.write(data)
    proxy.plan(Fault("reset", match=SESSION))
    before = len(methods(proxy))
    events: list[ProgressEvent] = []
    desc = _push.push_blob(client, repo, path, progress=events.append)
    assert (desc.digest, desc.size) == (sha(data), len(data))
    seen = [m for m, _ in methods(proxy)[before:]]
    assert seen == ["HEAD", "POST", "PATCH", "GET", "PATCH", "PUT"], seen
    assert events and events[-1].done == len(data)
    assert read_back(client, repo, desc.digest) == data


def test_streamed_patch_answered_401_asks_the_session_and_sends_again(
    faulty_stack: Stack, tmp_path: os.PathLike[str]
) -> None:
    """A streamed body is not re-sent by the transport after a 401 (a token expired
    mid-upload): GET on the session (which the transport can re-send with a fresh
    token) says where it stands, then the stream starts again from there."""
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(_sources.CHUNK_SIZE + 5)
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as f:
        f.write(data)
    proxy.plan(Fault("status", match=SESSION, status=401))
    before = len(methods(proxy))
    desc = _push.push_blob(client, repo, path)
    assert desc.digest == sha(data)
    seen = [m for m, _ in methods(proxy)[before:]]
    assert seen == ["HEAD", "POST", "PATCH", "GET", "PATCH", "PUT"], seen
    assert read_back(client, repo, desc.digest) == data


def test_streamed_patch_of_a_file_changed_since_hashed_is_never_committed(
    faulty_stack: Stack, tmp_path: os.PathLike[str]
) -> None:
    """The digest given is not the file's: the stream is sent, the check before the
    closing PUT fails, the session is cancelled."""
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(_sources.CHUNK_SIZE + 5)
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as f:
        f.write(data)
    before = len(methods(proxy))
    with pytest.raises(DigestMismatch):
        _push.push_blob(client, repo, path, digest=sha(data[:-1] + b"?"))
    assert [m for m, _ in methods(proxy)[before:]] == ["HEAD", "POST", "PATCH", "DELETE"]
    assert client.blob_exists(repo.with_digest(sha(data))) is None


def test_lost_session_starts_again_from_a_rereadable_source(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(2 * MiB + 1)
    proxy.plan(
        Fault("delay", match=SESSION),
        Fault("reset", match=SESSION),
        Fault("status", match=SESSION, status=404, headers=LOST, body=LOST_BODY),
    )
    desc = _push.push_blob(client, repo, data, chunk_size=MiB)
    assert desc.digest == sha(data)
    seen = [m for m, _ in methods(proxy)]
    assert seen.count("POST") == 2  # the blob started once more
    assert "DELETE" in seen  # the lost session was cancelled (best effort)
    assert read_back(client, repo, desc.digest) == data


def test_lost_session_of_a_one_shot_source_is_a_typed_error(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(2 * MiB + 1)
    proxy.plan(
        Fault("delay", match=SESSION),
        Fault("reset", match=SESSION),
        Fault("status", match=SESSION, status=404, headers=LOST, body=LOST_BODY),
    )
    with pytest.raises(UploadError) as info:
        _push.push_blob(client, repo, iter([data]), digest=sha(data), chunk_size=MiB)
    assert info.value.digest == sha(data)
    assert sha(data) in str(info.value) and info.value.repository == str(repo)
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert [m for m, _ in methods(proxy)].count("POST") == 1
    assert client.blob_exists(repo.with_digest(sha(data))) is None


def test_429_with_retry_after_during_upload(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(2 * MiB)
    proxy.plan(
        Fault("status", match="/blobs/uploads/", status=429, headers={"Retry-After": "1"}),
        Fault("status", match=SESSION, status=429, headers={"Retry-After": "1"}),
    )
    started = time.monotonic()
    desc = _push.push_blob(client, repo, data, chunk_size=MiB)
    assert time.monotonic() - started >= 2.0
    assert read_back(client, repo, desc.digest) == data
    seen = methods(proxy)
    assert ("POST", "status") in seen and ("PATCH", "status") in seen


def test_registry_refusing_chunks_gets_one_put(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(2 * MiB + 3)
    proxy.plan(Fault("status", match=SESSION, status=405))
    desc = _push.push_blob(client, repo, data, chunk_size=MiB)
    assert desc.digest == sha(data)
    assert [m for m, _ in methods(proxy) if m in ("PATCH", "PUT")] == ["PATCH", "PUT"]
    assert read_back(client, repo, desc.digest) == data


def test_registry_refusing_a_streamed_patch_gets_one_put(
    faulty_stack: Stack, tmp_path: os.PathLike[str]
) -> None:
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(_sources.CHUNK_SIZE + 3)
    path = os.path.join(tmp_path, "blob")
    with open(path, "wb") as f:
        f.write(data)
    proxy.plan(Fault("status", match=SESSION, status=405))
    desc = _push.push_blob(client, repo, path)
    assert desc.digest == sha(data)
    assert [m for m, _ in methods(proxy) if m in ("PATCH", "PUT")] == ["PATCH", "PUT"]
    assert read_back(client, repo, desc.digest) == data


def test_refused_chunks_without_a_digest_for_a_one_shot_source(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    proxy.plan(Fault("status", match=SESSION, status=405))
    with pytest.raises(UploadError) as info:
        _push.push_blob(client, repo, iter([os.urandom(2 * MiB)]), chunk_size=MiB)
    assert "digest" in str(info.value)
    assert methods(proxy)[-1][0] == "DELETE"


def test_cut_during_the_closing_put(faulty_stack: Stack) -> None:
    """The closing PUT is cut: the blob is asked for (or the PUT retried) and found."""
    client, repo, proxy = setup(faulty_stack)
    data = os.urandom(5000)
    proxy.plan(Fault("reset", match="digest="))
    desc = client.push_blob(repo, data)
    assert read_back(client, repo, desc.digest) == data


def test_lying_docker_content_digest_on_manifest_put(faulty_stack: Stack) -> None:
    client, repo, proxy = setup(faulty_stack)
    config = client.push_blob(repo, b"{}")
    model = ImageManifest(
        2, Descriptor("application/vnd.oci.empty.v1+json", config.digest, 2), (), OCI_MANIFEST
    )
    liar = sha(b"not what was sent")
    proxy.plan(
        Fault("status", match="/manifests/v1", status=201, headers={"Docker-Content-Digest": liar})
    )
    with pytest.raises(DigestMismatch) as info:
        client.put_manifest(repo.with_tag("v1"), model)
    assert info.value.actual == liar


@pytest.mark.parametrize("size", [10, 3 * MiB])
def test_upload_location_on_another_host_gets_no_credentials(
    faulty_stack: Stack, size: int
) -> None:
    """Rule 1: the session points at another host (a pre-signed URL): nothing carrying
    our credentials goes there, and no secret of its URL shows in the error."""
    client, repo, proxy = setup(faulty_stack)
    elsewhere = FaultProxy(("127.0.0.1", 9)).start()  # records, never forwards usefully
    try:
        target = f"http://localhost:{elsewhere.address.rpartition(':')[2]}/up?sig=SECRET-sig"
        proxy.plan(
            Fault("status", match="/blobs/uploads/", status=202, headers={"Location": target})
        )
        try:
            _push.push_blob(client, repo, os.urandom(size), chunk_size=MiB)
        except Exception as exc:  # noqa: BLE001 (the transport may refuse, or send bare)
            assert "SECRET" not in str(exc) and "SECRET" not in repr(exc.__dict__)
        assert elsewhere.authorized  # the transport sends there, bare
        assert not any(elsewhere.authorized)
    finally:
        elsewhere.stop()


def test_registry_that_deletes_tags(faulty_stack: Stack) -> None:
    """Where the registry accepts a tag delete (202), delete(tag) simply succeeds."""
    client, repo, proxy = setup(faulty_stack)
    proxy.plan(Fault("status", match="/manifests/v1", status=202))
    client.delete(repo.with_tag("v1"))
    assert [m for m, p, _ in proxy.seen if "/manifests/" in p] == ["DELETE"]
