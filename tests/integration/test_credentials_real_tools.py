"""A real tool writes credentials, our keychain reads them (real registry, real skopeo)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from registry_sdk.authn import DefaultKeychain
from registry_sdk.name import Registry, Repository
from tests.support.registry import RunningRegistry

from .conftest import USERS


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None and os.environ.get("CI"):
        pytest.fail(f"{name} is missing (scripts/bootstrap installs it)")
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


def _skopeo_login(
    reg: RunningRegistry, tmp_path: Path, password: str
) -> tuple[subprocess.CompletedProcess[bytes], dict[str, str]]:
    """Run the real `skopeo login` as alice against *reg* (TLS, private CA) in a fresh
    HOME and XDG_RUNTIME_DIR; returns the process and the environment it used."""
    skopeo = _tool("skopeo")
    assert reg.tls is not None
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(reg.tls.ca, certs / "ca.crt")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        "HOME": str(tmp_path / "home"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PATH": os.environ["PATH"],
    }
    done = subprocess.run(
        [
            skopeo,
            "login",
            "--cert-dir",
            str(certs),
            "--username",
            "alice",
            "--password-stdin",
            reg.address,
        ],
        input=password.encode(),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done, env


def test_skopeo_login_writes_what_we_read(
    basic_tls_registry: RunningRegistry, tmp_path: Path
) -> None:
    """`skopeo login` against the real htpasswd registry writes auth.json; DefaultKeychain
    resolves the same credentials from the default podman location."""
    reg = basic_tls_registry
    done, env = _skopeo_login(reg, tmp_path, USERS["alice"])
    assert done.returncode == 0, done.stderr.decode()
    runtime = Path(env["XDG_RUNTIME_DIR"])
    written = json.loads((runtime / "containers" / "auth.json").read_text())
    assert reg.address in written["auths"]
    creds = DefaultKeychain(env).resolve(Repository.parse(f"{reg.address}/any/repo"))
    assert creds.authorization().username == "alice"
    assert creds.authorization().password == USERS["alice"]
    got = DefaultKeychain(env).explain(Registry.parse(reg.address))
    assert got.origin == f"{runtime}/containers/auth.json (key '{reg.address}')"


def test_skopeo_login_rejects_bad_password(
    basic_tls_registry: RunningRegistry, tmp_path: Path
) -> None:
    """The registry really checks passwords: a wrong one is refused and nothing is stored."""
    reg = basic_tls_registry
    done, env = _skopeo_login(reg, tmp_path, "wrong")
    assert done.returncode != 0
    assert DefaultKeychain(env).resolve(Registry.parse(reg.address)).authorization().is_anonymous


def _gpg_pass_env(tmp_path: Path) -> dict[str, str]:
    """A throw-away gpg key and password store for docker-credential-pass."""
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {
        "HOME": str(tmp_path / "home"),
        "GNUPGHOME": str(gnupg),
        "PASSWORD_STORE_DIR": str(tmp_path / "store"),
        "PATH": os.environ["PATH"],
    }
    subprocess.run(
        [
            _tool("gpg"),
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "registry-sdk-test@example.invalid",
            "default",
            "default",
            "never",
        ],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    subprocess.run(
        [_tool("pass"), "init", "registry-sdk-test@example.invalid"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return env


def test_real_credential_helper_docker_credential_pass(tmp_path: Path) -> None:
    """docker-credential-pass (Debian's golang-docker-credential-helpers, gpg + pass with a
    throw-away key) stores a secret; credHelpers makes our keychain fetch it back."""
    helper = _tool("docker-credential-pass")
    env = _gpg_pass_env(tmp_path)
    payload = {"ServerURL": "helper.example", "Username": "carol", "Secret": "carol-SECRET"}
    stored = subprocess.run(
        [helper, "store"],
        input=json.dumps(payload).encode(),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert stored.returncode == 0, stored.stdout.decode() + stored.stderr.decode()
    config = Path(env["HOME"]) / ".docker" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        json.dumps(
            {
                "credHelpers": {"helper.example": "pass"},
                "auths": {"other.example": {"auth": base64.b64encode(b"x:y").decode()}},
            }
        )
    )
    creds = DefaultKeychain(env).resolve(Registry.parse("helper.example")).authorization()
    assert (creds.username, creds.password) == ("carol", "carol-SECRET")
    missing = DefaultKeychain(env).resolve(Registry.parse("other.example")).authorization()
    assert missing.username == "x"
