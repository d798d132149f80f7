"""Copy benchmark: `Client.copy` beside skopeo, on two local token-auth registries.

    python benchmarks/copy_bench.py [--quick] [--json benchmarks/results/copy.json]

Starts two of Debian's docker-registry in token mode behind TLS (each with the test
suite's token server, one trustme CA), seeds a multi-arch image (an OCI index of 2
platforms x 3 layers of random bytes, 8 MiB each: 48 MiB of layers), then, round by
round, alternating which goes first, copies it with

* `skopeo copy --all` (Debian's, the Go peer: containers/image), and
* `Client.copy` in a fresh Python process (so both pay their process start),

to a fresh destination repository each time: within one registry (blobs mounted) and
across the two (blobs streamed). Each row gives medians over the rounds: wall time of the
whole process, requests in the registries' access logs and the token servers' logs,
blob upload requests (PATCH/PUT under `blobs/uploads/`; zero when every blob is mounted),
and the process's own peak RSS (VmHWM). A last table grows the layers (8, 32, 64 MiB) to
show that our peak memory does not follow the blob size.

Each round and case copies a newly seeded image (new random layers): skopeo keeps a
blob-info cache of where it has seen each blob (for root, system-wide in
/var/lib/containers/cache, whatever HOME says) and, copying the same image again, mounts
it from the repositories its earlier rounds wrote, even "across registries", which is
no longer a first copy. Ours runs with a new Client per process. `wall s` is the whole
process (Python's start and imports included, about 0.15 s here); `copy() s` the call
alone.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def vmhwm_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def child(src: str, dst: str, ca: str, user: str, password: str) -> None:
    """One `Client.copy` in this (fresh) process; prints JSON seconds and peak RSS."""
    start = time.perf_counter()
    from registry_sdk.authn import Basic, StaticKeychain
    from registry_sdk.client import Client
    from registry_sdk.name import Tag

    source, target = Tag.parse(src), Tag.parse(dst)
    creds = Basic(user, password)
    client = Client(
        keychain=StaticKeychain({source.registry.name: creds, target.registry.name: creds}),
        ca_certs=ca,
    )
    begin = time.perf_counter()
    desc = client.copy(source, target)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "digest": desc.digest,
                "copy s": done - begin,
                "process s": done - start,
                "VmHWM kB": vmhwm_kb(),
            }
        )
    )


# ----------------------------------------------------------------------- the parent


def _setup_path() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))


sys.path.insert(0, str(ROOT / "benchmarks"))
from _table import table


class Registries:
    """Two token-auth TLS registries (A and B), each with its own token server."""

    def __init__(self, root: Path) -> None:
        from tests.support.stack import TLSFiles, token_stack
        from tests.support.token_server import USERS

        self.user, self.password = "alice", USERS["alice"]
        files = TLSFiles.make(root)
        self.ca = files.ca
        self.servers, self.regs = [], []
        for name in ("a", "b"):
            reg, server = token_stack(files, name)
            self.servers.append(server)
            self.regs.append(reg)

    def client(self) -> Any:
        from registry_sdk.authn import Basic, StaticKeychain
        from registry_sdk.client import Client

        creds = Basic(self.user, self.password)
        return Client(
            keychain=StaticKeychain({r.address: creds for r in self.regs}), ca_certs=self.ca
        )

    def marks(self) -> tuple[list[int], list[int]]:
        return ([len(r.requests(agent="")) for r in self.regs], [len(s.log) for s in self.servers])

    def since(self, marks: tuple[list[int], list[int]]) -> dict[str, int]:
        logs = [r.requests(agent="")[m:] for r, m in zip(self.regs, marks[0], strict=True)]
        every = [line for log in logs for line in log]
        uploads = [x for x in every if "/blobs/uploads/" in x[1] and x[0] in ("PATCH", "PUT")]
        return {
            "registry requests": len(every),
            "token requests": sum(
                len(s.log) - m for s, m in zip(self.servers, marks[1], strict=True)
            ),
            "blob uploads": len(uploads),
        }

    def stop(self) -> None:
        for reg in self.regs:
            reg.stop()
        for server in self.servers:
            server.stop()


def seed(env: Registries, layer_size: int) -> tuple[str, str]:
    """The 2 x 3 index in registry A; returns its tag reference and digest."""
    from tests.support.seed import multiarch

    from registry_sdk.name import Repository

    repo = Repository.parse(f"{env.regs[0].address}/alice/src{layer_size // MIB}")
    digest, _ = multiarch(env.client(), repo, "v1", layer_size=layer_size)
    return f"{repo}:v1", digest


def run_skopeo(env: Registries, src: str, dst: str, home: Path) -> dict[str, Any]:
    creds = f"{env.user}:{env.password}"
    start = time.perf_counter()
    # GNU time would add a process; skopeo's peak RSS is read from wait4's rusage instead.
    proc = subprocess.Popen(
        [
            "skopeo",
            "copy",
            "--all",
            "--preserve-digests",
            "--retry-times",
            "0",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--src-creds",
            creds,
            "--dest-creds",
            creds,
            f"docker://{src}",
            f"docker://{dst}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"skopeo failed: {err}")
    if proc.stderr:
        proc.stderr.close()
    return {"process s": seconds, "VmHWM kB": usage.ru_maxrss}


def run_ours(env: Registries, src: str, dst: str) -> dict[str, Any]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", src, dst, env.ca, env.user, env.password],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"Client.copy failed: {out.stderr}")
    got: dict[str, Any] = json.loads(out.stdout)
    got["process s"] = seconds
    return got


def compare(env: Registries, rounds: int, home: Path) -> list[dict[str, Any]]:
    client = env.client()
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for n in range(rounds):
        for case, reg in (
            ("within one registry (mount)", env.regs[0]),
            ("across two registries", env.regs[1]),
        ):
            tools = ["skopeo", "registry-sdk"]
            if n % 2:
                tools.reverse()
            src, digest = seed(env, 8 * MIB)  # new bytes: nothing cached anywhere
            for tool in tools:
                dst = f"{reg.address}/alice/{tool[:3]}{secrets.token_hex(4)}:v1"
                marks = env.marks()
                got = (
                    run_ours(env, src, dst)
                    if tool == "registry-sdk"
                    else run_skopeo(env, src, dst, home)
                )
                got.update(env.since(marks))
                if client.digest(dst) != digest:
                    raise RuntimeError(f"{tool} copied {src} to {dst} with another digest")
                samples.setdefault((case, tool), []).append(got)
    rows = []
    for (case, tool), runs in samples.items():
        row: dict[str, Any] = {"case": case, "tool": tool}
        row["wall s"] = round(statistics.median(g["process s"] for g in runs), 3)
        copy_s = [g["copy s"] for g in runs if "copy s" in g]
        row["copy() s"] = round(statistics.median(copy_s), 3) if copy_s else "-"
        for key in ("registry requests", "token requests", "blob uploads"):
            row[key] = statistics.median(g[key] for g in runs)
        row["peak RSS MiB"] = round(max(g["VmHWM kB"] for g in runs) / 1024)
        rows.append(row)
    rows.sort(key=lambda r: (r["case"], r["tool"]))
    for case in {r["case"] for r in rows}:
        theirs = next(r for r in rows if r["case"] == case and r["tool"] == "skopeo")
        for row in rows:
            if row["case"] == case:
                row["vs skopeo"] = round(row["wall s"] / theirs["wall s"], 2)
    return rows


def memory(env: Registries, sizes: list[int], home: Path) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        src, _ = seed(env, size)
        for tool in ("registry-sdk", "skopeo"):
            dst = f"{env.regs[1].address}/alice/m{tool[:3]}{secrets.token_hex(4)}:v1"
            got = run_skopeo(env, src, dst, home) if tool == "skopeo" else run_ours(env, src, dst)
            rows.append(
                {
                    "layer MiB": size // MIB,
                    "image MiB": 6 * size // MIB,
                    "tool": tool,
                    "wall s": round(got["process s"], 3),
                    "peak RSS MiB": round(got["VmHWM kB"] / 1024),
                }
            )
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:7])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "copy.json"))
    args = parser.parse_args()
    if shutil.which("skopeo") is None:
        sys.exit("skopeo is not installed (Debian: apt-get install skopeo)")
    _setup_path()
    rounds = args.rounds or (2 if args.quick else 7)
    sizes = [8 * MIB, 32 * MIB] if args.quick else [8 * MIB, 32 * MIB, 64 * MIB]
    with tempfile.TemporaryDirectory(prefix="registry-sdk-copy-bench-") as tmp:
        env = Registries(Path(tmp))
        try:
            home = Path(tmp) / "skopeo-home"
            home.mkdir()
            results = {
                "Copy a 2-platform x 3-layer index (48 MiB of layers), medians of "
                f"{rounds} rounds": compare(env, rounds, home),
                "Peak memory as the layers grow (across two registries, one run each)": memory(
                    env, sizes, home
                ),
            }
        finally:
            env.stop()
    for title, rows in results.items():
        print(f"\n### {title}\n\n{table(rows)}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"\n(JSON written to {args.json})")


if __name__ == "__main__":
    main()
