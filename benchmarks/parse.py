"""Reference parsing speed on 10,000 mixed references (a tenth invalid); prints a table.

Usage: python benchmarks/parse.py [--rounds N]

The exact peer is docker-image-py (`docker_image.reference`, a port of the same
distribution/reference code), measured when installed. The parsers run in interleaved
rounds (one pass of each per round) so that a noisy machine slows both alike; the table
gives the median and the best CPU time per pass.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from registry_sdk.errors import InvalidReference
from registry_sdk.name import parse_reference

HEX = "0123456789abcdef"


def corpus(n: int = 10_000, seed: int = 7) -> tuple[list[str], list[bool]]:
    """n references (90 % valid, 10 % invalid) with their expected validity."""
    rng = random.Random(seed)
    valid_shapes = [
        lambda: f"ubuntu:{rng.randint(10, 24)}.04",
        lambda: f"library/alpine:3.{rng.randint(0, 20)}",
        lambda: f"ghcr.io/org{rng.randint(0, 99)}/app-{rng.randint(0, 999)}:v{rng.randint(0, 9)}",
        lambda: f"registry.example.com:5000/team/svc_{rng.randint(0, 99)}/api",
        lambda: f"quay.io/ns/img@sha256:{''.join(rng.choices(HEX, k=64))}",
        lambda: f"localhost:5000/x/y:{rng.randint(0, 9)}@sha256:{''.join(rng.choices(HEX, k=64))}",
        lambda: f"[::1]:5000/repo{rng.randint(0, 9)}",
    ]
    invalid_shapes = [
        lambda: f"upper/Case{rng.randint(0, 9)}:x",
        lambda: f"bad___name{rng.randint(0, 9)}",
        lambda: f"repo:-tag{rng.randint(0, 9)}",
        lambda: f"repo@sha256:{''.join(rng.choices(HEX, k=63))}",
        lambda: "a" * 64,
        lambda: f"ghcr.io/org//app{rng.randint(0, 9)}",
    ]
    refs, valid = [], []
    for i in range(n):
        ok = i % 10 != 0
        refs.append(rng.choice(valid_shapes if ok else invalid_shapes)())
        valid.append(ok)
    return refs, valid


Parser = tuple[Callable[[str], object], tuple[type[BaseException], ...]]


def parsers() -> dict[str, Parser]:
    """registry-sdk's non-strict parse and, when installed, docker-image-py's."""
    found: dict[str, Parser] = {"registry-sdk": (parse_reference, (InvalidReference,))}
    try:
        from docker_image import digest as peer_digest
        from docker_image import reference as peer
    except ImportError:
        pass
    else:
        found["docker-image-py"] = (
            peer.Reference.parse_normalized_named,
            (peer.InvalidReference, peer_digest.InvalidDigest),
        )
    return found


def one_pass(refs: list[str], parser: Parser) -> tuple[float, int, int]:
    """CPU seconds for one pass over *refs*, and how many were accepted and rejected."""
    fn, errors = parser
    accepted = rejected = 0
    start = time.process_time()
    for ref in refs:
        try:
            fn(ref)
            accepted += 1
        except errors:
            rejected += 1
    return time.process_time() - start, accepted, rejected


def bench(
    refs: list[str], rounds: int, contenders: dict[str, Parser] | None = None
) -> dict[str, list[float]]:
    """CPU seconds per pass for each parser, over *rounds* interleaved rounds."""
    contenders = parsers() if contenders is None else contenders
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, parser in contenders.items():
            times[name].append(one_pass(refs, parser)[0])
    return times


def import_ms(module: str, runs: int = 7) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    samples = sorted(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    )
    return samples[runs // 2] * 1000


def main() -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--rounds", type=int, default=9)
    args = cli.parse_args()
    refs, valid = corpus()
    contenders = parsers()
    times = bench(refs, args.rounds, contenders)
    print(
        "| parser | median refs/CPU s | best refs/CPU s | accepted / rejected | "
        "invalid accepted |\n|---|---|---|---|---|"
    )
    for name, parser in contenders.items():
        _, accepted, rejected = one_pass(refs, parser)
        wrong = sum(
            1 for ref, ok in zip(refs, valid, strict=True) if not ok and _parses(ref, parser)
        )
        print(
            f"| {name} | {len(refs) / statistics.median(times[name]):,.0f} | "
            f"{len(refs) / min(times[name]):,.0f} | {accepted} / {rejected} | {wrong} |"
        )
    if "docker-image-py" in times:
        ratio = statistics.median(times["docker-image-py"]) / statistics.median(
            times["registry-sdk"]
        )
        print(f"\nregistry-sdk / docker-image-py (median): {ratio:.1f}x")
    print("\n| measure | value |\n|---|---|")
    print(f"| import registry_sdk.name (median, ms) | {import_ms('registry_sdk.name'):.1f} |")
    print(f"| import registry_sdk (median, ms) | {import_ms('registry_sdk'):.1f} |")
    print(f"| import urllib3 (median, ms) | {import_ms('urllib3'):.1f} |")


def _parses(ref: str, parser: Parser) -> bool:
    fn, errors = parser
    try:
        fn(ref)
    except errors:
        return False
    return True


if __name__ == "__main__":
    main()
