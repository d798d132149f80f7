"""Load: 16 threads x 1,000 requests through one Client, with 5-second tokens.

    python benchmarks/load.py [--threads 16] [--requests 1000] [--token-seconds 5]

The token server issues tokens whose JWT expires after --token-seconds as the registry
sees it (distribution's 60 s leeway is cancelled out), while `expires_in` says the same:
the client treats anything under 60 s as 60 s (the spec's minimum), so expiries are met
by the registry's 401 and a single-flight refresh. Reports errors, token exchanges
against the minimum, and memory at the start and end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.registry import start_registry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.name import Repository
from registry_sdk.transport import Transport


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000, help="per thread")
    parser.add_argument("--token-seconds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registry-sdk-load-") as tmp:
        server = TokenServer(Path(tmp) / "auth").start()
        reg = start_registry(Path(tmp) / "registry", token=server.registry_config())
        try:
            auth = Basic("alice", USERS["alice"])
            repos = [Repository.parse(f"{reg.address}/alice/load{i}") for i in range(5)]
            seeder = Transport(reg.address, auth, insecure=True)
            for repo in repos:
                image(seeder, repo, "v1")
            server.lifetime, server.jwt_skew = args.token_seconds, -60
            server.log.clear()
            client = Client(keychain=StaticKeychain({reg.address: auth}), insecure=[reg.address])
            errors: list[str] = []
            rss: list[int] = [rss_kb()]

            def work(index: int) -> None:
                for i in range(args.requests):
                    try:
                        client.get_manifest(repos[(index + i) % 5].with_tag("v1"))
                    except Exception as exc:  # noqa: BLE001 (counted)
                        errors.append(type(exc).__name__)
                    if index == 0 and i % 100 == 0:
                        rss.append(rss_kb())

            threads = [threading.Thread(target=work, args=(n,)) for n in range(args.threads)]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - start
            total = args.threads * args.requests
            windows = int(seconds // args.token_seconds) + 1
            exchanges = server.count()
            print("| measure | value |\n|---|---|")
            print(f"| requests | {total:,} in {seconds:.1f} s ({total / seconds:,.0f}/s) |")
            print(f"| errors | {len(errors)} {sorted(set(errors))} |")
            print(f"| token exchanges | {exchanges} |")
            print(f"| minimum (5 scopes x {windows} token lifetimes) | {5 * windows} |")
            print(
                f"| registry 401s (expired tokens met) | "
                f"{sum(1 for r in reg.requests() if r[2] == 401)} |"
            )
            print(
                f"| RSS start / max / end (MiB) | {rss[0] / 1024:.0f} / "
                f"{max(rss) / 1024:.0f} / {rss_kb() / 1024:.0f} |"
            )
        finally:
            reg.stop()
            server.stop()


if __name__ == "__main__":
    main()
