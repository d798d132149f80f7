"""A token server for distribution's token auth, for the tests only.

It signs ES256 JWTs that distribution 2.8 verifies by `kid` (the libtrust fingerprint
of the key, whose certificate is in the registry's `rootcertbundle`). It implements the
GET token flow (Basic credentials, `offline_token`), the OAuth2 POST flow (`password` and
`refresh_token` grants, rotating refresh tokens), per-repository grants per user,
anonymous pull of `public/*`, a configurable lifetime, switches to refuse GET or POST,
and a request log. Runs on 127.0.0.1 on a free port, in a thread; `stop()` ends it.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import hashlib
import json
import secrets
import ssl
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: user -> password
USERS = {"alice": "alice-SECRET-pw", "bob": "bob-SECRET-pw"}
#: user -> [(repository glob, actions)]; anonymous gets only the "" entry.
GRANTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "": [("public/*", ("pull",))],
    "alice": [
        ("alice/*", ("pull", "push", "delete")),
        ("shared/*", ("pull",)),
        ("public/*", ("pull", "push")),
    ],
    "bob": [("bob/*", ("pull", "push")), ("shared/*", ("pull", "push"))],
}
SERVICE = "registry-sdk-tests"
ISSUER = "registry-sdk-test-issuer"


def libtrust_kid(public_key: ec.EllipticCurvePublicKey) -> str:
    """distribution's key ID: base32 of SHA-256(DER SPKI)[:30], in groups of four."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


@attrs.define
class LoggedRequest:
    """One request the token server received (secrets left out)."""

    method: str
    path: str
    user: str
    grant_type: str
    scopes: tuple[str, ...]
    status: int


@attrs.define
class TokenServer:
    """The running server and its switches (change them between requests)."""

    root: Path
    lifetime: int = 300
    #: seconds added to the real expiry written into the JWT (negative: already expired)
    jwt_skew: int = 0
    refuse_get: bool = False
    refuse_post: int = 0  # 0: accept; else the status to answer POST with
    log: list[LoggedRequest] = attrs.field(factory=list)
    refresh_tokens: dict[str, str] = attrs.field(factory=dict)
    port: int = 0
    _key: ec.EllipticCurvePrivateKey = attrs.field(
        factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    tls_context: ssl.SSLContext | None = None

    @property
    def bundle(self) -> Path:
        """The certificate bundle the registry verifies tokens with."""
        return self.root / "token-cert.pem"

    @property
    def realm(self) -> str:
        """The realm URL to configure in the registry."""
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}/token"

    def registry_config(self) -> Mapping[str, str]:
        """The registry's `auth.token` settings for this server."""
        return {
            "realm": self.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(self.bundle),
        }

    def start(self) -> TokenServer:
        """Write the signing certificate, bind a free port and serve in a thread."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry-sdk token")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        if self.tls_context is not None:
            server.socket = self.tls_context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count(self, method: str | None = None) -> int:
        """How many token requests were answered (optionally of one method)."""
        return sum(1 for r in self.log if method is None or r.method == method)

    # ------------------------------------------------------------------ issuing

    def grant(self, user: str, scopes: list[str]) -> list[dict[str, Any]]:
        """The access claim: requested actions intersected with what *user* may do."""
        access = []
        for text in scopes:
            rtype, _, rest = text.partition(":")
            name, _, actions = rest.rpartition(":")
            if rtype != "repository":
                continue
            allowed: set[str] = set()
            for pattern, acts in GRANTS.get(user, []) + GRANTS[""]:
                if fnmatch.fnmatchcase(name, pattern):
                    allowed |= set(acts)
            granted = [a for a in actions.split(",") if a in allowed]
            if granted:
                access.append({"type": rtype, "name": name, "actions": granted})
        return access

    def issue(self, user: str, scopes: list[str], *, offline: bool) -> dict[str, Any]:
        """A token response body for *user*."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + self.lifetime + self.jwt_skew,
            "jti": secrets.token_hex(8),
            "access": self.grant(user, scopes),
        }
        token = jwt.encode(
            claims,
            self._key,
            algorithm="ES256",
            headers={"kid": libtrust_kid(self._key.public_key())},
        )
        body: dict[str, Any] = {
            "token": token,
            "access_token": token,
            "expires_in": self.lifetime,
            "issued_at": datetime.datetime.now(datetime.UTC).isoformat(),
        }
        if offline and user:
            refresh = "refresh-SECRET-" + secrets.token_hex(8)
            self.refresh_tokens[refresh] = user
            body["refresh_token"] = refresh
        return body


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(
            self, status: int, body: dict[str, Any], user: str, grant: str, scopes: list[str]
        ) -> None:
            # Log before answering: a client that counts right after the response must
            # find the entry already there.
            server.log.append(
                LoggedRequest(
                    self.command, urlsplit(self.path).path, user, grant, tuple(scopes), status
                )
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _basic_user(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return ""
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user if USERS.get(user) == password else None

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            scopes = query.get("scope", [])
            if server.refuse_get:
                self._answer(404, {"error": "not_found"}, "", "get", scopes)
                return
            user = self._basic_user()
            if user is None:
                self._answer(401, {"error": "invalid credentials"}, "?", "get", scopes)
                return
            offline = query.get("offline_token", [""])[0] == "true"
            self._answer(200, server.issue(user, scopes, offline=offline), user, "get", scopes)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            scopes = form.get("scope", "").split()
            grant = form.get("grant_type", "")
            if server.refuse_post:
                self._answer(server.refuse_post, {"error": "unsupported"}, "", grant, scopes)
                return
            if grant == "refresh_token":
                user = server.refresh_tokens.pop(form.get("refresh_token", ""), None)
            elif grant == "password":
                name = form.get("username", "")
                user = name if USERS.get(name) == form.get("password") else None
            else:
                self._answer(400, {"error": "unsupported_grant_type"}, "", grant, scopes)
                return
            if user is None:
                self._answer(401, {"error": "invalid_grant"}, "?", grant, scopes)
                return
            self._answer(200, server.issue(user, scopes, offline=True), user, grant, scopes)

    return Handler
