"""The one credential record: what an Authenticator hands the transport.

Re-exported by `registry_sdk.authn`; the credential-file reader (`_authfile`) builds it
too, which is why it lives apart from the keychains.
"""

from __future__ import annotations

import attrs

_SECRET = "<redacted>"  # noqa: S105 (a placeholder, not a password)


@attrs.frozen(repr=False)
class Credentials:
    """What an Authenticator hands the transport. `repr()` and `str()` hide secrets.

    * `username` + `password`: Basic auth, or the token request's Basic credentials.
    * `identity_token`: an OAuth2 refresh token (docker's `identitytoken`).
    * `registry_token`: a ready bearer token sent to the registry as it is.

    A `Credentials` value is also an Authenticator that always answers itself.
    """

    username: str = ""
    password: str = ""
    identity_token: str = ""
    registry_token: str = ""
    #: Where these came from (a file and key, a helper, or code), for messages; not
    #: part of equality, so the same secrets from two places are one identity.
    origin: str = attrs.field(default="", eq=False)

    def __repr__(self) -> str:
        shown = [f"username={self.username!r}"] if self.username else []
        shown += [
            f"{name}={_SECRET}"
            for name in ("password", "identity_token", "registry_token")
            if getattr(self, name)
        ]
        if self.origin:
            shown.append(f"origin={self.origin!r}")
        return f"Credentials({', '.join(shown)})"

    __str__ = __repr__

    def authorization(self) -> Credentials:
        """These credentials (a Credentials value is its own Authenticator)."""
        return self

    @property
    def description(self) -> str:
        """Who and from where, for messages: never a secret."""
        if self.is_anonymous:
            return "no credentials (anonymous)"
        who = (
            f"user {self.username!r}"
            if self.username
            else ("a registry token" if self.registry_token else "an identity token")
        )
        return f"{who} from {self.origin}" if self.origin else who

    @property
    def is_anonymous(self) -> bool:
        """True when no credential is set."""
        return not (self.username or self.password or self.identity_token or self.registry_token)

    @property
    def identity(self) -> str:
        """A non-secret label that distinguishes credential sets (for cache keys)."""
        if self.is_anonymous:
            return "anonymous"
        import hashlib  # noqa: PLC0415

        material = "\0".join(
            (self.username, self.password, self.identity_token, self.registry_token)
        ).encode()
        return f"{self.username or '-'}#{hashlib.sha256(material).hexdigest()[:16]}"
