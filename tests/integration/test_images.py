"""Images against real registries: platform selection, configs, verified downloads.

Client.get_image resolves real indexes pushed by tests/support/seed.py; get_config reads
real OCI and Docker configs; download_blob saves a real 32 MiB blob and resumes real
downloads cut by the fault proxy. Fakes appear only where a real registry cannot be
made to misbehave (wrong bytes, a wrong Content-Range), each saying so.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.cli import main
from registry_sdk.client import Client
from registry_sdk.errors import (
    DigestMismatch,
    InvalidPlatform,
    InvalidResponse,
    ManifestKindMismatch,
    NoMatchingPlatform,
    TransportError,
)
from registry_sdk.models import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    EMPTY_DESCRIPTOR,
    OCI_INDEX,
    OCI_MANIFEST,
    Platform,
)
from registry_sdk.name import Repository
from registry_sdk.progress import ProgressAction, ProgressEvent
from registry_sdk.transport import Transport
from tests.support.fake import FakeServer, Reply, Route, Seen
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry import RunningRegistry
from tests.support.seed import image, index, push_blob, push_manifest
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, TokenServer]
Faulty = tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer]
ALICE = Basic("alice", USERS["alice"])
AMD64 = {"architecture": "amd64", "os": "linux"}
ARM64 = {"architecture": "arm64", "os": "linux", "variant": "v8"}
MIB = 1024 * 1024


def writer(address: str) -> Transport:
    return Transport(address, ALICE, insecure=True)


def reader(address: str) -> Client:
    return Client(keychain=StaticKeychain({address: ALICE}), insecure=[address])


def config_of(platform: dict[str, str], **extra: object) -> dict[str, object]:
    return {**platform, "rootfs": {"type": "layers", "diff_ids": []}, **extra}


@pytest.fixture
def multi(token_stack: Stack) -> Iterator[tuple[Client, Repository, dict[str, str]]]:
    """alice/multi: `v1` an index of linux/amd64 and linux/arm64/v8 images (and a buildx
    attestation, which is no platform); `one` a one-platform index; `amd` the amd64 image."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/multi")
    amd, amd_body = image(t, repo, "amd", layer=b"amd", config=config_of(AMD64))
    arm, arm_body = image(t, repo, "arm", layer=b"arm", config=config_of(ARM64))
    unknown = {"architecture": "unknown", "os": "unknown"}
    index(
        t,
        repo,
        "v1",
        [(amd, len(amd_body)), (arm, len(arm_body)), (amd, len(amd_body))],
        platforms=[AMD64, ARM64, unknown],
    )
    index(
        t, repo, "one", [(arm, len(arm_body))], platforms=[ARM64], media_type=DOCKER_MANIFEST_LIST
    )
    with reader(reg.address) as client:
        yield client, repo, {"amd": amd, "arm": arm}


@pytest.mark.parametrize(
    ("wanted", "which"),
    [
        ("linux/amd64", "amd"),
        ("linux/x86_64", "amd"),
        (Platform("amd64", "linux"), "amd"),
        ("linux/arm64/v8", "arm"),
        ("linux/arm64", "arm"),
        ("linux/aarch64", "arm"),
        (Platform("arm64", "linux"), "arm"),
    ],
)
def test_index_resolved_by_platform(
    multi: tuple[Client, Repository, dict[str, str]], wanted: Platform | str, which: str
) -> None:
    """A real index of two platforms: each spelling of a platform picks its image,
    fetched by digest (never the index)."""
    client, repo, digests = multi
    found = client.get_image(repo.with_tag("v1"), platform=wanted)
    assert found.digest == digests[which]
    assert not found.is_index
    assert found.image.layers[0].size == 3


def test_no_platform_among_several_lists_them(
    multi: tuple[Client, Repository, dict[str, str]],
) -> None:
    """No platform and two candidates: NoMatchingPlatform listing both (the attestation
    is not a candidate); a platform that is not there lists what is."""
    client, repo, _ = multi
    with pytest.raises(NoMatchingPlatform) as info:
        client.get_image(f"{repo}:v1")
    assert info.value.wanted is None
    assert [str(p) for p in info.value.available] == ["linux/amd64", "linux/arm64"]
    assert "linux/amd64, linux/arm64" in str(info.value)
    assert info.value.digest == client.digest(f"{repo}:v1")
    assert isinstance(info.value, LookupError)
    for absent in ("linux/s390x", "linux/arm/v7", "windows/amd64"):
        with pytest.raises(NoMatchingPlatform) as info:
            client.get_image(f"{repo}:v1", platform=absent)
        assert info.value.wanted == Platform.parse(absent)
        assert len(info.value.available) == 2


def test_single_platform_index_and_plain_images(
    multi: tuple[Client, Repository, dict[str, str]],
) -> None:
    """A one-platform index needs no platform; an image is returned as is, and with a
    platform its config must say that platform."""
    client, repo, digests = multi
    assert client.get_image(f"{repo}:one").digest == digests["arm"]
    assert client.get_image(f"{repo}:amd").digest == digests["amd"]
    assert client.get_image(f"{repo}:amd", platform="linux/amd64").digest == digests["amd"]
    with pytest.raises(NoMatchingPlatform, match="is for linux/amd64, not linux/arm64") as info:
        client.get_image(f"{repo}:amd", platform="linux/arm64")
    assert info.value.available == (Platform("amd64", "linux"),)


def test_bad_platform_is_refused_before_any_request() -> None:
    """InvalidPlatform (a ValueError) comes from the argument, before any connection:
    nothing listens on this address."""
    client = Client(keychain=StaticKeychain({}))
    for bad in ("linux/*", "", "a/b/c/d"):
        with pytest.raises(InvalidPlatform):
            client.get_image("127.0.0.1:9/a:v1", platform=bad)
        with pytest.raises(ValueError, match="platform"):
            client.get_config("127.0.0.1:9/a:v1", platform=bad)


def test_nested_index_is_not_followed(token_stack: Stack) -> None:
    """One level: an index entry that is itself an index is no candidate, and one
    that claims to be an image but is an index is ManifestKindMismatch."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/nested")
    amd, amd_body = image(t, repo, "amd", config=config_of(AMD64))
    inner, inner_body = index(t, repo, "inner", [(amd, len(amd_body))])
    index(t, repo, "honest", [(inner, len(inner_body))], child_type=OCI_INDEX)
    index(t, repo, "lying", [(inner, len(inner_body))], child_type=OCI_MANIFEST)
    with reader(reg.address) as client:
        with pytest.raises(NoMatchingPlatform, match="no image of any platform"):
            client.get_image(f"{repo}:honest")
        with pytest.raises(ManifestKindMismatch):
            client.get_image(f"{repo}:lying", platform="linux/amd64")
        assert client.get_image(f"{repo}:inner").digest == amd


def test_malformed_child_digest_is_the_registrys_fault() -> None:
    """Fake server (a real registry refuses an index whose children it does not hold):
    a child digest that is not a digest is an InvalidResponse, never a bad-input error,
    and no request is built from it."""
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:../../v2/other",
                    "size": 1,
                    "platform": AMD64,
                }
            ],
        }
    ).encode()
    with FakeServer(fallback=lambda _: (200, {"Content-Type": OCI_INDEX}, body)) as front:
        client = Client(keychain=StaticKeychain({}), insecure=[front.address])
        with pytest.raises(InvalidResponse, match="invalid digest") as info:
            client.get_image(f"{front.address}/a:v1")
        assert not isinstance(info.value, ValueError)
        assert [s.path for s in front.seen] == ["/v2/a/manifests/v1"]


# -------------------------------------------------------------------------- configs


DOCKER_STYLE = {
    "architecture": "arm64",
    "variant": "v8",
    "os": "linux",
    "created": "2024-05-01T12:30:00.123456789Z",
    "author": "someone",
    "docker_version": "24.0.7",
    "container": "abc",  # Docker extras, ignored
    "container_config": {"Hostname": "abc", "Cmd": ["/bin/sh"]},
    "config": {
        "User": "1000:1000",
        "Env": ["PATH=/usr/bin", "A=b"],
        "Entrypoint": ["/entry"],
        "Cmd": ["serve", "--port", "80"],
        "WorkingDir": "/app",
        "Labels": {"org.opencontainers.image.title": "app"},
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
        "Volumes": {"/data": {}},
        "StopSignal": "SIGTERM",
        "Hostname": "",
        "OnBuild": None,
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
    "history": [
        {"created": "2024-05-01T12:00:00Z", "created_by": "ADD rootfs /"},
        {
            "created": "2024-05-01T12:30:00+02:00",
            "created_by": "CMD serve",
            "empty_layer": True,
            "comment": "buildkit",
        },
    ],
}
OCI_STYLE = {
    "architecture": "amd64",
    "os": "windows",
    "os.version": "10.0.17763.1879",
    "config": {"Cmd": ["cmd.exe"]},
    "rootfs": {"type": "layers", "diff_ids": []},
}


def test_config_docker_and_oci(token_stack: Stack) -> None:
    """Real configs, Docker's (with its extra fields) and OCI's, read into ImageConfig,
    directly and through an index by platform."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/configs")
    docker, docker_body = image(t, repo, "docker", media_type=DOCKER_MANIFEST, config=DOCKER_STYLE)
    oci, oci_body = image(t, repo, "oci", config=OCI_STYLE)
    index(
        t,
        repo,
        "both",
        [(docker, len(docker_body)), (oci, len(oci_body))],
        platforms=[
            ARM64,
            {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1879"},
        ],
    )
    with reader(reg.address) as client:
        assert json.loads(docker_body)["config"]["mediaType"] == DOCKER_CONFIG
        config = client.get_config(f"{repo}:docker")
        assert client.get_config(f"{repo}:both", platform="linux/arm64") == config
        assert str(config.platform) == "linux/arm64"
        assert config.created == datetime.datetime(
            2024, 5, 1, 12, 30, 0, 123456, tzinfo=datetime.UTC
        )
        assert config.author == "someone"
        assert config.config is not None
        run = config.config
        assert (run.user, run.env, run.entrypoint, run.cmd, run.working_dir) == (
            "1000:1000",
            ("PATH=/usr/bin", "A=b"),
            ("/entry",),
            ("serve", "--port", "80"),
            "/app",
        )
        assert run.labels == {"org.opencontainers.image.title": "app"}
        assert (run.exposed_ports, run.volumes, run.stop_signal) == (
            ("80/tcp", "443/tcp"),
            ("/data",),
            "SIGTERM",
        )
        assert config.rootfs.diff_ids == ("sha256:" + "1" * 64,)
        assert [h.created_by for h in config.history] == ["ADD rootfs /", "CMD serve"]
        assert config.history[1].empty_layer
        assert config.history[1].created is not None
        assert config.history[1].created.utcoffset() == datetime.timedelta(hours=2)

        windows = client.get_config(f"{repo}:both", platform="windows(10.0.17763)/amd64")
        assert client.get_config(f"{repo}:oci") == windows
        assert (windows.os, windows.os_version) == ("windows", "10.0.17763.1879")
        assert windows.config is not None
        assert windows.config.cmd == ("cmd.exe",)
        assert windows.config.entrypoint is None
        with pytest.raises(NoMatchingPlatform):
            client.get_config(f"{repo}:both")


def test_config_of_an_artifact_is_refused(token_stack: Stack) -> None:
    """A manifest whose config is the OCI empty descriptor is an artifact, not an image:
    a typed InvalidResponse that says so, before its config is fetched."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/artifact")
    push_blob(t, repo, [b"{}"])
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/example",
            "config": {
                "mediaType": EMPTY_DESCRIPTOR.media_type,
                "digest": EMPTY_DESCRIPTOR.digest,
                "size": 2,
            },
            "layers": [],
        }
    ).encode()
    push_manifest(t, repo, "v1", body, OCI_MANIFEST)
    with reader(reg.address) as client:
        with pytest.raises(InvalidResponse, match="not an image config"):
            client.get_config(f"{repo}:v1")
        with pytest.raises(InvalidResponse, match="not an image config"):
            client.get_image(f"{repo}:v1", platform="linux/amd64")


def _manifest_with_config(config: bytes, size: int | None = None) -> bytes:
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config) if size is None else size,
            },
            "layers": [],
        }
    ).encode()


def test_config_is_verified_and_capped() -> None:
    """Fake server (a real registry verifies what it stores, so it cannot serve a config
    that does not hash to its digest): wrong bytes are DigestMismatch; a config announced
    larger than 4 MiB is refused unread, and one sent larger is cut at 4 MiB."""
    good = json.dumps(config_of(AMD64)).encode()
    manifest = _manifest_with_config(good)
    config_path = "/v2/a/blobs/sha256:" + hashlib.sha256(good).hexdigest()
    served = {"config": b'{"architecture":"arm64","os":"linux"}'}
    oci = {"Content-Type": OCI_MANIFEST}
    routes: dict[tuple[str, str], Route] = {
        ("GET", "/v2/a/manifests/v1"): lambda _: (200, oci, manifest),
        ("GET", "/v2/a/manifests/big"): lambda _: (200, oci, _manifest_with_config(good, 5 * MIB)),
        ("GET", config_path): lambda _: (200, {}, served["config"]),
    }
    with FakeServer(routes) as front:
        client = Client(keychain=StaticKeychain({}), insecure=[front.address])
        with pytest.raises(DigestMismatch, match="image config"):
            client.get_config(f"{front.address}/a:v1")
        with pytest.raises(InvalidResponse, match="larger than"):
            client.get_config(f"{front.address}/a:big")
        assert not any(s.path == config_path for s in front.seen[-1:])
        served["config"] = b" " * (4 * MIB + 1)
        with pytest.raises(InvalidResponse, match="larger than"):
            client.get_config(f"{front.address}/a:v1")
        served["config"] = good
        assert str(client.get_config(f"{front.address}/a:v1").platform) == "linux/amd64"


# ------------------------------------------------------------------------ downloads


def _check_progress(events: list[ProgressEvent], digest: str, size: int) -> None:
    assert events
    assert all(e.digest == digest and e.action is ProgressAction.DOWNLOAD for e in events)
    dones = [e.done for e in events]
    assert dones == sorted(dones)
    assert (events[-1].done, events[-1].total) == (size, size)


def _blob(size: int, seed: bytes) -> bytes:
    return hashlib.sha256(seed).digest() * (size // 32) + b"x" * (size % 32)


def test_download_32_mib_verified_with_progress(token_stack: Stack, tmp_path: Path) -> None:
    """A real 32 MiB blob lands in the file whole, with progress up to its size, and
    nothing else is left in the directory."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/big")
    data = _blob(32 * MIB, b"big")
    digest, size = push_blob(t, repo, [data[i : i + 8 * MIB] for i in range(0, len(data), 8 * MIB)])
    target = tmp_path / "layer.bin"
    target.write_bytes(b"old content, replaced")
    events: list[ProgressEvent] = []
    with reader(reg.address) as client:
        found = client.download_blob(f"{repo}@{digest}", target, progress=events.append)
    assert (found.digest, found.size) == (digest, size)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest.split(":")[1]
    assert os.listdir(tmp_path) == ["layer.bin"]
    _check_progress(events, digest, size)
    assert len(events) >= 32


def test_corrupted_blob_leaves_nothing(tmp_path: Path) -> None:
    """Fake server (a real registry verifies blobs on upload, so it never serves bytes
    that do not hash to their digest): wrong bytes are DigestMismatch, the target is not
    created (or an existing one not touched) and no temporary file remains."""
    right = _blob(3 * MIB, b"right")
    digest = "sha256:" + hashlib.sha256(right).hexdigest()
    wrong = _blob(3 * MIB, b"wrong")
    with FakeServer({("GET", f"/v2/a/blobs/{digest}"): lambda _: (200, {}, wrong)}) as front:
        client = Client(keychain=StaticKeychain({}), insecure=[front.address])
        with pytest.raises(DigestMismatch, match="blob"):
            client.download_blob(f"{front.address}/a@{digest}", tmp_path / "out")
        assert os.listdir(tmp_path) == []
        (tmp_path / "out").write_bytes(b"keep me")
        with pytest.raises(DigestMismatch):
            client.download_blob(f"{front.address}/a@{digest}", str(tmp_path / "out"))
        assert os.listdir(tmp_path) == ["out"]
        assert (tmp_path / "out").read_bytes() == b"keep me"


def test_interrupted_download_leaves_nothing(token_stack: Stack, tmp_path: Path) -> None:
    """A KeyboardInterrupt (any BaseException) mid-download, raised here from the
    progress callback, removes the temporary file."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/interrupt")
    digest, _ = push_blob(t, repo, [_blob(4 * MIB, b"interrupt")])

    def interrupt(event: ProgressEvent) -> None:
        if event.done > MIB:
            raise KeyboardInterrupt

    with reader(reg.address) as client, pytest.raises(KeyboardInterrupt):
        client.download_blob(f"{repo}@{digest}", tmp_path / "out", progress=interrupt)
    assert os.listdir(tmp_path) == []


def test_blob_reader_and_download_agree(tmp_path: Path) -> None:
    """Two implementations of one rule (BlobReader for get_blob, the download loop):
    on the same bytes served, both accept the right blob and raise DigestMismatch on
    wrong bytes. Fake server: a real registry never serves wrong bytes."""
    right = b"right bytes" * 1000
    digest = "sha256:" + hashlib.sha256(right).hexdigest()
    for body, error in ((right, None), (right[:-1] + b"X", DigestMismatch)):

        def serve(_: Seen, body: bytes = body) -> Reply:
            return 200, {}, body

        with FakeServer({("GET", f"/v2/a/blobs/{digest}"): serve}) as front:
            client = Client(keychain=StaticKeychain({}), insecure=[front.address])
            ref = f"{front.address}/a@{digest}"
            outcomes: list[type[BaseException] | None] = []
            try:
                with client.get_blob(ref) as blob:
                    b"".join(blob)
                outcomes.append(None)
            except DigestMismatch as exc:
                outcomes.append(type(exc))
            try:
                client.download_blob(ref, tmp_path / "out")
                outcomes.append(None)
            except DigestMismatch as exc:
                outcomes.append(type(exc))
            assert outcomes == [error, error]


@pytest.fixture
def big_behind_proxy(faulty_stack: Faulty) -> tuple[Client, FaultProxy, str, bytes]:
    """An 8 MiB blob in the real registry, read through the fault proxy (with a pull
    token already cached, so that faults hit only the downloads' GETs)."""
    _, proxy, _, _ = faulty_stack
    repo = Repository.parse(f"{proxy.address}/alice/resume")
    data = _blob(8 * MIB, b"resume")
    digest, _ = push_blob(writer(proxy.address), repo, [data])
    client = reader(proxy.address)
    with client.get_blob(f"{repo}@{digest}") as blob:
        blob.read(1)
    proxy.plan()
    return client, proxy, f"{repo}@{digest}", data


@pytest.mark.parametrize("kind", ["truncate", "reset_after_headers"])
def test_broken_download_is_resumed_by_range(
    big_behind_proxy: tuple[Client, FaultProxy, str, bytes], tmp_path: Path, kind: str
) -> None:
    """The proxy cuts the body at 3 MiB + 7 (an orderly close, or a reset); the download
    resumes with Range from what it has, the file is whole and verified, and progress
    never goes back (a restart from zero would)."""
    client, proxy, ref, data = big_behind_proxy
    proxy.plan(Fault(kind, match="/blobs/sha256:", at=3 * MIB + 7))
    events: list[ProgressEvent] = []
    found = client.download_blob(ref, tmp_path / "out", progress=events.append)
    assert (tmp_path / "out").read_bytes() == data
    assert found.size == len(data)
    blob_gets = [s for s in proxy.seen if "/blobs/" in s[1] and s[0] == "GET"]
    assert [s[2] for s in blob_gets] == [kind, ""]
    _check_progress(events, found.digest, len(data))  # monotonic: never started over
    resumed_at = [e.done for e in events if e.done and e.done < len(data)]
    assert len(resumed_at) > len(set(resumed_at))  # the second response starts where we were
    assert os.listdir(tmp_path) == ["out"]


def test_registry_ignoring_range_restarts(
    big_behind_proxy: tuple[Client, FaultProxy, str, bytes], tmp_path: Path
) -> None:
    """Cut once, then the Range header dropped on the way (a 200 with the whole blob):
    the download starts over from zero and still ends verified."""
    client, proxy, ref, data = big_behind_proxy
    proxy.plan(
        Fault("truncate", match="/blobs/sha256:", at=MIB), Fault("no_range", match="/blobs/sha256:")
    )
    events: list[ProgressEvent] = []
    client.download_blob(ref, tmp_path / "out", progress=events.append)
    assert (tmp_path / "out").read_bytes() == data
    assert events[-1].done == len(data)


def test_resumes_are_bounded(
    big_behind_proxy: tuple[Client, FaultProxy, str, bytes], tmp_path: Path
) -> None:
    """A connection that keeps breaking: 1 + 5 requests, then TransportError; no file."""
    client, proxy, ref, _ = big_behind_proxy
    proxy.plan(Fault("truncate", match="/blobs/sha256:", at=100_000, times=99))
    with pytest.raises(TransportError, match="5 resumes"):
        client.download_blob(ref, tmp_path / "out")
    assert len([s for s in proxy.seen if "/blobs/" in s[1] and s[2]]) == 6
    assert os.listdir(tmp_path) == []


def test_wrong_content_range_is_refused(tmp_path: Path) -> None:
    """Fake server behind the fault proxy (a real registry answers ranges correctly):
    after a cut, a 206 whose Content-Range does not start where the download stopped
    is an InvalidResponse, and so is a blob whose size changes between requests."""
    data = _blob(2 * MIB, b"range")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    answer = {"range": "bytes 0-{end}/{size}", "size": len(data)}

    def blob(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if "Range" not in seen.headers:
            return 200, {}, data
        size = answer["size"]
        assert isinstance(size, int)
        start = int(seen.headers["Range"].removeprefix("bytes=").rstrip("-"))
        text = str(answer["range"]).format(end=size - 1, size=size, start=start)
        return 206, {"Content-Range": text}, data[start:size]

    with FakeServer({("GET", f"/v2/a/blobs/{digest}"): blob}) as fake:
        proxy = FaultProxy(("127.0.0.1", int(fake.address.split(":")[1]))).start()
        try:
            client = Client(keychain=StaticKeychain({}), insecure=[proxy.address])
            ref = f"{proxy.address}/a@{digest}"
            for content_range, size, message in (
                ("bytes 0-{end}/{size}", len(data), "Content-Range"),
                ("bytes {start}-{end}/{size}", len(data) + 1, "changed size"),
                ("items {start}-{end}/{size}", len(data), "Content-Range"),
            ):
                answer.update(range=content_range, size=size)
                proxy.plan(Fault("truncate", match="/blobs/", at=MIB))
                with pytest.raises(InvalidResponse, match=message):
                    client.download_blob(ref, tmp_path / "out")
                assert os.listdir(tmp_path) == []
            answer.update(range="bytes {start}-{end}/*", size=len(data))
            proxy.plan(Fault("truncate", match="/blobs/", at=MIB))
            events: list[ProgressEvent] = []
            client.download_blob(ref, tmp_path / "out", progress=events.append)
            assert (tmp_path / "out").read_bytes() == data
            assert events[-1].done == len(data)
        finally:
            proxy.stop()


# ----------------------------------------------------------------------------- CLI


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def cli_home(token_stack: Stack, home: Path) -> Path:
    """A HOME whose docker config.json holds alice's credentials for the registry."""
    reg, _ = token_stack
    tmp_path = home
    auth = base64.b64encode(f"alice:{USERS['alice']}".encode()).decode()
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(
        json.dumps({"auths": {reg.address: {"auth": auth}}})
    )
    return tmp_path


def test_cli_config_manifest_platform_and_blob(
    multi: tuple[Client, Repository, dict[str, str]],
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`config` prints the config (pretty, or --json with its platform), `manifest
    --platform` resolves the index, `blob -o` draws a bar on a terminal and saves the
    verified blob."""
    _, repo, digests = multi
    assert main(["config", f"{repo}:v1", "--platform", "linux/arm64", "--insecure"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{\n  ")
    assert json.loads(out) == {**ARM64, "rootfs": {"type": "layers", "diff_ids": []}}
    assert main(["config", f"{repo}:amd", "--insecure", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["platform"] == "linux/amd64"

    assert (
        main(["manifest", f"{repo}:v1", "--platform", "linux/amd64", "--insecure", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["digest"] == digests["amd"]
    assert main(["manifest", f"{repo}:v1", "--insecure", "--json"]) == 0
    assert "manifests" in json.loads(capsys.readouterr().out)["manifest"]

    data = _blob(3 * MIB, b"cli")
    digest, _ = push_blob(writer(repo.registry.name), repo, [data])
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    target = cli_home / "blob.bin"
    assert main(["blob", f"{repo}@{digest}", "-o", str(target), "--insecure", "--json"]) == 0
    assert target.read_bytes() == data
    assert json.loads(capsys.readouterr().out) == {
        "digest": digest,
        "size": len(data),
        "path": str(target),
    }
    drawn = terminal.getvalue()
    assert "\r[" in drawn
    assert drawn.rstrip("\n").endswith(f"100% {len(data):,}/{len(data):,} bytes")


def test_cli_platform_errors(
    multi: tuple[Client, Repository, dict[str, str]],
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad platform is bad input (2); no platform among several is input needed (2),
    naming them; a platform the index lacks is not found (4). One line each."""
    _, repo, _ = multi
    cases = [
        (["config", f"{repo}:v1", "--platform", "linux/*"], 2, "platform"),
        (["manifest", f"{repo}:v1", "--platform", "a/b/c/d"], 2, "platform"),
        (["config", f"{repo}:v1"], 2, "linux/amd64, linux/arm64"),
        (["manifest", f"{repo}:v1", "--platform", "linux/s390x"], 4, "linux/s390x"),
    ]
    for argv, code, mentioned in cases:
        assert main([*argv, "--insecure"]) == code, argv
        err = capsys.readouterr().err
        assert err.startswith("registry-sdk: ")
        assert err.count("\n") == 1
        assert mentioned in err


def test_cookbook_images_block_runs(
    token_stack: Stack,
    cli_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The Python block of the cookbook's "Images, platforms, configs" section runs
    against a real two-platform index, with credentials from docker's config.json."""
    reg, _ = token_stack
    t, repo = writer(reg.address), Repository.parse(f"{reg.address}/alice/multiarch")
    amd, amd_body = image(t, repo, "amd", layer=b"amd layer", config=config_of(AMD64))
    arm, arm_body = image(
        t, repo, "arm", layer=b"arm layer", config=config_of(ARM64, config={"Cmd": ["serve"]})
    )
    index(t, repo, "v1", [(amd, len(amd_body)), (arm, len(arm_body))], platforms=[AMD64, ARM64])
    text = (Path(__file__).resolve().parents[2] / "docs" / "cookbook.md").read_text()
    section = text.split("## Images, platforms, configs", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.chdir(cli_home)
    code = block.replace('address = "localhost:5000"', f'address = "{reg.address}"')
    exec(compile(code, "docs/cookbook.md", "exec"), {})  # noqa: S102
    assert (cli_home / "layer.tar").read_bytes() == b"arm layer"
    out = capsys.readouterr().out
    assert "choose one of linux/amd64, linux/arm64" in out
    assert "linux/arm64 None ('serve',)" in out
    assert "9 of 9 bytes" in out


def test_iter_catalog_is_lazy(open_registry: RunningRegistry) -> None:
    """The real registry's catalog, 2 names a page: nothing is asked before the first
    name is wanted, and each page only when the names before it are used up."""
    reg = open_registry
    t = Transport(reg.address, insecure=True)
    for i in range(5):
        image(t, Repository.parse(f"{reg.address}/lazy/r{i}"), "v1")
    client = Client(keychain=StaticKeychain({}), insecure=[reg.address])

    def catalog_gets() -> int:
        return sum(
            1
            for method, path, _ in reg.requests()
            if method == "GET" and path.startswith("/v2/_catalog")
        )

    before = catalog_gets()
    names = client.iter_catalog(reg.address, page_size=2)
    assert catalog_gets() == before
    first = [next(names), next(names)]
    assert catalog_gets() == before + 1
    third = next(names)
    assert catalog_gets() == before + 2
    assert len({*first, third}) == 3
