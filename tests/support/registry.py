"""Start and stop a real registry: Debian's `docker-registry` (CNCF distribution 2.8).

The registry runs on 127.0.0.1 on a free port, in a temporary directory, with every
`REGISTRY_*` variable scrubbed from its environment (distribution reads them as config
overrides). It is stopped by pid. Modes: `open`, `htpasswd` (bcrypt), and `token` (a
token server of the tests' own signs JWTs the registry verifies by `kid`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import attrs
import bcrypt

BINARY = "docker-registry"
_ACCESS = re.compile(
    r'^\S+ - \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d+) '
    r'\S+ "[^"]*" "(?P<agent>[^"]*)"$',
    re.MULTILINE,
)


def registry_binary() -> str:
    """The registry binary's path; in CI a missing binary is a failure, not a skip."""
    path = shutil.which(BINARY) or (
        "/usr/bin/" + BINARY if Path("/usr/bin/" + BINARY).exists() else None
    )
    if path is None:
        raise RuntimeError(
            f"{BINARY} not found: install Debian's docker-registry package (scripts/bootstrap does)"
        )
    return path


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.define
class TLS:
    """Certificate files for a TLS registry, and the CA that signed them."""

    cert: Path
    key: Path
    ca: Path


@attrs.define
class RunningRegistry:
    """A registry process the tests started."""

    host: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    tls: TLS | None
    users: Mapping[str, str]
    log_path: Path

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`, the registry name to use in references."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL, with the scheme the registry serves."""
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def log(self) -> str:
        """The registry's log so far (for failure messages and request counts)."""
        return self.log_path.read_text(errors="replace")

    def requests(self, agent: str = "registry-sdk") -> list[tuple[str, str, int]]:
        """(method, path, status) of each request in the access log whose User-Agent
        contains *agent*, in order.

        distribution writes an access-log line after it has sent the response, so the log
        is read until two reads 50 ms apart agree (at most 2 s).
        """
        text, deadline = self.log(), time.monotonic() + 2
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = self.log()
            if again == text:
                break
            text = again
        out = []
        for match in _ACCESS.finditer(text):
            if agent in match.group("agent"):
                out.append((match.group("method"), match.group("path"), int(match.group("status"))))
        return out

    def stop(self) -> None:
        """Stop the process by pid and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _htpasswd(users: Mapping[str, str]) -> str:
    return "".join(
        f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
        for u, p in users.items()
    )


def _config(root: Path, port: int, auth: str, tls: TLS | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: false",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'data'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: registry-sdk-tests",
    ]
    if tls is not None:
        lines += ["  tls:", f"    certificate: {tls.cert}", f"    key: {tls.key}"]
    lines += auth.splitlines()
    return "\n".join(lines) + "\n"


def start_registry(
    root: Path,
    *,
    users: Mapping[str, str] | None = None,
    token: Mapping[str, str] | None = None,
    tls: TLS | None = None,
    timeout: float = 20.0,
) -> RunningRegistry:
    """Start a registry in *root*: open, htpasswd (when *users*), or token (when *token*
    gives `realm`, `service`, `issuer` and `rootcertbundle`)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if users:
        (root / "htpasswd").write_text(_htpasswd(users))
        auth = f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {root / 'htpasswd'}"
    elif token:
        auth = "auth:\n  token:\n" + "".join(f"    {k}: {v}\n" for k, v in token.items())
    config = root / "config.yml"
    config.write_text(_config(root, port, auth, tls))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    log_path = root / "registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [registry_binary(), "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    running = RunningRegistry("127.0.0.1", port, root, process, tls, dict(users or {}), log_path)
    _wait_ready(running, timeout)
    return running


def _wait_ready(reg: RunningRegistry, timeout: float) -> None:
    context = ssl.create_default_context(cafile=str(reg.tls.ca)) if reg.tls else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reg.process.poll() is not None:
            raise RuntimeError(f"registry exited with {reg.process.returncode}:\n{reg.log()}")
        try:
            urllib.request.urlopen(f"{reg.url}/v2/", timeout=2, context=context)
        except urllib.error.HTTPError:
            return  # 401 means it is up
        except OSError:
            time.sleep(0.05)
        else:
            return
    reg.stop()
    raise RuntimeError(f"registry did not start within {timeout}s:\n{reg.log()}")
