"""`registry-sdk push / tag / delete` against the real registry, run in-process; skopeo
reads the artifact back."""

from __future__ import annotations

import base64
import io
import json
import secrets
import subprocess
from pathlib import Path

import pytest

from registry_sdk import _cli_write
from registry_sdk.cli import main
from registry_sdk.progress import ProgressAction, ProgressEvent
from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

from .test_write_blobs import sha

Stack = tuple[RunningRegistry, TokenServer]


def creds(home: Path, reg: RunningRegistry, user: str = "alice") -> None:
    auth = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    (home / ".docker").mkdir(exist_ok=True)
    (home / ".docker" / "config.json").write_text(
        json.dumps({"auths": {reg.address: {"auth": auth}}})
    )


def test_push_an_artifact_tag_and_delete(
    token_stack: Stack, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg, _ = token_stack
    creds(home, reg)
    ref = f"{reg.address}/alice/art{secrets.token_hex(3)}:v1"
    (tmp_path / "readme.md").write_text("# hello\n")
    (tmp_path / "data.json").write_text('{"a": 1}')
    assert (
        main(
            [
                "push",
                ref,
                str(tmp_path / "readme.md"),
                f"{tmp_path / 'data.json'}:application/json",
                "--artifact-type",
                "application/x.example",
                "--annotation",
                "k=v",
                "--annotation",
                "empty=",
                "--insecure",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    raw = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            f"alice:{USERS['alice']}",
            f"docker://{ref}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert sha(raw) == out["digest"]
    doc = json.loads(raw)
    assert doc["artifactType"] == "application/x.example"
    assert doc["config"] == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": _cli_write.EMPTY_DIGEST,
        "size": 2,
    }
    assert [(lay["mediaType"], lay["annotations"]) for lay in doc["layers"]] == [
        ("application/vnd.oci.image.layer.v1.tar", {"org.opencontainers.image.title": "readme.md"}),
        ("application/json", {"org.opencontainers.image.title": "data.json"}),
    ]
    assert doc["layers"][0]["digest"] == sha(b"# hello\n")
    assert doc["annotations"] == {"k": "v", "empty": ""}

    sig = tmp_path / "sig.txt"
    sig.write_text("signed")
    assert (
        main(
            [
                "push",
                ref.rsplit(":", 1)[0] + ":sig",
                str(sig),
                "--subject",
                "v1",
                "--artifact-type",
                "application/x.sig",
                "--insecure",
                "--json",
            ]
        )
        == 0
    )
    sig_digest = json.loads(capsys.readouterr().out)["digest"]
    from registry_sdk.client import Client
    from registry_sdk.name import Digest

    found = Client(insecure=[reg.address]).referrers(
        Digest.parse(ref.rsplit(":", 1)[0] + "@" + out["digest"])
    )
    assert [(d.digest, d.artifact_type) for d in found.manifests] == [
        (sig_digest, "application/x.sig")
    ]

    assert main(["tag", ref, "stable", "--insecure"]) == 0
    assert capsys.readouterr().out.strip().startswith(out["digest"])

    # distribution cannot delete by tag: exit 1, and the message names the digest.
    assert main(["delete", ref, "--insecure"]) == 1
    err = capsys.readouterr().err
    assert out["digest"] in err and len(err.strip().splitlines()) == 1
    by_digest = ref.rsplit(":", 1)[0] + "@" + out["digest"]
    assert main(["delete", by_digest, "--insecure"]) == 0
    assert main(["manifest", ref, "--insecure"]) == 4


def test_push_errors_are_one_line_with_exit_codes(
    token_stack: Stack, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg, _ = token_stack
    creds(home, reg, "bob")
    (tmp_path / "f").write_text("x")
    ref = f"{reg.address}/alice/denied:v1"
    assert main(["push", ref, str(tmp_path / "f"), "--insecure"]) == 3  # bob cannot push
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert (
        main(["push", f"{reg.address}/bob/x:v1", str(tmp_path / "missing"), "--insecure"]) == 2
    )  # bad input, the file named
    assert f"No such file or directory: {tmp_path / 'missing'}" in capsys.readouterr().err
    assert main(["tag", f"{reg.address}/bob/x:v1", "bad tag!", "--insecure"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["push", f"{reg.address}/bob/x:v1", str(tmp_path / "f"), "--annotation", "novalue"])
    assert exit_info.value.code == 2


def test_progress_bar_draws_lines() -> None:
    out = io.StringIO()
    bar = _cli_write.ProgressBar(out)
    bar(ProgressEvent("sha256:" + "a" * 64, 512, 1024, ProgressAction.UPLOAD))
    bar(ProgressEvent("sha256:" + "a" * 64, 1024, 1024, ProgressAction.UPLOAD))
    bar(ProgressEvent("sha256:" + "b" * 64, 10, 10, ProgressAction.SKIP))
    bar(ProgressEvent(None, 3 * 1024 * 1024, None, ProgressAction.UPLOAD))
    bar.close()
    text = out.getvalue()
    assert " 50% " in text and "100%" in text and "3.0 MiB" in text
    assert text.count("\n") == 3 and "aaaaaaaaaaaa" in text
