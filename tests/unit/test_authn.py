"""Table tests for credential lookup in temporary HOME / XDG / DOCKER_CONFIG trees."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from registry_sdk import _authfile as F
from registry_sdk.authn import (
    ANONYMOUS,
    Basic,
    Bearer,
    Credentials,
    DefaultKeychain,
    IdentityToken,
    MultiKeychain,
    StaticKeychain,
)
from registry_sdk.errors import CredentialHelperError, CredentialsError
from registry_sdk.name import Registry, Repository


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Tree:
    """A fake home with the usual credential locations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        self.env = {
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(root / "run"),
            "PATH": str(root / "bin") + os.pathsep + os.environ.get("PATH", ""),
        }

    def write(self, rel: str, doc: object) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def docker(self, doc: object) -> Path:
        return self.write("home/.docker/config.json", doc)

    def helper(self, name: str, script: str) -> None:
        path = self.write(f"bin/docker-credential-{name}", "#!/bin/sh\n" + script)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)

    def creds(self, target: str, **env: str) -> Credentials:
        kc = DefaultKeychain({**self.env, **env})
        is_host = "/" not in target and "." in target
        ref = Registry.parse(target) if is_host else Repository.parse(target)
        return kc.resolve(ref).authorization()


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


AUTHS = {
    "reg.example": {"auth": b64("reguser:regpass")},
    "reg.example/ns/a": {"auth": b64("auser:apass")},
    "https://legacy.example/v1/": {"auth": b64("leg:legpass")},
    "https://index.docker.io/v1/": {"auth": b64("hub:hubpass")},
    "plain.example": {"username": "pu", "password": "pp"},
    "oauth.example": {"auth": b64("ou:op"), "identitytoken": "refresh-1"},
    "token.example": {"registrytoken": "regtok"},
    "helper-managed.example": {},
    "nul.example": {"auth": b64("nu:np\x00\x00")},
    "colon.example": {"auth": b64("cu:p:a:ss")},
}

LOOKUPS = [
    ("reg.example/ns/a", ("auser", "apass", "", "")),
    ("reg.example/ns/a/sub", ("auser", "apass", "", "")),
    ("reg.example/ns/b", ("reguser", "regpass", "", "")),
    ("reg.example", ("reguser", "regpass", "", "")),
    ("legacy.example/x", ("leg", "legpass", "", "")),
    ("ubuntu", ("hub", "hubpass", "", "")),
    ("docker.io/org/app", ("hub", "hubpass", "", "")),
    ("index.docker.io/org/app", ("hub", "hubpass", "", "")),
    ("plain.example/x", ("pu", "pp", "", "")),
    ("oauth.example/x", ("ou", "op", "refresh-1", "")),
    ("token.example/x", ("", "", "", "regtok")),
    ("helper-managed.example/x", ("", "", "", "")),
    ("nul.example/x", ("nu", "np", "", "")),
    ("colon.example/x", ("cu", "p:a:ss", "", "")),
    ("other.example/x", ("", "", "", "")),
]


@pytest.mark.parametrize(("target", "expected"), LOOKUPS)
def test_docker_config_lookup(tree: Tree, target: str, expected: tuple[str, ...]) -> None:
    """Every lookup rule of config.json: scoped keys, legacy keys, Hub aliases, fields."""
    tree.docker({"auths": AUTHS})
    c = tree.creds(target)
    assert (c.username, c.password, c.identity_token, c.registry_token) == expected


def test_repository_key_never_serves_a_sibling(tree: Tree) -> None:
    """reg/ns/a's credentials are not used for reg/ns/b when no registry entry exists."""
    tree.docker({"auths": {"reg.example/ns/a": {"auth": b64("a:b")}}})
    assert tree.creds("reg.example/ns/b").is_anonymous
    assert tree.creds("reg.example").is_anonymous
    assert tree.creds("reg.example/ns/a").username == "a"


def test_search_order_and_explicit_file(tree: Tree) -> None:
    """containers files come before docker's; REGISTRY_AUTH_FILE replaces the search."""
    tree.docker({"auths": {"r.example": {"auth": b64("docker:1")}}})
    assert tree.creds("r.example").username == "docker"
    tree.write(
        "home/.config/containers/auth.json", {"auths": {"r.example": {"auth": b64("xdgconfig:1")}}}
    )
    assert tree.creds("r.example").username == "xdgconfig"
    tree.write("run/containers/auth.json", {"auths": {"r.example": {"auth": b64("runtime:1")}}})
    assert tree.creds("r.example").username == "runtime"
    explicit = tree.write("explicit.json", {"auths": {"r.example/ns": {"auth": b64("ex:1")}}})
    assert tree.creds("r.example/ns/x", REGISTRY_AUTH_FILE=str(explicit)).username == "ex"
    assert tree.creds("r.example/other", REGISTRY_AUTH_FILE=str(explicit)).is_anonymous
    custom = tree.write("custom/config.json", {"auths": {"c.example": {"auth": b64("dc:1")}}})
    assert tree.creds("c.example", DOCKER_CONFIG=str(custom.parent)).username == "dc"
    tree.write("home/.dockercfg", {"legacy.example": {"auth": b64("old:1")}})
    assert tree.creds("legacy.example").username == "old"


def test_docker_auth_config_env_comes_first(tree: Tree) -> None:
    """DOCKER_AUTH_CONFIG takes precedence over files."""
    tree.docker({"auths": {"r.example": {"auth": b64("file:1")}}})
    env = json.dumps({"auths": {"r.example": {"auth": b64("env:1")}}})
    assert tree.creds("r.example", DOCKER_AUTH_CONFIG=env).username == "env"


HELPER_OK = """read key
case "$key" in
  r.example) echo '{"ServerURL":"r.example","Username":"huser","Secret":"hsecret"}';;
  tok.example) echo '{"ServerURL":"tok.example","Username":"<token>","Secret":"refresh"}';;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hubh","Secret":"s"}';;
  *) echo 'credentials not found in native keychain'; exit 1;;
esac
"""


def test_credential_helpers(tree: Tree) -> None:
    """credHelpers wins over credsStore; <token> means identity token; not found = anonymous."""
    tree.helper("test", HELPER_OK)
    tree.helper("other", 'echo \'{"Username":"o","Secret":"s"}\'')
    tree.docker(
        {
            "auths": {"r.example": {"auth": b64("ignored:1")}},
            "credHelpers": {"r.example": "test", "tok.example": "test", "missing.example": "test"},
            "credsStore": "other",
        }
    )
    assert (tree.creds("r.example").username, tree.creds("r.example").password) == (
        "huser",
        "hsecret",
    )
    assert tree.creds("tok.example").identity_token == "refresh"
    assert tree.creds("missing.example").is_anonymous
    assert tree.creds("store.example").username == "o"
    tree.docker({"credsStore": "test"})
    assert tree.creds("ubuntu").username == "hubh"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "echo 'boom'; exit 3",
            "credential helper docker-credential-bad failed for r.example (exit 3): boom",
        ),
        (
            "echo '{not json SECRETVALUE'",
            "credential helper docker-credential-bad gave a malformed answer for r.example",
        ),
        ("sleep 5", "credential helper docker-credential-bad timed out after 0.5s"),
    ],
)
def test_helper_failures_are_typed(tree: Tree, script: str, message: str) -> None:
    """A failing helper raises CredentialHelperError naming helper and registry only."""
    tree.helper("bad", script)
    tree.docker({"credHelpers": {"r.example": "bad"}})
    with pytest.raises(CredentialHelperError) as info:
        DefaultKeychain(tree.env, helper_timeout=0.5).resolve(Registry.parse("r.example"))
    assert info.value.message == message
    assert (info.value.helper, info.value.registry) == ("docker-credential-bad", "r.example")
    assert "SECRETVALUE" not in str(info.value)


def test_missing_helper(tree: Tree) -> None:
    """A helper that is not on PATH is a typed error, not anonymous."""
    tree.docker({"credHelpers": {"r.example": "nope"}})
    with pytest.raises(
        CredentialHelperError, match="docker-credential-nope, configured for r.example, is not on"
    ):
        tree.creds("r.example")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"auths": {', "invalid JSON at line 1 column 12: Expecting property name"),
        ("[]", "expected a JSON object"),
        (
            '{"auths": {"r.example": {"auth": "%%%notbase64TOPSECRET"}}}',
            "(key 'r.example'): 'auth' is not valid base64",
        ),
        (
            '{"auths": {"r.example": {"auth": "' + b64("nocolon") + '"}}}',
            "(key 'r.example'): 'auth' must encode 'username:password'",
        ),
        ('{"auths": {"r.example": "x"}}', "'auths' must map keys to objects"),
    ],
)
def test_bad_files_are_errors(tree: Tree, content: str, message: str) -> None:
    """Malformed files raise CredentialsError naming file and position or key."""
    path = tree.docker(content)
    with pytest.raises(CredentialsError) as info:
        tree.creds("r.example")
    assert str(path) in info.value.message and message in info.value.message
    assert "TOPSECRET" not in str(info.value)


def test_directory_is_absent_and_unreadable_is_error(tree: Tree) -> None:
    """A path that is a directory counts as absent; an undecodable file is an error."""
    (tree.home / ".docker" / "config.json").mkdir(parents=True)
    assert tree.creds("r.example").is_anonymous
    (tree.home / ".docker" / "config.json").rmdir()
    (tree.home / ".docker" / "config.json").write_bytes(b'{"auths": {"\xff": {}}}')
    with pytest.raises(CredentialsError, match="cannot read .*config.json: UnicodeDecodeError"):
        tree.creds("r.example")


def test_explain(tree: Tree) -> None:
    """explain() names the file and key, or lists every place tried."""
    path = tree.docker({"auths": {"r.example": {"auth": b64("u:p")}}})
    kc = DefaultKeychain(tree.env)
    got = kc.explain(Repository.parse("r.example/x"))
    assert got.origin == f"{path} (key 'r.example')"
    assert "u:p" not in str(got) and "credentials from" in str(got)
    none = kc.explain(Registry.parse("none.example"))
    assert none.origin is None
    assert any("containers/auth.json: absent" in s for s in none.steps)
    assert f"{path}: no entry for none.example" in none.steps


def test_secrets_never_in_repr() -> None:
    """repr/str of every credential type hides the secrets."""
    objs = [
        Credentials("u", "pw-SECRET", "id-SECRET", "rt-SECRET"),
        Basic("u", "pw-SECRET"),
        Bearer("rt-SECRET"),
        IdentityToken("id-SECRET", "u"),
    ]
    for obj in objs:
        assert "SECRET" not in repr(obj) and "SECRET" not in str(obj)
    assert repr(objs[0]) == (
        "Credentials(username='u', password=<redacted>, "
        "identity_token=<redacted>, registry_token=<redacted>)"
    )


def test_static_and_multi_keychains(tree: Tree) -> None:
    """StaticKeychain matches most-specific first; MultiKeychain takes the first hit and
    reports errors instead of hiding them."""
    static = StaticKeychain({"r.example/ns/a": Basic("a", "1"), "r.example": Basic("r", "2")})
    assert static.resolve(Repository.parse("r.example/ns/a")).authorization().username == "a"
    assert static.resolve(Repository.parse("r.example/ns/b")).authorization().username == "r"
    assert static.resolve(Registry.parse("x.example")) is ANONYMOUS
    tree.docker("{broken")
    broken = DefaultKeychain(tree.env)
    multi = MultiKeychain(broken, static)
    assert multi.resolve(Registry.parse("r.example")).authorization().username == "r"
    with pytest.raises(CredentialsError):
        multi.resolve(Registry.parse("x.example"))
    assert MultiKeychain(static).resolve(Registry.parse("x.example")) is ANONYMOUS
    assert Credentials("u", "p").identity != Credentials("u", "q").identity
    assert Credentials().identity == "anonymous"


def test_unreadable_file_chains_nothing_secret(tmp_path: Path) -> None:
    """A config.json that is not UTF-8: the error names the file, and no chained
    UnicodeDecodeError keeps the file's bytes (security rule 7)."""
    from tests.support.secrets import exception_leaks

    path = tmp_path / "config.json"
    path.write_bytes(b'{"auths": {"r": {"auth": "dTpwdy1TRUNSRVQ="}}} \xff')
    with pytest.raises(CredentialsError) as info:
        F.load(path, docker_format=True)
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert exception_leaks(info.value, marker="dTpwdy1TRUNSRVQ") == []


def test_failing_helper_output_that_looks_like_an_answer_is_not_echoed(tmp_path: Path) -> None:
    """A helper printing its JSON answer and exiting non-zero: the message names the
    helper and registry, never that output (it may hold the secret)."""
    program = tmp_path / "docker-credential-leaky"
    program.write_text('#!/bin/sh\necho \'{"Username":"u","Secret":"pw-SECRET"}\'\nexit 1\n')
    program.chmod(0o755)
    with pytest.raises(CredentialHelperError) as info:
        F.run_helper(
            "leaky", "r.example", registry="r.example", timeout=5, env={"PATH": str(tmp_path)}
        )
    assert "SECRET" not in str(info.value) and "leaky" in str(info.value)


def test_store_refuses_a_file_whose_credentials_live_in_a_helper(tmp_path: Path) -> None:
    """With credsStore or a credHelpers entry, a plain `auth` would never be read (the
    helper is asked first): login refuses, saying where to store instead."""
    for doc in ({"credsStore": "desktop"}, {"credHelpers": {"r.example": "pass"}}):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(CredentialsError, match="credential helper"):
            F.store(path, "r.example", "u", "pw-SECRET")
        assert json.loads(path.read_text()) == doc


def test_store_follows_a_symlink_and_keeps_other_fields(tmp_path: Path) -> None:
    """A symlinked config.json is written where it points; the entry's other fields and
    the other entries stay; stale tokens of the entry go."""
    real = tmp_path / "real.json"
    real.write_text(
        json.dumps(
            {
                "auths": {
                    "r.example": {
                        "auth": "b2xkOm9sZA==",
                        "email": "me@example",
                        "identitytoken": "old",
                    },
                    "other.example": {"auth": "eDp5"},
                }
            }
        )
    )
    link = tmp_path / "config.json"
    link.symlink_to(real)
    F.store(link, "r.example", "u", "pw-SECRET")
    assert link.is_symlink()
    doc = json.loads(real.read_text())
    assert doc["auths"]["other.example"] == {"auth": "eDp5"}
    entry = doc["auths"]["r.example"]
    assert entry["email"] == "me@example" and "identitytoken" not in entry
    assert base64.b64decode(entry["auth"]) == b"u:pw-SECRET"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
