"""The command line against the real registry (token mode), run in-process."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from registry_sdk.authn import Basic
from registry_sdk.cli import main
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry
from tests.support.seed import image, push_blob
from tests.support.token_server import USERS, TokenServer

Stack = tuple[RunningRegistry, TokenServer]


def login(reg: RunningRegistry, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["login", reg.address, "-u", "alice", "--password-stdin", "--insecure"])


def test_login_then_tags_manifest_digest_blob(
    token_stack: Stack,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """login checks the password before storing it; then tags, manifest, digest and blob
    work with the stored credentials."""
    reg, _ = token_stack
    repo = Repository.parse(f"{reg.address}/alice/cli")
    t = Transport(reg.address, Basic("alice", USERS["alice"]), insecure=True)
    digest, body = image(t, repo, "v1", layer=b"cli-layer")
    layer = "sha256:" + hashlib.sha256(b"cli-layer").hexdigest()
    push_blob(t, repo, [b"cli-layer"])

    assert login(reg, "wrong-SECRET", monkeypatch) == 3
    assert not (home / ".docker" / "config.json").exists()
    assert login(reg, USERS["alice"], monkeypatch) == 0
    stored = home / ".docker" / "config.json"
    assert reg.address in json.loads(stored.read_text())["auths"]
    assert stored.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()

    assert main(["tags", str(repo), "--insecure", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == ["v1"]
    assert main(["digest", f"{repo}:v1", "--insecure"]) == 0
    assert capsys.readouterr().out.strip() == digest
    assert main(["manifest", f"{repo}:v1", "--insecure", "--raw"]) == 0
    assert capsys.readouterr().out.encode() == body
    out = home / "layer.bin"
    assert main(["blob", f"{repo}@{layer}", "-o", str(out), "--insecure"]) == 0
    assert out.read_bytes() == b"cli-layer"


def test_errors_are_one_line_with_exit_codes(
    token_stack: Stack,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not found exits 4, refused exits 3, bad input exits 2: one line, no traceback."""
    reg, _ = token_stack
    assert main(["manifest", f"{reg.address}/public/none:v1", "--insecure"]) in (3, 4)
    err = capsys.readouterr().err
    assert err.startswith("registry-sdk: ") and "Traceback" not in err
    assert err.count("\n") == 1
    assert main(["tags", f"{reg.address}/alice/cli", "--insecure"]) == 3
    assert main(["tags", "Bad/Name", "--insecure"]) == 2
    assert main(["blob", f"{reg.address}/a:v1", "-o", str(home / "x")]) == 2
