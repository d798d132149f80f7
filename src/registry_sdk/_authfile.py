"""Reading and writing docker `config.json` / containers `auth.json`; credential helpers.

Pure lookup logic plus two edges of I/O (reading a file, running a helper). Nothing here
logs or raises a secret: errors name the file and key, or the helper and registry.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from registry_sdk._credentials import Credentials
from registry_sdk._errors import CredentialHelperError, CredentialsError

HUB_KEY = "https://index.docker.io/v1/"
#: Every spelling of Docker Hub that may key an `auths` entry.
HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", HUB_KEY)
_NOT_FOUND = "credentials not found"
#: Helper output larger than this is refused (security rule 5).
HELPER_OUTPUT_LIMIT = 64 * 1024
#: The fields of an `auths` entry that hold credentials (replaced whole by a login).
_SECRET_FIELDS = frozenset({"auth", "username", "password", "identitytoken", "registrytoken"})


@attrs.frozen
class AuthFile:
    """A parsed credentials file: its `auths`, `credHelpers` and `credsStore`."""

    path: str
    docker_format: bool
    auths: Mapping[str, Any]
    cred_helpers: Mapping[str, str]
    creds_store: str


def home(env: Mapping[str, str]) -> Path:
    """`$HOME`, else the account's home directory."""
    return Path(env.get("HOME") or Path.home())


def containers_auth_path(env: Mapping[str, str]) -> Path:
    """podman/skopeo's primary credentials file.

    `$XDG_RUNTIME_DIR/containers/auth.json`, or `/run/containers/UID/auth.json` when
    `XDG_RUNTIME_DIR` is unset.
    """
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "containers" / "auth.json"
    return Path(f"/run/containers/{os.getuid()}") / "auth.json"


def docker_config_path(env: Mapping[str, str]) -> Path:
    """Docker's file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    return Path(env.get("DOCKER_CONFIG") or home(env) / ".docker") / "config.json"


def load(path: Path, *, docker_format: bool, legacy: bool = False) -> AuthFile | None:
    """Parse *path*; a missing file or a directory counts as absent (returns None).

    Raises:
        CredentialsError: unreadable file, invalid JSON (with line and column), wrong shape.
    """
    if not path.is_file():
        return None
    text, problem = None, ""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = type(exc).__name__
    if text is None:  # raised outside the except: a UnicodeDecodeError holds the file
        raise CredentialsError(f"cannot read {path}: {problem}", source=str(path))
    return parse(text, str(path), docker_format=docker_format, legacy=legacy)


def parse(text: str, origin: str, *, docker_format: bool, legacy: bool = False) -> AuthFile:
    """Parse the JSON text of a credentials file (see [load][])."""
    doc: object = None
    problem = ""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    if problem:  # raised outside the except: the decode error's .doc is the whole file
        raise CredentialsError(f"{origin}: invalid JSON at {problem}", source=origin)
    if not isinstance(doc, dict):
        raise CredentialsError(f"{origin}: expected a JSON object", source=origin)
    auths = doc if legacy else doc.get("auths", {})
    helpers = {} if legacy else doc.get("credHelpers", {})
    store = "" if legacy else doc.get("credsStore", "")
    if not isinstance(auths, dict) or not all(isinstance(v, dict) for v in auths.values()):
        raise CredentialsError(f"{origin}: 'auths' must map keys to objects", source=origin)
    if not isinstance(helpers, dict) or not all(isinstance(v, str) for v in helpers.values()):
        raise CredentialsError(f"{origin}: 'credHelpers' must map keys to names", source=origin)
    if not isinstance(store, str):
        raise CredentialsError(f"{origin}: 'credsStore' must be a string", source=origin)
    return AuthFile(origin, docker_format, auths, helpers, store)


def decode_entry(entry: Mapping[str, Any], origin: str) -> Credentials:
    """Turn one `auths` entry into Credentials; a bad `auth` names the key, never the value."""
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    auth = entry.get("auth")
    if auth:
        text = None
        try:
            raw = str(auth).strip()
            decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
            text = decoded.decode("utf-8").rstrip("\x00")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            pass  # raised below, outside the except: a UnicodeDecodeError holds the secret
        if text is None:
            raise CredentialsError(f"{origin}: 'auth' is not valid base64", source=origin)
        user, sep, secret = text.partition(":")
        if not sep or not user:
            raise CredentialsError(
                f"{origin}: 'auth' must encode 'username:password'", source=origin
            )
        username, password = user, secret
    return Credentials(
        username,
        password,
        str(entry.get("identitytoken") or ""),
        str(entry.get("registrytoken") or ""),
        origin=origin,
    )


def _host_of_key(key: str) -> str | None:
    """A key written with a scheme (`https://host/v1/`) reduced to its host, else None."""
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            return key[len(scheme) :].split("/", 1)[0]
    return None


def _canonical_host(host: str) -> str:
    return "docker.io" if host in HUB_ALIASES else host


def candidate_keys(registry: str, path: str | None) -> list[str]:
    """Keys to try, most specific first: `reg/ns/repo`, `reg/ns`, `reg` (all aliases)."""
    hosts = list(HUB_ALIASES[:3]) if registry == "docker.io" else [registry]
    keys: list[str] = []
    if path:
        parts = path.split("/")
        for n in range(len(parts), 0, -1):
            keys += [f"{h}/{'/'.join(parts[:n])}" for h in hosts]
    keys += hosts
    if registry == "docker.io":
        keys.append(HUB_KEY)
    return keys


def find_entry(
    file: AuthFile, registry: str, path: str | None
) -> tuple[str, Mapping[str, Any]] | None:
    """The most specific `auths` entry for the target, as (key, entry).

    Keys with a path but no scheme are repository-scoped and match only that repository
    or its namespaces: `reg/ns/a` never serves `reg/ns/b`. Keys with a scheme
    (`https://host/v1/`) are legacy spellings of a registry and match by host.
    """
    for key in candidate_keys(registry, path):
        if key in file.auths:
            return key, file.auths[key]
    for key, entry in file.auths.items():
        host = _host_of_key(key)
        if host is not None and _canonical_host(host) == registry:
            return key, entry
    return None


def helper_for(file: AuthFile, registry: str) -> tuple[str, str] | None:
    """The helper configured for *registry* as (helper name, key to send it), if any."""
    keys = (HUB_KEY, *HUB_ALIASES[:3]) if registry == "docker.io" else (registry,)
    for key in keys:
        if key in file.cred_helpers:
            return file.cred_helpers[key], key
    if file.creds_store:
        if registry == "docker.io":
            return file.creds_store, HUB_KEY if file.docker_format else "docker.io"
        return file.creds_store, registry
    return None


def run_helper(
    name: str, key: str, *, registry: str, timeout: float, env: Mapping[str, str]
) -> Credentials | None:
    """Run `docker-credential-<name> get` with *key* on stdin; None means not found.

    Raises:
        CredentialHelperError: missing program, timeout, failure, or a malformed answer.
    """
    program = f"docker-credential-{name}"
    path = shutil.which(program, path=env.get("PATH", os.defpath))
    if path is None:
        raise CredentialHelperError(
            f"credential helper {program}, configured for {registry}, is not on PATH",
            helper=program,
            registry=registry,
        )
    # Failures are raised outside the except blocks: a TimeoutExpired holds the
    # helper's partial output, which may be the secret (rule 7).
    done, failure = None, ""
    try:
        done = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            [path, "get"],
            input=key.encode(),
            capture_output=True,
            timeout=timeout,
            env=dict(env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        failure = f"credential helper {program} timed out after {timeout}s"
    except OSError as exc:
        failure = f"cannot run credential helper {program}: {exc.strerror}"
    if done is None:
        raise CredentialHelperError(failure, helper=program, registry=registry)
    out = done.stdout[:HELPER_OUTPUT_LIMIT].decode("utf-8", "replace").strip()
    if done.returncode != 0:
        if _NOT_FOUND in out.lower():
            return None
        first = out.splitlines()[0][:200] if out else "(no message)"
        if "{" in first or "secret" in first.lower():
            first = "(its output is not shown: it may hold the secret)"
        raise CredentialHelperError(
            f"credential helper {program} failed for {registry} (exit {done.returncode}): {first}",
            helper=program,
            registry=registry,
        )
    username = secret = None
    try:
        answer = json.loads(out)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        pass  # raised below, outside the except: the decode error holds the output
    if username is None or secret is None:
        # Never echo the output: it may hold the secret.
        raise CredentialHelperError(
            f"credential helper {program} gave a malformed answer for {registry}",
            helper=program,
            registry=registry,
        )
    origin = f"credential helper {program} (key {key!r})"
    if username == "<token>":
        return Credentials(identity_token=secret, origin=origin)
    return Credentials(username=username, password=secret, origin=origin)


def store(path: Path, key: str, username: str, password: str) -> None:
    """Store Basic credentials under *key* in the credentials file at *path*.

    As `docker login` and `podman login` write them: `auths[key].auth` = base64 of
    `user:password`; the other entries, and the entry's other fields, are kept (its stale
    tokens dropped). Written atomically (a temporary file renamed over the old one), mode
    0600, its folder 0700 when created; a symlinked file is written where it points.

    Raises:
        CredentialsError: the existing file is malformed, or keeps this registry's
            credentials in a credential helper (a plain entry would never be read); the
            file is left as it was.
    """
    path = Path(os.path.realpath(path))
    doc: object = {}
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("auths", {}), dict):
        raise CredentialsError(f"{path}: not a credentials file; left as it is", source=str(path))
    helpers = doc.get("credHelpers")
    helper = (helpers.get(key) if isinstance(helpers, dict) else None) or doc.get("credsStore")
    if helper:
        raise CredentialsError(
            f"{path} keeps the credentials for {key} in the credential helper "
            f"docker-credential-{helper}; a plain entry here would never be read: store "
            "them with `docker login` (or remove the helper from the file)",
            source=str(path),
            registry=key,
        )
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    old = doc.setdefault("auths", {}).get(key)
    kept = (
        {k: v for k, v in old.items() if k not in _SECRET_FIELDS} if isinstance(old, dict) else {}
    )
    doc["auths"][key] = {"auth": token, **kept}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".auth.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(doc, out, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
