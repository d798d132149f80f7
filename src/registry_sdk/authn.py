"""Credentials, the Authenticator and Keychain protocols, and the default keychain.

```python
from registry_sdk import DefaultKeychain, Repository

keychain = DefaultKeychain()
auth = keychain.resolve(Repository.parse("ghcr.io/org/app"))
why = keychain.explain(Repository.parse("ghcr.io/org/app"))  # where it came from
```

`DefaultKeychain` finds what `docker login`, `podman login` and `skopeo login` stored:
`DOCKER_AUTH_CONFIG`, then `REGISTRY_AUTH_FILE` (which replaces the file search), else
`$XDG_RUNTIME_DIR/containers/auth.json`, `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`,
`$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`) and `~/.dockercfg`; the first
file that has credentials for the target wins.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from registry_sdk import _authfile as F
from registry_sdk._credentials import Credentials
from registry_sdk._errors import CredentialsError
from registry_sdk.name import Registry, Repository

__all__ = [
    "ANONYMOUS",
    "Anonymous",
    "Authenticator",
    "Basic",
    "Bearer",
    "Credentials",
    "DefaultKeychain",
    "Explanation",
    "IdentityToken",
    "Keychain",
    "MultiKeychain",
    "StaticKeychain",
]

log = logging.getLogger("registry_sdk.authn")
Credentials.__module__ = __name__  # its public home (the record lives in _credentials)
_SECRET = "<redacted>"  # noqa: S105 (a placeholder, not a password)


@runtime_checkable
class Authenticator(Protocol):
    """Anything that can produce credentials; called for every token exchange."""

    def authorization(self) -> Credentials:
        """Return the credentials to use now."""


@attrs.frozen
class Anonymous:
    """No credentials. Use the [ANONYMOUS][registry_sdk.authn.ANONYMOUS] instance."""

    def authorization(self) -> Credentials:
        """Return empty credentials."""
        return Credentials()


ANONYMOUS = Anonymous()
"""The authenticator with no credentials: requests are sent anonymously."""


@attrs.frozen(repr=False)
class Basic:
    """A username and password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Basic(username={self.username!r}, password={_SECRET})"

    def authorization(self) -> Credentials:
        """Return the username and password."""
        return Credentials(username=self.username, password=self.password)


@attrs.frozen(repr=False)
class Bearer:
    """A registry token, sent to the registry as `Authorization: Bearer` with no exchange."""

    token: str

    def __repr__(self) -> str:
        return f"Bearer(token={_SECRET})"

    def authorization(self) -> Credentials:
        """Return the registry token."""
        return Credentials(registry_token=self.token)


@attrs.frozen(repr=False)
class IdentityToken:
    """An OAuth2 refresh token (docker's `identitytoken`), exchanged by POST."""

    token: str
    username: str = ""

    def __repr__(self) -> str:
        return f"IdentityToken(username={self.username!r}, token={_SECRET})"

    def authorization(self) -> Credentials:
        """Return the identity token."""
        return Credentials(username=self.username, identity_token=self.token)


Target = Registry | Repository


class Keychain(Protocol):
    """Finds the Authenticator for a registry or repository."""

    def resolve(self, target: Registry | Repository) -> Authenticator:
        """Return the authenticator for *target*.

        [ANONYMOUS][registry_sdk.authn.ANONYMOUS] means nothing is stored.
        """


def _split(target: Target) -> tuple[str, str | None]:
    if isinstance(target, Repository):
        return target.registry.name, target.path
    return target.name, None


@attrs.frozen
class Explanation:
    """How a keychain resolved a target: the result, its origin and every step tried."""

    target: str
    origin: str | None
    steps: tuple[str, ...]

    def __str__(self) -> str:
        head = f"{self.target}: " + (
            f"credentials from {self.origin}" if self.origin else "anonymous (no credentials found)"
        )
        return "\n".join([head, *(f"  - {s}" for s in self.steps)])


class DefaultKeychain:
    """The credentials docker, podman and skopeo would use (see the module docs).

    Args:
        env: the environment to read (default: `os.environ` at each resolve).
        helper_timeout: seconds a credential helper may take.
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, *, helper_timeout: float = 30.0
    ) -> None:
        self._env = env
        self._timeout = helper_timeout

    def __repr__(self) -> str:
        return "DefaultKeychain()"

    def _files(self, env: Mapping[str, str]) -> list[tuple[str, Callable[[], F.AuthFile | None]]]:
        explicit = env.get("REGISTRY_AUTH_FILE")
        if explicit:
            return [(explicit, partial(F.load, Path(explicit), docker_format=False))]
        home = F.home(env)
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        paths = [
            (F.containers_auth_path(env), False, False),
            (config_home / "containers" / "auth.json", False, False),
            (F.docker_config_path(env), True, False),
            (home / ".dockercfg", True, True),
        ]
        return [(str(p), partial(F.load, p, docker_format=d, legacy=leg)) for p, d, leg in paths]

    def _sources(self, env: Mapping[str, str]) -> list[tuple[str, Callable[[], F.AuthFile | None]]]:
        sources = self._files(env)
        inline = env.get("DOCKER_AUTH_CONFIG")
        if inline:
            sources.insert(
                0,
                (
                    "DOCKER_AUTH_CONFIG",
                    partial(F.parse, inline, "DOCKER_AUTH_CONFIG", docker_format=True),
                ),
            )
        return sources

    def _lookup(self, target: Target, steps: list[str]) -> Credentials | None:
        env = os.environ if self._env is None else self._env
        registry, path = _split(target)
        for name, loader in self._sources(env):
            file = loader()
            if file is None:
                steps.append(f"{name}: absent")
                continue
            helper = F.helper_for(file, registry)
            if helper is not None:
                entry = F.run_helper(
                    helper[0], helper[1], registry=registry, timeout=self._timeout, env=env
                )
                if entry is not None:
                    return attrs.evolve(entry, origin=f"{entry.origin} configured in {name}")
                steps.append(f"{name}: helper docker-credential-{helper[0]} has nothing")
                continue
            found = F.find_entry(file, registry, path)
            if found is None:
                steps.append(f"{name}: no entry for {registry}")
                continue
            key, raw = found
            entry = F.decode_entry(raw, f"{name} (key {key!r})")
            if entry.is_anonymous:
                steps.append(f"{name}: entry {key!r} is empty")
                continue
            return entry
        return None

    def resolve(self, target: Registry | Repository) -> Authenticator:
        """Find credentials for *target*; ANONYMOUS when none are stored.

        Raises:
            CredentialsError: a file is unreadable or malformed, or a helper failed.
        """
        entry = self._lookup(target, [])
        if entry is None:
            log.debug("no credentials for %s", target)
            return ANONYMOUS
        log.debug("credentials for %s from %s", target, entry.origin)
        return entry

    def explain(self, target: Registry | Repository) -> Explanation:
        """Say where the credentials for *target* come from, or why there are none."""
        steps: list[str] = []
        try:
            entry = self._lookup(target, steps)
        except CredentialsError as exc:
            steps.append(f"error: {exc.message}")
            entry = None
        return Explanation(str(target), entry.origin if entry else None, tuple(steps))


class StaticKeychain:
    """Fixed authenticators by key: `registry`, or `registry/namespace/repo`.

    The most specific key wins; a repository key never serves a sibling repository.
    """

    def __init__(self, entries: Mapping[str, Authenticator]) -> None:
        self._entries = dict(entries)

    def __repr__(self) -> str:
        return f"StaticKeychain(keys={sorted(self._entries)!r})"

    def resolve(self, target: Registry | Repository) -> Authenticator:
        """The authenticator under the most specific matching key, else ANONYMOUS."""
        registry, path = _split(target)
        for key in F.candidate_keys(registry, path):
            if key in self._entries:
                return self._entries[key]
        return ANONYMOUS


class MultiKeychain:
    """Asks keychains in order; the first non-anonymous answer wins.

    An error from one keychain is logged and, when no later keychain has credentials,
    raised: it is never silently turned into anonymous access.
    """

    def __init__(self, *keychains: Keychain) -> None:
        self._keychains = keychains

    def __repr__(self) -> str:
        return f"MultiKeychain{self._keychains!r}"

    def resolve(self, target: Registry | Repository) -> Authenticator:
        """The first non-anonymous authenticator among the keychains."""
        first_error: CredentialsError | None = None
        for keychain in self._keychains:
            try:
                auth = keychain.resolve(target)
            except CredentialsError as exc:
                log.warning("keychain %r failed for %s: %s", keychain, target, exc.message)
                first_error = first_error or exc
                continue
            if not auth.authorization().is_anonymous:
                return auth
        if first_error is not None:
            raise first_error
        return ANONYMOUS
