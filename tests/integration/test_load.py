"""A small load run in CI: many threads, one Client, tokens that expire during the run.

The full-size run (16 x 1,000 with 5-second tokens) is `python benchmarks/load.py`.
"""

from __future__ import annotations

import threading
import time

from registry_sdk.authn import Basic, StaticKeychain
from registry_sdk.client import Client
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer


def test_threads_share_tokens_without_errors_or_herds(
    token_stack: tuple[RunningRegistry, TokenServer],
) -> None:
    """16 threads x 40 manifest GETs over 5 repositories with 2-second tokens: no error,
    and at most one exchange per scope per token lifetime (plus slack). The herd itself is
    pinned down deterministically in tests/unit/test_token.py."""
    reg, server = token_stack
    auth = Basic("alice", USERS["alice"])
    repos = [Repository.parse(f"{reg.address}/alice/load{i}") for i in range(5)]
    seeder = Transport(reg.address, auth, insecure=True)
    for repo in repos:
        image(seeder, repo, "v1")
    server.lifetime, server.jwt_skew = 2, -60  # the registry sees 2-second tokens
    server.log.clear()
    client = Client(keychain=StaticKeychain({reg.address: auth}), insecure=[reg.address])
    errors: list[BaseException] = []

    def run(targets: list[Repository], pause: float) -> int:
        def work(index: int) -> None:
            for i in range(40):
                try:
                    client.get_manifest(targets[(index + i) % len(targets)].with_tag("v1"))
                except Exception as exc:  # noqa: BLE001 (collected and asserted on)
                    errors.append(exc)
                time.sleep(pause)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return int((time.monotonic() - start) // 2) + 2  # token lifetimes spanned, + slack

    lifetimes = run(repos, 0.01)
    assert errors == []
    assert server.count() <= 5 * lifetimes, (server.count(), lifetimes)
