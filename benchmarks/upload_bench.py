"""Upload benchmark: blob throughput and memory, and pushing an artifact beside peers.

    python benchmarks/upload_bench.py [--quick] [--json benchmarks/results/upload.json]

Starts Debian's docker-registry (distribution 2.8) in token mode on 127.0.0.1 behind
TLS (the test suite's token server and a trustme CA, as benchmarks/run.py; TLS because
python-dxf refuses to send credentials over plain http), writes blobs to files on disk,
then measures in one run, with the contenders interleaved round by round and medians reported:

1. Blob upload throughput (256 MiB; 64 MiB with --quick), each upload in a fresh child
   process into a fresh repository (so nothing is skipped), the same file every time:
   - `push_blob(path, digest=known)`: ours, hashed while sent, checked before commit;
   - `push_blob(path)`: ours, hashed first (a read to learn the digest), then the same;
   - ours in 8 MiB PATCH chunks (what one-shot sources get; the default for files
     before the streamed PATCH);
   - raw urllib3, POST then one `PUT ?digest=` with the file as body, no hashing: the
     anchor (the registry still checks the digest);
   - raw urllib3, 8 MiB PATCH chunks then an empty PUT, no hashing (for reference);
   - hashlib sha256 alone over the same file (read in 1 MiB pieces).
   The target is ours (digest given) >= 0.9x the slower of raw single PUT and sha256.
2. Peak RSS (the child's own VmHWM) of `push_blob(path, digest=known)` and of the raw
   PUT at 16, 64 and 256 MiB: it should be flat across sizes.
3. Pushing the same small OCI artifact (two ~1 MiB files, a config and a manifest) with
   registry-sdk, oras-py and python-dxf: wall time, registry requests (access log, all
   user agents, counted per push) and token server requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _table import table

MIB = 1024 * 1024
USER = "alice"
ANCHOR = "raw urllib3, one PUT"
OURS = "registry-sdk push_blob(path, digest=)"
OURS_HASHED = "registry-sdk push_blob(path)"
OURS_CHUNKED = "registry-sdk push_blob(path, digest=), 8 MiB chunks"
CHUNKED = "raw urllib3, 8 MiB PATCHes"
SHA = "hashlib sha256 alone"
MODES = [OURS, OURS_HASHED, OURS_CHUNKED, ANCHOR, CHUNKED, SHA]


# ------------------------------------------------------------------ the child


def vmhwm_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _raw_token(realm: str, repo: str, password: str) -> str:
    import urllib3

    resp = urllib3.PoolManager(ca_certs=os.environ["BENCH_CA"]).request(
        "GET",
        f"{realm}?service=registry-sdk-tests&scope=repository:{repo}:pull,push",
        headers=urllib3.make_headers(basic_auth=f"{USER}:{password}"),
    )
    token: str = resp.json()["token"]
    return token


def child(mode: str, address: str, repo: str, path: str, digest: str) -> dict[str, Any]:
    """One upload (or one hashing) in this process; speed and the process's peak RSS."""
    size = os.path.getsize(path)
    password, realm, ca = (
        os.environ["BENCH_PASSWORD"],
        os.environ["BENCH_REALM"],
        os.environ["BENCH_CA"],
    )
    if mode in (OURS, OURS_HASHED, OURS_CHUNKED):
        from registry_sdk import _push, _sources
        from registry_sdk.authn import Basic, StaticKeychain
        from registry_sdk.client import Client
        from registry_sdk.name import Repository

        client = Client(keychain=StaticKeychain({address: Basic(USER, password)}), ca_certs=ca)
        target = Repository.parse(f"{address}/{repo}")
        client.blob_exists(target.with_digest(digest))  # connected, as raw urllib3 is
        start = time.perf_counter()
        if mode == OURS_CHUNKED:  # the chunked path (one-shot sources; the old default)
            desc = _push.push_blob(
                client, target, path, digest=digest, chunk_size=_sources.CHUNK_SIZE
            )
        else:
            desc = client.push_blob(target, path, digest=digest if mode == OURS else None)
        seconds = time.perf_counter() - start
        if desc.digest != digest or desc.size != size:
            raise SystemExit(f"wrong descriptor {desc}")
    elif mode == SHA:
        start = time.perf_counter()
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while piece := f.read(MIB):
                h.update(piece)
        seconds = time.perf_counter() - start
        if f"sha256:{h.hexdigest()}" != digest:
            raise SystemExit("digest mismatch")
    else:
        import urllib3

        token = _raw_token(realm, repo, password)
        pool = urllib3.PoolManager(ca_certs=ca)
        auth = {"Authorization": f"Bearer {token}"}
        base = f"https://{address}"
        start = time.perf_counter()
        resp = pool.request("POST", f"{base}/v2/{repo}/blobs/uploads/", headers=auth)
        assert resp.status == 202, resp.status
        location = resp.headers["Location"]
        with open(path, "rb") as f:
            if mode == ANCHOR:
                resp = pool.request(
                    "PUT",
                    f"{_abs(base, location)}{_sep(location)}digest={digest}",
                    body=f,
                    headers={
                        **auth,
                        "Content-Length": str(size),
                        "Content-Type": "application/octet-stream",
                    },
                )
            else:
                offset = 0
                while chunk := f.read(8 * MIB):
                    resp = pool.request(
                        "PATCH",
                        _abs(base, location),
                        body=chunk,
                        headers={
                            **auth,
                            "Content-Type": "application/octet-stream",
                            "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                        },
                    )
                    assert resp.status == 202, resp.status
                    location = resp.headers["Location"]
                    offset += len(chunk)
                resp = pool.request(
                    "PUT", f"{_abs(base, location)}{_sep(location)}digest={digest}", headers=auth
                )
        assert resp.status == 201, (resp.status, resp.data[:300])
        seconds = time.perf_counter() - start
    return {"MiB/s": size / MIB / seconds, "seconds": seconds, "VmHWM kB": vmhwm_kb()}


def _abs(base: str, location: str) -> str:
    return location if location.startswith("http") else base + location


def _sep(location: str) -> str:
    return "&" if "?" in location else "?"


# ----------------------------------------------------------------- the parent


class Env:
    """The registry, its token server, and the blob files."""

    def __init__(self, root: Path) -> None:
        from tests.support.stack import TLSFiles, token_stack
        from tests.support.token_server import USERS

        self.password = USERS[USER]
        files = TLSFiles.make(root)
        self.ca = files.ca
        self.reg, self.server = token_stack(files, "stack")
        self.root = root
        self.files: dict[int, tuple[Path, str]] = {}
        self.counter = 0

    def blob(self, size: int) -> tuple[Path, str]:
        if size not in self.files:
            path = self.root / f"blob-{size // MIB}"
            h = hashlib.sha256()
            piece = os.urandom(MIB)
            with path.open("wb") as f:
                for i in range(size // MIB):
                    block = piece[:-4] + i.to_bytes(4, "big")
                    h.update(block)
                    f.write(block)
            self.files[size] = (path, f"sha256:{h.hexdigest()}")
        return self.files[size]

    def fresh_repo(self) -> str:
        self.counter += 1
        return f"alice/up{self.counter}"

    def run_child(self, mode: str, size: int) -> dict[str, Any]:
        path, digest = self.blob(size)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                self.reg.address,
                self.fresh_repo(),
                str(path),
                digest,
            ],
            env={
                **os.environ,
                "BENCH_PASSWORD": self.password,
                "BENCH_REALM": self.server.realm,
                "BENCH_CA": self.ca,
            },
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{mode}: {out.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    def stop(self) -> None:
        self.reg.stop()
        self.server.stop()


def throughput(env: Env, size: int, rounds: int) -> list[dict[str, Any]]:
    samples: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for mode in MODES:  # warm-up: page cache, the registry's blob store
        env.run_child(mode, size)
    for _ in range(rounds):
        for mode in MODES:
            samples[mode].append(env.run_child(mode, size))
    speed = {m: statistics.median(s["MiB/s"] for s in got) for m, got in samples.items()}
    floor = min(speed[ANCHOR], speed[SHA])
    rows = []
    for mode in MODES:
        rows.append(
            {
                "client": mode,
                "MiB/s (median)": round(speed[mode]),
                "min-max": f"{min(s['MiB/s'] for s in samples[mode]):.0f}-"
                f"{max(s['MiB/s'] for s in samples[mode]):.0f}",
                "vs raw PUT": round(speed[mode] / speed[ANCHOR], 2),
                "vs min(raw PUT, sha256)": round(speed[mode] / floor, 2),
                "peak RSS MiB": round(max(s["VmHWM kB"] for s in samples[mode]) / 1024),
            }
        )
    return rows


def memory(env: Env, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for mode in (OURS, ANCHOR):
        row: dict[str, Any] = {"client": mode}
        for size in sizes:
            got = env.run_child(mode, size)
            row[f"{size // MIB} MiB: peak RSS MiB"] = round(got["VmHWM kB"] / 1024)
        rows.append(row)
    return rows


# ------------------------------------------------------------ artifact pushes


def artifact_files(root: Path) -> list[Path]:
    files = []
    for name in ("a.bin", "b.bin"):
        path = root / "artifact" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(MIB + 123))
        files.append(path)
    return files


def push_ours(env: Env, repo: str, files: list[Path]) -> None:
    from registry_sdk.authn import Basic, StaticKeychain
    from registry_sdk.client import Client
    from registry_sdk.models import OCI_MANIFEST, Descriptor, ImageManifest
    from registry_sdk.name import Repository

    client = Client(
        keychain=StaticKeychain({env.reg.address: Basic(USER, env.password)}), ca_certs=env.ca
    )
    target = Repository.parse(f"{env.reg.address}/{repo}")
    config = client.push_blob(target, b"{}")
    layers = []
    for path in files:
        desc = client.push_blob(target, path)
        layers.append(
            Descriptor(
                "application/octet-stream",
                desc.digest,
                desc.size,
                annotations={"org.opencontainers.image.title": path.name},
            )
        )
    manifest = ImageManifest(
        schema_version=2,
        media_type=OCI_MANIFEST,
        config=Descriptor("application/vnd.oci.empty.v1+json", config.digest, config.size),
        layers=tuple(layers),
        artifact_type="application/vnd.example.bench",
    )
    client.put_manifest(target.with_tag("v1"), manifest)


def push_oras(env: Env, repo: str, files: list[Path]) -> None:
    import oras.client

    o = oras.client.OrasClient(hostname=env.reg.address, tls_verify=env.ca)
    o.login(username=USER, password=env.password, hostname=env.reg.address, tls_verify=env.ca)
    # oras-py 0.2.43 asks for a new token only after a 403: on distribution's 401
    # (insufficient_scope, a pull token cached by the HEAD, push needed by the POST) it
    # sends the cached pull token again and the push fails. Workaround: a fresh token on
    # every 401 (what its 403 path does).
    auth = o.auth
    plain = auth.authenticate_request
    auth.authenticate_request = lambda original, headers, refresh=False: plain(
        original, headers, refresh=True
    )
    cwd = os.getcwd()
    os.chdir(files[0].parent)  # oras-py puts the paths as given in the titles
    try:
        resp = o.push(
            target=f"{env.reg.address}/{repo}:v1",
            files=[p.name for p in files],
            disable_path_validation=True,
            quiet=True,
        )
    finally:
        os.chdir(cwd)
    if getattr(resp, "status_code", 201) not in (200, 201):
        raise RuntimeError(f"oras push: {resp.status_code} {resp.text[:200]}")


def push_dxf(env: Env, repo: str, files: list[Path]) -> None:
    from dxf import DXF

    def auth(d: Any, response: Any) -> None:
        d.authenticate(USER, env.password, response=response)

    d = DXF(env.reg.address, repo, auth=auth, tlsverify=env.ca)
    # bytes go to requests as the body (a list would be form-encoded); dxf types it as
    # Iterable[bytes] (the ignore is unused where dxf is not installed, as in CI)
    config_digest = d.push_blob(
        data=b"{}",  # type: ignore[arg-type,unused-ignore]
        digest="sha256:" + hashlib.sha256(b"{}").hexdigest(),
    )
    layers = []
    for path in files:
        digest = d.push_blob(str(path))
        layers.append(
            {
                "mediaType": "application/octet-stream",
                "digest": digest,
                "size": path.stat().st_size,
                "annotations": {"org.opencontainers.image.title": path.name},
            }
        )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.bench",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": config_digest,
            "size": 2,
        },
        "layers": layers,
    }
    d.set_manifest("v1", json.dumps(manifest))


def artifacts(env: Env, rounds: int) -> list[dict[str, Any]]:
    files = artifact_files(env.root)
    pushers: dict[str, Callable[[Env, str, list[Path]], None]] = {
        "registry-sdk": push_ours,
        "oras-py": push_oras,
        "python-dxf": push_dxf,
    }
    times: dict[str, list[float]] = {name: [] for name in pushers}
    counts: dict[str, tuple[int, int, str]] = {}
    failed: dict[str, str] = {}
    for _ in range(rounds):
        for name, push in pushers.items():
            if name in failed:
                continue
            repo = env.fresh_repo()
            before_reg, before_tok = len(env.reg.requests("")), env.server.count()
            start = time.perf_counter()
            try:
                push(env, repo, files)
            except Exception as exc:  # noqa: BLE001 (a failing peer is reported, not fatal)
                failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            times[name].append(time.perf_counter() - start)
            log = env.reg.requests("")[before_reg:]
            methods: dict[str, int] = {}
            for method, _, status in log:
                key = f"{method}" + (" 401" if status == 401 else "")
                methods[key] = methods.get(key, 0) + 1
            detail = ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
            counts[name] = (len(log), env.server.count() - before_tok, detail)
    rows: list[dict[str, Any]] = []
    for name in pushers:
        if name in failed:
            rows.append(
                {
                    "client": name,
                    "wall ms (median)": "failed",
                    "registry requests": "",
                    "token requests": "",
                    "requests by method": failed[name],
                }
            )
            continue
        reg, tok, detail = counts[name]
        rows.append(
            {
                "client": name,
                "wall ms (median)": round(statistics.median(times[name]) * 1000, 1),
                "registry requests": reg,
                "token requests": tok,
                "requests by method": detail,
            }
        )
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:7])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "upload.json"))
    args = parser.parse_args()
    big = 64 * MIB if args.quick else 256 * MIB
    rounds = args.rounds or (2 if args.quick else 5)
    sizes = [16 * MIB, 64 * MIB] if args.quick else [16 * MIB, 64 * MIB, 256 * MIB]
    with tempfile.TemporaryDirectory(prefix="registry-sdk-upload-") as tmp:
        env = Env(Path(tmp))
        try:
            results = {
                f"1. Blob upload from a file, {big // MIB} MiB, verified": throughput(
                    env, big, rounds
                ),
                "2. Peak RSS of one upload (child process VmHWM)": memory(env, sizes),
                "3. Pushing one artifact (2 files of ~1 MiB, config, manifest)": artifacts(
                    env, 3 if args.quick else 7
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
