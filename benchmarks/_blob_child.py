"""One blob download in a fresh process, printing speed and the process's own peak RSS.

    python benchmarks/_blob_child.py MODE REGISTRY REPO DIGEST CA
MODE: registry-sdk | registry-sdk, hash on a thread | raw urllib3 | raw urllib3 + sha256 |
sha256 alone. The token (for the raw modes) and credentials come from BENCH_TOKEN,
BENCH_USER, BENCH_PASSWORD.

`registry-sdk` is BlobReader as shipped (hashing after each read); `registry-sdk, hash on a
thread` turns on its hashing thread (`_blob.HASH_ON_THREAD`). `sha256 alone` downloads the
blob into memory first (not timed, so its peak RSS is the blob's size) and times hashing
the same chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

CHUNK = 1024 * 1024


def vmhwm_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _hash_all(chunks: list[bytes]) -> tuple[int, str]:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return sum(map(len, chunks)), f"sha256:{hasher.hexdigest()}"


def main() -> None:
    mode, registry, repo, digest, ca = sys.argv[1:6]
    total = 0
    if mode.startswith("registry-sdk"):
        from registry_sdk import _blob
        from registry_sdk.authn import Basic, StaticKeychain
        from registry_sdk.client import Client
        from registry_sdk.name import Repository

        client = Client(
            keychain=StaticKeychain(
                {registry: Basic(os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])}
            ),
            ca_certs=ca,
        )
        # The default reader hashes inline; "hash on a thread" overlaps hashing with reads.
        _blob.HASH_ON_THREAD = mode.endswith("hash on a thread")
        ref = Repository.parse(f"{registry}/{repo}").with_digest(digest)
        t = client.transport(ref.repository)
        # Warm, as the raw modes are: a connection and a token (a HEAD of the blob).
        t.request("HEAD", t.url(f"/v2/{repo}/blobs/{digest}")).drain_conn()
        start, cpu = time.perf_counter(), time.process_time()
        with client.get_blob(ref) as blob:
            for chunk in blob:
                total += len(chunk)
    else:
        import urllib3

        pool = urllib3.PoolManager(ca_certs=ca)
        url = f"https://{registry}/v2/{repo}/blobs/{digest}"
        auth = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
        pool.request("HEAD", url, headers=auth)  # warm: a connection, as for registry-sdk
        start, cpu = time.perf_counter(), time.process_time()
        resp = pool.request("GET", url, headers=auth, preload_content=False)
        if mode == "sha256 alone":  # the same bytes, in memory first (not timed)
            chunks = list(resp.stream(CHUNK))
            start, cpu = time.perf_counter(), time.process_time()
            total, actual = _hash_all(chunks)
            del chunks
        else:
            hasher = hashlib.sha256() if mode.endswith("+ sha256") else None
            for chunk in resp.stream(CHUNK):
                total += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
            actual = f"sha256:{hasher.hexdigest()}" if hasher is not None else digest
        if actual != digest:
            raise SystemExit("digest mismatch")
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "MiB/s": total / CHUNK / seconds,
                "bytes": total,
                "CPU s": time.process_time() - cpu,
                "wall s": seconds,
                "VmHWM kB": vmhwm_kb(),
            }
        )
    )


if __name__ == "__main__":
    main()
