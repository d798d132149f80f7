"""Refused and changing credentials against real registries (issues 10 and 11).

A refusal is one exception family, AuthenticationError, whether the registry speaks
Basic or tokens, and its message says who was refused and where the credentials came
from (or that none were found), never the secret. A Client whose keychain answer
changes (a credential helper handing out a rotated password) asks it again, once.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from pathlib import Path

import bcrypt
import pytest

from registry_sdk.authn import Basic, DefaultKeychain, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.errors import AuthenticationError, TokenExchangeError, Unauthorized
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry, start_registry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer

from .conftest import USERS as BASIC_USERS

Stack = tuple[RunningRegistry, TokenServer]


def config(folder: Path, address: str, user: str, password: str) -> dict[str, str]:
    """A DOCKER_CONFIG holding *user*/*password* for *address*; returns the env to read."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {address: {"auth": auth}}}))
    return {"DOCKER_CONFIG": str(folder), "HOME": str(folder)}


def test_both_refusals_share_one_family() -> None:
    """Basic refusals (Unauthorized) and token refusals are both AuthenticationErrors."""
    assert issubclass(Unauthorized, AuthenticationError)
    assert issubclass(TokenExchangeError, AuthenticationError)


def test_basic_wrong_password_names_user_and_file(
    basic_registry: RunningRegistry, tmp_path: Path
) -> None:
    """Basic registry, wrong stored password: Unauthorized naming alice and the file."""
    env = config(tmp_path, basic_registry.address, "alice", "wrong-SECRET")
    with Client(keychain=DefaultKeychain(env)) as client, pytest.raises(Unauthorized) as info:
        client.list_tags(f"{basic_registry.address}/team/app")
    exc = info.value
    assert exc.status == 401
    assert exc.username == "alice"
    assert str(tmp_path / "config.json") in exc.origin
    assert "refused user 'alice' from" in str(exc)
    assert "SECRET" not in str(exc)


def test_basic_anonymous_says_no_credentials_were_found(
    basic_registry: RunningRegistry, tmp_path: Path
) -> None:
    """Nothing stored: the message says the request was anonymous."""
    with (
        Client(keychain=DefaultKeychain({"HOME": str(tmp_path)})) as client,
        pytest.raises(Unauthorized) as info,
    ):
        client.list_tags(f"{basic_registry.address}/team/app")
    assert "no credentials were found" in str(info.value)
    assert info.value.username == ""


def test_token_wrong_password_is_an_authentication_error(
    token_stack: Stack, tmp_path: Path
) -> None:
    """Token registry, wrong stored password: the token server's refusal is an
    AuthenticationError naming alice and the file (not a bare 'answered 401')."""
    reg, _ = token_stack
    env = config(tmp_path, reg.address, "alice", "wrong-SECRET")
    with Client(keychain=DefaultKeychain(env)) as client, pytest.raises(TokenExchangeError) as info:
        client.list_tags(f"{reg.address}/alice/app")
    exc = info.value
    assert exc.status == 401
    assert "refused user 'alice' from" in str(exc) and exc.username == "alice"
    assert "SECRET" not in str(exc)


def test_token_anonymous_on_a_private_repository(token_stack: Stack, tmp_path: Path) -> None:
    """Anonymous pull of a private repository: Unauthorized, saying no credentials."""
    reg, _ = token_stack
    image(
        Transport(reg.address, Basic("alice", USERS["alice"])),
        Repository.parse(f"{reg.address}/alice/private"),
        "v1",
    )
    with (
        Client(keychain=DefaultKeychain({"HOME": str(tmp_path)})) as client,
        pytest.raises(Unauthorized) as info,
    ):
        client.list_tags(f"{reg.address}/alice/private")
    assert "no credentials were found" in str(info.value)


def rotating_helper(folder: Path) -> Path:
    """A real credential helper (a script on PATH) answering whatever password the file
    `current` holds, and counting its calls in `calls`."""
    program = folder / "docker-credential-rotating"
    program.write_text(f"""#!/bin/sh
echo x >> {folder}/calls
printf '{{"ServerURL":"%s","Username":"alice","Secret":"%s"}}' "$(cat)" "$(cat {folder}/current)"
""")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def rotate(reg: RunningRegistry, password: str) -> None:
    """Rewrite the registry's htpasswd; distribution 2.8 reloads it."""
    (reg.root / "htpasswd").write_text(
        f"alice:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
    )
    time.sleep(1.5)


def test_client_asks_the_keychain_again_after_a_refusal(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Password rotated on the registry and in the helper: the Client's next request is
    refused once, the keychain is asked again, and the retry with the new password works.
    When the helper still has the old password, the refusal stands (asked once more)."""
    reg = start_registry(tmp_path_factory.mktemp("rotating"), users={"alice": "pw1-SECRET"})
    folder = tmp_path_factory.mktemp("helper")
    rotating_helper(folder)
    (folder / "current").write_text("pw1-SECRET")
    (folder / "config.json").write_text(json.dumps({"credHelpers": {reg.address: "rotating"}}))
    env = {
        "DOCKER_CONFIG": str(folder),
        "HOME": str(folder),
        "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
    }
    repo = Repository.parse(f"{reg.address}/team/app")
    try:
        image(Transport(reg.address, Basic("alice", "pw1-SECRET")), repo, "v1")
        with Client(keychain=DefaultKeychain(env)) as client:
            assert client.list_tags(repo) == ["v1"]
            calls = len((folder / "calls").read_text().split())
            rotate(reg, "pw2-SECRET")
            (folder / "current").write_text("pw2-SECRET")
            assert client.list_tags(repo) == ["v1"]
            assert len((folder / "calls").read_text().split()) == calls + 1
            rotate(reg, "pw3-SECRET")  # the helper has not caught up
            with pytest.raises(Unauthorized) as info:
                client.list_tags(repo)
            assert "docker-credential-rotating" in info.value.origin
            assert len((folder / "calls").read_text().split()) == calls + 2
    finally:
        reg.stop()


def test_basic_users_fixture_is_untouched(basic_registry: RunningRegistry) -> None:
    """The shared basic registry still accepts the fixture's users (nothing rotated it)."""
    t = Transport(basic_registry.address, Basic("alice", BASIC_USERS["alice"]))
    assert t.request("GET", t.url("/v2/")).status == 200


def test_accepted_but_not_granted_says_so(token_stack: Stack) -> None:
    """bob's password is right but he may not push to alice/*: the refusal says his
    credentials were accepted and the access not granted (not 'wrong password')."""
    reg, _ = token_stack
    keychain = StaticKeychain({reg.address: Basic("bob", USERS["bob"])})
    with Client(keychain=keychain) as client, pytest.raises(Unauthorized) as info:
        client.push_blob(f"{reg.address}/alice/not-bobs", b"x")
    assert "accepted user 'bob'" in str(info.value)
    assert "did not grant" in str(info.value) and info.value.username == "bob"
