"""`Client.copy` and `registry-sdk copy` against real registries (distribution 2.8 in
token mode): within one registry (mounts), across two (streamed), a filtered platform,
referrers, re-runs after completion and after an interruption; skopeo reads back what we
copied. Request counts come from the registries' access logs."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.cli import main
from registry_sdk.client import Client
from registry_sdk.errors import (
    DigestMismatch,
    InvalidPlatform,
    NoMatchingPlatform,
    UnsupportedOperation,
)
from registry_sdk.models import (
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    Platform,
)
from registry_sdk.name import Repository, Tag
from registry_sdk.progress import ProgressAction, ProgressEvent
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry import RunningRegistry, start_registry
from tests.support.seed import MULTIARCH, multiarch
from tests.support.token_server import USERS, TokenServer

from .test_write_blobs import client_for, fresh, sha
from .test_write_cli import creds

Stack = tuple[RunningRegistry, TokenServer]
EMPTY = Descriptor(
    "application/vnd.oci.empty.v1+json",
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    2,
)
PLATFORMS = MULTIARCH
CREDS = f"alice:{USERS['alice']}"


@pytest.fixture(scope="module")
def other_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second token-mode registry with its own token server (a copy's other end)."""
    root = tmp_path_factory.mktemp("copy-other")
    server = TokenServer(root / "auth").start()
    reg = start_registry(root / "registry", token=server.registry_config())
    yield reg, server
    reg.stop()
    server.stop()


def two_client(*regs: RunningRegistry) -> Client:
    return Client(
        keychain=StaticKeychain({r.address: Basic("alice", USERS["alice"]) for r in regs}),
        insecure=[r.address for r in regs],
    )


def dst_requests(
    reg: RunningRegistry, repo: Repository, since: int = 0
) -> list[tuple[str, str, int]]:
    return [r for r in reg.requests()[since:] if r[1].startswith(f"/v2/{repo.path}/")]


def blob_writes(requests: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    return [r for r in requests if "/blobs/uploads/" in r[1] and r[0] in ("PATCH", "PUT")]


def skopeo(*args: str) -> bytes:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True, timeout=120).stdout


def skopeo_reads(ref: str, tmp_path: Path) -> bytes:
    """skopeo's raw bytes of *ref*, after it copied every manifest and blob of it into an
    OCI layout (skopeo verifies each blob's digest as it reads it)."""
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "--creds", CREDS, f"docker://{ref}")
    layout = tmp_path / f"layout-{secrets.token_hex(3)}"
    skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        CREDS,
        f"docker://{ref}",
        f"oci:{layout}:x",
    )
    return raw


class Events:
    """A thread-safe progress sink."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            self.events.append(event)

    def actions(self) -> Counter[str]:
        finished = [
            e for e in self.events if e.action != ProgressAction.UPLOAD or e.done == e.total
        ]
        return Counter(str(e.action) for e in finished)


# ------------------------------------------------------------------ within one registry


def test_within_one_registry_mounts_every_blob(token_stack: Stack, tmp_path: Path) -> None:
    reg, server = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    digest, _ = multiarch(client, src)
    copier, events = client_for(reg), Events()
    since, tokens = len(reg.requests()), server.count()
    desc = copier.copy(src.with_tag("v1"), dst, progress=events)
    assert desc.digest == digest
    assert desc.media_type == OCI_INDEX
    requests = dst_requests(reg, dst, since)
    assert blob_writes(requests) == []  # zero blob bytes sent: every blob mounted
    mounts = [r for r in requests if r[0] == "POST"]
    assert len(mounts) == 8 and all(r[2] == 201 for r in mounts)
    assert Counter(r[0] for r in requests) == {"HEAD": 9, "POST": 8, "PUT": 3}
    assert server.count() - tokens <= 2  # the source's pull, the destination's one set
    assert events.actions() == {"mount": 8, "manifest": 3}
    raw = skopeo_reads(f"{dst}:v1", tmp_path)
    assert sha(raw) == digest


def test_a_digest_source_to_a_repository_keeps_the_digest_alone(token_stack: Stack) -> None:
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    digest, _ = multiarch(client, src)
    desc = client.copy(f"{src}@{digest}", str(dst))
    assert desc.digest == digest
    assert not [
        r
        for r in reg.requests()
        if r[0] == "PUT" and r[1].startswith(f"/v2/{dst.path}/manifests/") and "sha256:" not in r[1]
    ]  # no tag put
    assert client.get_manifest(dst.with_digest(digest)).digest == digest


# ---------------------------------------------------------------- across two registries


def test_across_two_registries_streams_and_skopeo_reads_it_back(
    token_stack: Stack, other_stack: Stack, tmp_path: Path
) -> None:
    reg, _ = token_stack
    other, other_tokens = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    digest, _ = multiarch(client, src, layer_size=3 * 1024 * 1024)
    dst = fresh(other)
    since, tokens = len(other.requests()), other_tokens.count()
    events = Events()
    desc = client.copy(src.with_tag("v1"), dst.with_tag("copied"), progress=events, concurrency=3)
    assert desc.digest == digest
    requests = dst_requests(other, dst, since)
    # per blob: HEAD, POST, one streamed PUT; then 2 children and the index
    # (the Client's first request to a registry learns its challenge: one 401)
    assert [r[2] for r in requests].count(401) == 1
    assert Counter(r[0] for r in requests if r[2] != 401) == {"HEAD": 9, "POST": 8, "PUT": 11}
    assert other_tokens.count() - tokens == 1  # one scope set for every request
    assert events.actions() == {"upload": 8, "manifest": 3}
    assert (
        client.get_manifest(dst.with_tag("copied")).raw
        == client.get_manifest(src.with_tag("v1")).raw
    )
    assert sha(skopeo_reads(f"{dst}:copied", tmp_path)) == digest


def test_a_filtered_platform_copies_only_its_blobs(token_stack: Stack, other_stack: Stack) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    digest, blobs = multiarch(client, src)
    dst = fresh(other)
    desc = client.copy(src.with_tag("v1"), dst, platforms=["linux/aarch64"])
    assert desc.digest != digest
    copied = client.get_manifest(dst.with_tag("v1"))
    assert copied.digest == desc.digest == sha(copied.raw)
    assert [str(c.platform) for c in copied.index.manifests] == ["linux/arm64"]
    for blob in blobs["linux/arm64"]:
        assert client.blob_exists(dst.with_digest(blob)) is not None
    for blob in blobs["linux/amd64"]:
        assert client.blob_exists(dst.with_digest(blob)) is None
    with pytest.raises(NoMatchingPlatform) as info:
        client.copy(src.with_tag("v1"), fresh(other), platforms="linux/s390x")
    assert [str(p) for p in info.value.available] == list(PLATFORMS)


def test_a_filtered_copy_to_a_digest_is_refused_before_any_request(token_stack: Stack) -> None:
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    since = len(reg.requests())
    with pytest.raises(UnsupportedOperation) as info:
        client.copy(
            src.with_tag("v1"),
            dst.with_digest("sha256:" + "a" * 64),
            platforms=Platform("amd64", "linux"),
        )
    assert info.value.use_instead == str(dst)
    with pytest.raises(InvalidPlatform):
        client.copy(src.with_tag("v1"), dst, platforms="linux/amd64/v1/x")
    assert reg.requests()[since:] == []


def test_a_digest_destination_must_be_the_source_digest(token_stack: Stack) -> None:
    reg, _ = token_stack
    client = client_for(reg)
    src, dst = fresh(reg), fresh(reg)
    digest, _ = multiarch(client, src)
    with pytest.raises(DigestMismatch):
        client.copy(src.with_tag("v1"), dst.with_digest("sha256:" + "a" * 64))
    assert not [r for r in reg.requests() if r[1].startswith(f"/v2/{dst.path}/blobs/")]
    assert client.copy(src.with_tag("v1"), dst.with_digest(digest)).digest == digest


def test_referrers_come_along_and_are_listed_at_the_destination(
    token_stack: Stack, other_stack: Stack
) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    digest, _ = multiarch(client, src)
    subject = client.head_manifest(src.with_tag("v1"))
    signature = client.push_blob(src, b"a signature")
    client.push_blob(src, b"{}")
    artifact = ImageManifest(
        2,
        EMPTY,
        (Descriptor("application/x.sig", signature.digest, signature.size),),
        OCI_MANIFEST,
        artifact_type="application/x.sig",
        subject=subject,
        annotations={"k": "v"},
    )
    sig = client.put_manifest(src, artifact)
    dst = fresh(other)
    client.copy(src.with_tag("v1"), dst.with_tag("v1"), referrers=True)
    listed = client.referrers(dst.with_digest(digest))
    assert [(d.digest, d.artifact_type) for d in listed.manifests] == [
        (sig.digest, "application/x.sig")
    ]
    assert client.get_manifest(dst.with_digest(sig.digest)).digest == sig.digest
    # without referrers=True they stay behind
    bare = fresh(other)
    client.copy(src.with_tag("v1"), bare.with_tag("v1"))
    assert client.referrers(bare.with_digest(digest)).manifests == ()


# ------------------------------------------------------------------------------ re-runs


def test_a_complete_copy_run_again_only_checks(token_stack: Stack, other_stack: Stack) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    multiarch(client, src)
    dst = fresh(other)
    client.copy(src.with_tag("v1"), dst)
    since = len(other.requests())
    events = Events()
    client.copy(src.with_tag("v1"), dst, progress=events)
    requests = dst_requests(other, dst, since)
    assert Counter(r[0] for r in requests) == {"HEAD": 9}  # the tag, then 8 blobs
    assert events.actions() == {"skip": 11}


def test_a_moved_tag_costs_one_manifest_put(token_stack: Stack, other_stack: Stack) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    multiarch(client, src)
    dst = fresh(other)
    client.copy(src.with_tag("v1"), dst)
    client.tag(dst.with_digest(client.digest(dst.with_tag("v1"))), "keep")
    client.put_manifest(dst.with_tag("v1"), EMPTY_IMAGE(client, dst))
    since = len(other.requests())
    client.copy(src.with_tag("v1"), dst)
    requests = dst_requests(other, dst, since)
    assert Counter(r[0] for r in requests) == {"HEAD": 9, "PUT": 3}


def EMPTY_IMAGE(client: Client, repo: Repository) -> ImageManifest:  # noqa: N802
    client.push_blob(repo, b"{}")
    return ImageManifest(2, EMPTY, (), OCI_MANIFEST)


def test_an_interrupted_copy_finishes_sending_only_what_is_missing(
    token_stack: Stack, other_stack: Stack
) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    _, blobs = multiarch(client, src)
    dst = fresh(other)
    client.copy(src.with_tag("v1"), dst)
    lost = blobs["linux/arm64"][2]
    client.delete_blob(dst.with_digest(lost))
    since = len(other.requests())
    client.copy(src.with_tag("v1"), dst)
    requests = dst_requests(other, dst, since)
    assert [r[0] for r in blob_writes(requests)] == ["PUT"]  # the one missing blob
    assert [r for r in requests if r[0] == "PUT" and "/manifests/" in r[1]] == []
    with client.get_blob(dst.with_digest(lost)) as blob:
        assert sha(b"".join(blob)) == lost


def test_a_copy_cut_before_its_manifests_finishes_on_the_second_run(
    token_stack: Stack, other_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_sdk import _write

    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    digest, _ = multiarch(client, src)
    dst = fresh(other)

    def cut(*args: object, **kwargs: object) -> Descriptor:
        raise ConnectionAbortedError("cut")

    with monkeypatch.context() as patch:
        patch.setattr(_write, "put_present", cut)
        with pytest.raises(ConnectionAbortedError):
            client.copy(src.with_tag("v1"), dst)
    since = len(other.requests())
    assert client.copy(src.with_tag("v1"), dst).digest == digest
    requests = dst_requests(other, dst, since)
    assert blob_writes(requests) == []
    assert Counter(r[0] for r in requests) == {"HEAD": 9, "PUT": 3}


def test_a_source_cut_mid_blob_is_opened_again_once(
    faulty_stack: tuple[RunningRegistry, FaultProxy, FaultProxy, TokenServer], other_stack: Stack
) -> None:
    _, proxy, _, _ = faulty_stack
    other, _ = other_stack
    creds_ = Basic("alice", USERS["alice"])
    client = Client(
        keychain=StaticKeychain({proxy.address: creds_, other.address: creds_}),
        insecure=[proxy.address, other.address],
    )
    src = Repository.parse(f"{proxy.address}/alice/w{secrets.token_hex(4)}")
    _, blobs = multiarch(client, src, layer_size=2 * 1024 * 1024)
    layer = blobs["linux/amd64"][2]
    proxy.plan(Fault("reset_after_headers", match=f"/blobs/{layer}"))
    dst = fresh(other)
    since = len(other.requests())
    client.copy(src.with_tag("v1"), dst)
    gets = [s for s in proxy.seen if s[0] == "GET" and s[1].endswith(f"/blobs/{layer}")]
    assert len(gets) == 2  # cut once, then read again in full
    with client.get_blob(dst.with_digest(layer)) as blob:
        assert sha(b"".join(blob)) == layer
    requests = dst_requests(other, dst, since)
    cancelled = [r for r in requests if r[0] == "DELETE" and "/blobs/uploads/" in r[1]]
    assert len(cancelled) == 1  # the broken session, cancelled (rule 8)


# ---------------------------------------------------------------------------------- CLI


def test_cli_copy_filtered_says_the_digest_changed(
    token_stack: Stack, other_stack: Stack, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg, _ = token_stack
    other, _ = other_stack
    client = two_client(reg, other)
    src = fresh(reg)
    digest, _ = multiarch(client, src)
    auths = {}
    for r in (reg, other):
        creds(home, r)
        auths.update(json.loads((home / ".docker" / "config.json").read_text())["auths"])
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": auths}))
    dst = Tag.parse(f"{fresh(other)}:one")
    assert main(["copy", f"{src}:v1", str(dst), "--platform", "linux/arm64", "--insecure"]) == 0
    out = capsys.readouterr().out
    new = client.digest(dst)
    assert new in out and digest in out and "filtered" in out
    assert (
        main(["copy", f"{src}:v1", str(dst.repository), "--referrers", "--insecure", "--json"]) == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["digest"] == digest and shown["filtered"] is False
    with pytest.raises(SystemExit) as exited:  # argparse: bad input, exit 2
        main(["copy", f"{src}:v1", str(dst), "--platform", "linux/"])
    assert exited.value.code == 2
    assert "platform" in capsys.readouterr().err


# --------------------------------------------------------------------------------- docs


def test_the_copy_block_of_the_writing_page_runs(
    token_stack: Stack, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/writing.md's `copy.py` block, against alice/app:v1 (an index of 2 platforms)."""
    reg, _ = token_stack
    creds(home, reg)
    multiarch(client_for(reg), Repository.parse(f"{reg.address}/alice/app"))
    text = (Path(__file__).resolve().parents[2] / "docs" / "writing.md").read_text()
    blocks = re.findall(r'```python title="copy.py"\n(.*?)```', text, re.S)
    assert len(blocks) == 1
    code = blocks[0].replace('address = "localhost:5000"', f'address = "{reg.address}"')
    exec(compile(code, "docs/writing.md", "exec"), {})  # noqa: S102
    out = capsys.readouterr().out
    assert "filtered: True" in out
    assert "action=<ProgressAction.MANIFEST" in out or "manifest" in out
