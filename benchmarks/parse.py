"""Reference parsing speed on 10,000 mixed references (a tenth invalid); prints a table.

Usage: python benchmarks/parse.py [--rounds N]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time

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


def bench(refs: list[str], rounds: int) -> tuple[float, int, int]:
    best = float("inf")
    accepted = rejected = 0
    for _ in range(rounds):
        accepted = rejected = 0
        start = time.process_time()
        for ref in refs:
            try:
                parse_reference(ref)
                accepted += 1
            except InvalidReference:
                rejected += 1
        best = min(best, time.process_time() - start)
    return len(refs) / best, accepted, rejected


def import_ms(module: str, runs: int = 7) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    samples = sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                          text=True, check=True).stdout) for _ in range(runs))
    return samples[runs // 2] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    refs, valid = corpus()
    rate, accepted, rejected = bench(refs, args.rounds)
    wrongly_accepted = sum(1 for ref, ok in zip(refs, valid, strict=True) if not ok
                           and _parses(ref))
    print("| measure | value |\n|---|---|")
    print(f"| references parsed per CPU second (best of {args.rounds}) | {rate:,.0f} |")
    print(f"| accepted / rejected of {len(refs)} | {accepted} / {rejected} |")
    print(f"| invalid references accepted | {wrongly_accepted} |")
    print(f"| import registry_sdk.name (median, ms) | {import_ms('registry_sdk.name'):.1f} |")
    print(f"| import registry_sdk (median, ms) | {import_ms('registry_sdk'):.1f} |")
    print(f"| import urllib3 (median, ms) | {import_ms('urllib3'):.1f} |")


def _parses(ref: str) -> bool:
    try:
        parse_reference(ref)
    except InvalidReference:
        return False
    return True


if __name__ == "__main__":
    main()
