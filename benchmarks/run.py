"""The benchmark: one command, real local registries (token auth; TLS and plain http), tables.

    python benchmarks/run.py [--quick] [--json benchmarks/results/latest.json]

Starts Debian's docker-registry in token mode behind TLS (the test suite's token server
and a trustme CA), and a second one in token mode over plain http (loopback, no insecure
flag), seeds them, then measures:

1. HTTP requests per operation, ours beside the go-containerregistry pattern (a ping and
   a token for every new transport), counted from the registry and token server logs;
2. warm manifest GETs: requests per second and client CPU microseconds per request, at 1
   and 8 threads (one shared Client), over https and over plain http, against raw urllib3
   with a token fetched beforehand (the same URL, the same bytes), and oras-py /
   python-dxf over https when installed (`pip install --group benchmarks`);
3. blob downloads (16/64/256 MiB) with verification, against raw urllib3 streaming with
   and without hashing and hashlib's sha256 alone over the same bytes, with the child
   process's own peak RSS (VmHWM);
4. reference parsing, against docker-py's and oras-py's parsers when installed;
5. the token cache under contention: 16 threads, 1,000 requests over 5 repositories;
0. the targets of issue 11, each beside its anchor from the same run, with the ratio.

The machine is shared and noisy: clients are interleaved round by round and medians are
reported; client CPU time (process_time) is steadier than wall time.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import urllib3
from _table import table
from tests.support.registry import RunningRegistry, start_registry
from tests.support.seed import image, push_blob
from tests.support.stack import TLSFiles, token_stack
from tests.support.token_server import USERS

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.name import Repository
from registry_sdk.transport import Transport

MIB = 1024 * 1024
USER, PASSWORD = "alice", USERS["alice"]


class Env:
    """The running registry, token server and seeded content."""

    def __init__(self, root: Path, blob_sizes: list[int]) -> None:
        files = TLSFiles.make(root)
        self.ca = files.ca
        self.reg, self.server = token_stack(files, "tls")
        self.repos = [Repository.parse(f"{self.reg.address}/alice/r{i}") for i in range(5)]
        seeder = Transport(self.reg.address, Basic(USER, PASSWORD), ca_certs=self.ca)
        self.digests = [image(seeder, repo, "v1")[0] for repo in self.repos]
        # The same measurement over plain http: a loopback registry, no insecure flag.
        self.plain: RunningRegistry = start_registry(
            root / "plain", token=self.server.registry_config()
        )
        self.plain_repo = Repository.parse(f"{self.plain.address}/alice/r0")
        image(
            Transport(self.plain.address, Basic(USER, PASSWORD), ca_certs=self.ca),
            self.plain_repo,
            "v1",
        )
        self.blob_repo = Repository.parse(f"{self.reg.address}/alice/blobs")
        self.blobs: dict[int, str] = {}
        chunk = os.urandom(4 * MIB)
        for size in blob_sizes:
            digest, _ = push_blob(
                seeder,
                self.blob_repo,
                (chunk[:-1] + bytes([size // MIB % 256]) for _ in range(size // (4 * MIB))),
            )
            self.blobs[size] = digest

    def client(self) -> Client:
        auth = Basic(USER, PASSWORD)
        return Client(
            keychain=StaticKeychain({self.reg.address: auth, self.plain.address: auth}),
            ca_certs=self.ca,
        )

    def token(self, scope: str) -> str:
        pool = urllib3.PoolManager(ca_certs=self.ca)
        resp = pool.request(
            "GET",
            f"{self.server.realm}?service=registry-sdk-tests&scope={scope}",
            headers=urllib3.make_headers(basic_auth=f"{USER}:{PASSWORD}"),
        )
        token: str = resp.json()["token"]
        return token

    def stop(self) -> None:
        self.reg.stop()
        self.plain.stop()
        self.server.stop()


# ------------------------------------------------------------------ 1. requests


def requests_per_operation(env: Env) -> list[dict[str, Any]]:
    client = env.client()
    r0, r1 = env.repos[0], env.repos[1]
    ops: list[tuple[str, Callable[[], object]]] = [
        ("first tags() on a repository", lambda: client.list_tags(r0)),
        ("the same again", lambda: client.list_tags(r0)),
        ("a second repository, same registry", lambda: client.list_tags(r1)),
        ("manifest by tag", lambda: client.get_manifest(r1.with_tag("v1"))),
        ("manifest by digest", lambda: client.get_manifest(r1.with_digest(env.digests[1]))),
    ]
    pool = urllib3.PoolManager(ca_certs=env.ca)
    rows = []
    for label, op in ops:
        before_reg, before_tok = len(env.reg.requests()), env.server.count()
        op()
        ours = len(env.reg.requests()) - before_reg + env.server.count() - before_tok
        before_reg, before_tok = len(env.reg.requests("ggcr-pattern")), env.server.count()
        _ggcr_pattern(env, pool, r1 if "second" in label or "manifest" in label else r0)
        ggcr = len(env.reg.requests("ggcr-pattern")) - before_reg + env.server.count() - before_tok
        rows.append({"operation": label, "registry-sdk": ours, "ggcr pattern": ggcr})
    return rows


def _ggcr_pattern(env: Env, pool: urllib3.PoolManager, repo: Repository) -> None:
    """What go-containerregistry does per remote call: ping, token, then the request."""
    ua = {"User-Agent": "ggcr-pattern"}
    pool.request("GET", f"https://{env.reg.address}/v2/", headers=ua)
    token = env.token(f"repository:{repo.path}:pull")
    pool.request(
        "GET",
        f"https://{env.reg.address}/v2/{repo.path}/tags/list",
        headers={**ua, "Authorization": f"Bearer {token}"},
    )


# ----------------------------------------------------------------- 2. warm GETs


def _measure(fn: Callable[[], object], threads: int, per_thread: int) -> tuple[float, float]:
    """(requests per second, client CPU µs per request) for *threads* × *per_thread*."""

    def work() -> None:
        for _ in range(per_thread):
            fn()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    wall, cpu = time.perf_counter(), time.process_time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    total = threads * per_thread
    return total / wall, cpu / total * 1e6


def _via_transport(t: Transport, url: str, headers: dict[str, str]) -> bytes:
    return t.request("GET", url, headers=headers).data


def _via_raw(pool: urllib3.PoolManager, url: str, headers: dict[str, str]) -> bytes:
    return pool.request("GET", url, headers=headers).data


def warm_gets(env: Env, quick: bool) -> list[dict[str, Any]]:
    """Warm manifest GETs over https and over plain http, each beside raw urllib3."""
    accept = ", ".join(
        ("application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json")
    )
    client = env.client()
    raw_pool = urllib3.PoolManager(ca_certs=env.ca, maxsize=16)
    contenders: dict[tuple[str, str], Callable[[], object]] = {}
    for protocol, repo in (("https", env.repos[0]), ("http", env.plain_repo)):
        ref = repo.with_tag("v1")
        client.get_manifest(ref)  # warm: a token cached, plain http learned
        transport = client.transport(repo)
        url = transport.url(f"/v2/{repo.path}/manifests/v1")
        assert url.startswith(f"{protocol}://"), url
        raw_headers = {
            "Authorization": f"Bearer {env.token(f'repository:{repo.path}:pull')}",
            "Accept": accept,
        }
        contenders.update(
            {
                (protocol, "registry-sdk"): functools.partial(client.get_manifest, ref),
                # The same bytes through Transport alone: no model, no digest check.
                (protocol, "registry-sdk Transport"): functools.partial(
                    _via_transport, transport, url, {"Accept": accept}
                ),
                (protocol, "raw urllib3"): functools.partial(_via_raw, raw_pool, url, raw_headers),
            }
        )
    contenders.update({("https", name): fn for name, fn in _peers(env, env.repos[0]).items()})
    rounds, n1, n8 = (3, 200, 50) if quick else (7, 600, 150)
    results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for (protocol, name), fn in contenders.items():
            fn()
            results.setdefault((protocol, name, 1), []).append(_measure(fn, 1, n1))
            if name in ("registry-sdk", "registry-sdk Transport", "raw urllib3"):
                results.setdefault((protocol, name, 8), []).append(_measure(fn, 8, n8))
    medians = {
        key: (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
        for key, samples in results.items()
    }
    rows: list[dict[str, Any]] = []
    for (protocol, name, threads), (rps, cpu) in sorted(
        medians.items(), key=lambda kv: (kv[0][0] != "https", kv[0][2])
    ):
        raw_rps, raw_cpu = medians[(protocol, "raw urllib3", threads)]
        rows.append(
            {
                "protocol": protocol,
                "client": name,
                "threads": threads,
                "requests/s": round(rps),
                "client CPU µs/request": round(cpu),
                "CPU vs raw": round(cpu / raw_cpu, 2),
                "throughput vs raw": round(rps / raw_rps, 2),
            }
        )
    return rows


def _peers(env: Env, repo: Repository) -> dict[str, Callable[[], object]]:
    peers: dict[str, Callable[[], object]] = {}
    try:
        from dxf import DXF

        def auth(dxf: Any, response: Any) -> None:
            dxf.authenticate(USER, PASSWORD, response=response)

        d = DXF(env.reg.address, repo.path, auth=auth, tlsverify=env.ca)
        d.get_manifest("v1")
        peers["python-dxf"] = lambda: d.get_manifest("v1")
    except Exception as exc:  # noqa: BLE001 (a missing or failing peer is reported, not fatal)
        print(f"python-dxf: {type(exc).__name__}: {exc}", file=sys.stderr)
    try:
        from oras.provider import Registry

        o = Registry(hostname=env.reg.address, tls_verify=env.ca)
        o.login(USER, PASSWORD)
        name = f"{env.reg.address}/{repo.path}:v1"
        o.get_manifest(name)
        peers["oras-py"] = lambda: o.get_manifest(name)
    except Exception as exc:  # noqa: BLE001
        print(f"oras-py: {type(exc).__name__}: {exc}", file=sys.stderr)
    return peers


# --------------------------------------------------------------------- 3. blobs


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process *pid* so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BLOB_MODES = (
    "registry-sdk",
    "registry-sdk, hash on a thread",
    "raw urllib3",
    "raw urllib3 + sha256",
    "sha256 alone",
)


def blobs(env: Env, rounds: int) -> list[dict[str, Any]]:
    """Verified downloads beside raw, raw + sha256 in series, and sha256 alone.

    Each sample is a fresh child process (its own VmHWM), warm (a connection and a
    token) before the timed GET; modes are interleaved round by round and medians
    reported. The limit of a verified download is the slower of raw and sha256 alone.
    Client CPU is the child's during the timed part; registry CPU is the registry
    process's over the whole child (both share this machine's cores).
    """
    token = env.token(f"repository:{env.blob_repo.path}:pull")
    rows = []
    for size, digest in env.blobs.items():
        samples: dict[str, list[dict[str, Any]]] = {}
        for _ in range(rounds):
            for mode in BLOB_MODES:
                before = _cpu_seconds(env.reg.process.pid)
                out = subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "benchmarks" / "_blob_child.py"),
                        mode,
                        env.reg.address,
                        env.blob_repo.path,
                        digest,
                        env.ca,
                    ],
                    env={
                        **os.environ,
                        "BENCH_TOKEN": token,
                        "BENCH_USER": USER,
                        "BENCH_PASSWORD": PASSWORD,
                    },
                    capture_output=True,
                    text=True,
                    check=True,
                )
                sample = json.loads(out.stdout)
                sample["registry CPU s"] = _cpu_seconds(env.reg.process.pid) - before
                samples.setdefault(mode, []).append(sample)
        speeds = {mode: statistics.median(s["MiB/s"] for s in got) for mode, got in samples.items()}
        raw = speeds["raw urllib3"]
        limit = min(raw, speeds["sha256 alone"])
        for mode, got in samples.items():
            rss = round(max(s["VmHWM kB"] for s in got) / 1024)
            rows.append(
                {
                    "blob": f"{size // MIB} MiB",
                    "client": mode,
                    "MiB/s": round(speeds[mode]),
                    "vs raw": round(speeds[mode] / raw, 2),
                    "vs limit": round(speeds[mode] / limit, 2),
                    "client CPU s": round(statistics.median(s["CPU s"] for s in got), 2),
                    "registry CPU s": round(statistics.median(s["registry CPU s"] for s in got), 2),
                    "peak RSS MiB": f"({rss}: holds the blob)" if mode == "sha256 alone" else rss,
                }
            )
    return rows


# ------------------------------------------------------------------- 4. parsing


def parsing() -> list[dict[str, Any]]:
    from parse import corpus, import_ms

    from registry_sdk.errors import InvalidReference
    from registry_sdk.name import parse_reference

    refs, valid = corpus()
    parsers: dict[str, tuple[Callable[[str], object], tuple[type[BaseException], ...]]] = {
        "registry-sdk": (parse_reference, (InvalidReference,))
    }
    try:
        from docker.utils import parse_repository_tag

        parsers["docker-py"] = (parse_repository_tag, (ValueError,))
    except ImportError:
        pass
    try:
        from oras.container import Container

        parsers["oras-py"] = (Container, (ValueError,))
    except ImportError:
        pass
    rows = []
    for name, (fn, errors) in parsers.items():
        best, accepted_invalid = float("inf"), 0
        for _ in range(7):
            start = time.process_time()
            for ref in refs:
                try:
                    fn(ref)
                except errors:
                    pass
            best = min(best, time.process_time() - start)
        for ref, ok in zip(refs, valid, strict=True):
            if not ok:
                try:
                    fn(ref)
                    accepted_invalid += 1
                except errors:
                    pass
        rows.append(
            {
                "parser": name,
                "references/s (CPU)": round(len(refs) / best),
                "invalid accepted (of 1,000)": accepted_invalid,
            }
        )
    rows.append(
        {
            "parser": "import registry_sdk.name (ms)",
            "references/s (CPU)": round(import_ms("registry_sdk.name"), 1),
            "invalid accepted (of 1,000)": "",
        }
    )
    rows.append(
        {
            "parser": "import registry_sdk (ms)",
            "references/s (CPU)": round(import_ms("registry_sdk"), 1),
            "invalid accepted (of 1,000)": "",
        }
    )
    return rows


# ---------------------------------------------------------------- 5. contention


def contention(env: Env) -> list[dict[str, Any]]:
    client = env.client()
    errors: list[BaseException] = []
    before = env.server.count()

    def work(index: int) -> None:
        for i in range(1000 // 16 + (1 if index < 1000 % 16 else 0)):
            try:
                client.get_manifest(env.repos[(index + i) % 5].with_tag("v1"))
            except Exception as exc:  # noqa: BLE001 (counted and reported)
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [
        {
            "threads": 16,
            "requests": 1000,
            "repositories": 5,
            "token exchanges": env.server.count() - before,
            "errors": len(errors),
        }
    ]


# ------------------------------------------------------------------- 0. targets


def targets(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Issue 11's hot-path targets, each beside its anchor from this run."""
    rows: list[dict[str, Any]] = []

    def add(
        target: str,
        value: float,
        anchor_name: str,
        anchor: float,
        *,
        ratio: float,
        goal: str,
        met: bool,
    ) -> None:
        rows.append(
            {
                "target": target,
                "measured": value,
                "anchor": anchor_name,
                "anchor value": anchor,
                "ratio": round(ratio, 2),
                "goal": goal,
                "met": "yes" if met else "NO",
            }
        )

    warm = {
        (r["protocol"], r["client"], r["threads"]): r
        for r in results.get("2. Warm manifest GETs", [])
    }
    for protocol in ("https", "http"):
        for client in ("registry-sdk Transport", "registry-sdk"):
            for threads in (1, 8):
                row = warm.get((protocol, client, threads))
                raw = warm.get((protocol, "raw urllib3", threads))
                if row is None or raw is None:
                    continue
                ratio = row["CPU vs raw"]  # from the unrounded medians
                name = "Client.get_manifest" if client == "registry-sdk" else "Transport"
                add(
                    f"warm GET CPU µs, {name}, {protocol}, {threads} thread(s)",
                    row["client CPU µs/request"],
                    "raw urllib3",
                    raw["client CPU µs/request"],
                    ratio=ratio,
                    goal="<= 1.2",
                    met=ratio <= 1.2,
                )
    blob_rows = results.get("3. Blob download, verified", [])
    by = {(r["blob"], r["client"]): r for r in blob_rows}
    biggest = blob_rows[-1]["blob"] if blob_rows else None
    if biggest is not None:
        ours = by[(biggest, "registry-sdk")]["MiB/s"]
        raw, alone = by[(biggest, "raw urllib3")]["MiB/s"], by[(biggest, "sha256 alone")]["MiB/s"]
        limit = min(raw, alone)
        add(
            f"verified blob MiB/s, {biggest}",
            ours,
            "min(raw, sha256 alone)",
            limit,
            ratio=ours / limit,
            goal=">= 0.9",
            met=ours / limit >= 0.9,
        )
        series = by[(biggest, "raw urllib3 + sha256")]["MiB/s"]
        add(
            f"verified blob MiB/s, {biggest}",
            ours,
            "raw + sha256 in series",
            series,
            ratio=ours / series,
            goal="(context)",
            met=True,
        )
        rss = [r["peak RSS MiB"] for r in blob_rows if r["client"] == "registry-sdk"]
        flat = max(rss) - min(rss) <= 8
        add(
            f"verified blob peak RSS MiB, {blob_rows[0]['blob']}..{biggest}",
            max(rss),
            f"smallest blob's ({blob_rows[0]['blob']})",
            min(rss),
            ratio=max(rss) / min(rss),
            goal="flat (<= +8 MiB)",
            met=flat,
        )
    parse = {
        r["parser"]: r["references/s (CPU)"]
        for r in results.get("4. Reference parsing (10,000 mixed, a tenth invalid)", [])
    }
    exact = "docker-image-py"  # the only other exact parser (docker-py accepts anything)
    if "registry-sdk" in parse and exact in parse:
        ours, peer = parse["registry-sdk"], parse[exact]
        add(
            "parsing, references/s (CPU)",
            ours,
            exact,
            peer,
            ratio=ours / peer,
            goal=">= 6",
            met=ours / peer >= 6,
        )
    if "import registry_sdk.name (ms)" in parse:
        ms = parse["import registry_sdk.name (ms)"]
        add(
            "import registry_sdk.name, ms",
            ms,
            "26 ms (issue 11)",
            26,
            ratio=ms / 26,
            goal="< 1",
            met=ms < 26,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    sizes = [16 * MIB] if args.quick else [16 * MIB, 64 * MIB, 256 * MIB]
    with tempfile.TemporaryDirectory(prefix="registry-sdk-bench-") as tmp:
        env = Env(Path(tmp), sizes)
        try:
            results: dict[str, list[dict[str, Any]]] = {
                "1. HTTP requests per operation": requests_per_operation(env),
                "2. Warm manifest GETs": warm_gets(env, args.quick),
                "3. Blob download, verified": blobs(env, 1 if args.quick else 3),
                "4. Reference parsing (10,000 mixed, a tenth invalid)": parsing(),
                "5. Token cache under contention": contention(env),
            }
        finally:
            env.stop()
    results = {
        "0. Targets (issue 11), each beside its anchor from this run": targets(results),
        **results,
    }
    for title, rows in results.items():
        print(f"\n### {title}\n\n{table(rows)}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"\n(JSON written to {args.json})")


if __name__ == "__main__":
    main()
