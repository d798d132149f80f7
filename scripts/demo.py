"""The main job: list the tags of a repository.

With no argument, start a real local registry (Debian's docker-registry in token mode,
with the test suite's token server), seed a small image, log in, and list tags and show
a manifest through the `registry-sdk` command line with `-v`, so the token flow shows.
With a repository argument, list that repository's tags (credentials from the usual
docker/podman files).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "registry_sdk.cli"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    print(f"\n$ registry-sdk {' '.join(args)}", flush=True)
    done = subprocess.run([*CLI, *args], env=env, input=stdin, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"demo: registry-sdk {args[0]} exited {done.returncode}")


def local_demo() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support.registry import start_registry
    from tests.support.seed import image
    from tests.support.token_server import USERS, TokenServer

    from registry_sdk.authn import Basic
    from registry_sdk.name import Repository
    from registry_sdk.transport import Transport

    with tempfile.TemporaryDirectory(prefix="registry-sdk-demo-") as tmp:
        root = Path(tmp)
        server = TokenServer(root / "auth").start()
        reg = start_registry(root / "registry", token=server.registry_config())
        try:
            print(f"demo: registry (token auth) at {reg.address}, token server at {server.realm}")
            repo = Repository.parse(f"{reg.address}/alice/demo")
            seeder = Transport(repo.registry, Basic("alice", USERS["alice"]))
            for tag in ("v1", "v2", "latest"):
                image(seeder, repo, tag, layer=f"layer {tag}".encode())
            env = {**os.environ, "HOME": str(root), "DOCKER_CONFIG": str(root / "docker")}
            for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_AUTH_CONFIG"):
                env.pop(name, None)
            # A loopback registry needs no --insecure: https is tried first, and plain
            # http used once the handshake shows the registry speaks it (see -v).
            run(
                ["login", reg.address, "-u", "alice", "--password-stdin"],
                env,
                stdin=USERS["alice"] + "\n",
            )
            run(["-v", "tags", str(repo)], env)
            run(["manifest", f"{repo}:v1"], env)
            run(["digest", f"{repo}:latest"], env)
        finally:
            reg.stop()
            server.stop()


def main() -> None:
    if len(sys.argv) > 1:
        done = subprocess.run([*CLI, "tags", *sys.argv[1:]], check=False)
        raise SystemExit(done.returncode)
    local_demo()


if __name__ == "__main__":
    main()
