"""A token-auth registry over TLS, with its token server over TLS too: one call.

The benchmarks start such stacks (a private CA from trustme, a certificate for
127.0.0.1 and localhost, distribution 2.8 verifying the token server's JWTs); the
certificate files land in *root*/tls.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import attrs
import trustme

from tests.support.registry import TLS, RunningRegistry, start_registry
from tests.support.token_server import TokenServer


@attrs.define
class TLSFiles:
    """A private CA and a server certificate for 127.0.0.1 and localhost, on disk."""

    root: Path
    cert: trustme.LeafCert
    tls: TLS

    @classmethod
    def make(cls, root: Path) -> TLSFiles:
        """Issue the certificate and write cert.pem, key.pem and ca.pem under *root*/tls."""
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        folder = root / "tls"
        folder.mkdir(parents=True)
        for name, pem in (
            ("cert.pem", cert.cert_chain_pems[0]),
            ("key.pem", cert.private_key_pem),
            ("ca.pem", ca.cert_pem),
        ):
            pem.write_to_path(str(folder / name))
        return cls(root, cert, TLS(folder / "cert.pem", folder / "key.pem", folder / "ca.pem"))

    @property
    def ca(self) -> str:
        """The CA bundle's path, for `ca_certs=`."""
        return str(self.tls.ca)

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting the certificate."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(ctx)
        return ctx


def token_stack(files: TLSFiles, name: str) -> tuple[RunningRegistry, TokenServer]:
    """A token server and a registry verifying its tokens, both over TLS, in *name*."""
    server = TokenServer(files.root / name / "auth", tls_context=files.server_context()).start()
    reg = start_registry(
        files.root / name / "registry", token=server.registry_config(), tls=files.tls
    )
    return reg, server
