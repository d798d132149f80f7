"""The `registry-sdk` command line (argparse, standard library only).

Exit codes: 0 success, 1 a registry or network error, 2 bad usage or input,
3 authentication refused, 4 not found.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from registry_sdk.errors import InvalidReference, RegistryError
from registry_sdk.name import Digest, parse_reference

__all__ = ["main"]

EXIT_ERROR, EXIT_USAGE = 1, 2


def _cmd_parse(args: argparse.Namespace) -> int:
    ref = parse_reference(args.reference, strict=args.strict)
    parts = {
        "canonical": str(ref),
        "familiar": ref.familiar,
        "registry": ref.registry.name,
        "repository": ref.repository.path,
        "tag": ref.tag,
        "digest": ref.digest if isinstance(ref, Digest) else None,
    }
    print(json.dumps(parts, indent=2))
    return 0


def _build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="registry-sdk", description="Talk to OCI / Docker container registries.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse a reference and print its parts as JSON")
    p.add_argument("reference")
    p.add_argument("--strict", action="store_true", help="apply no Docker normalisation")
    p.set_defaults(func=_cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except InvalidReference as exc:
        print(f"registry-sdk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RegistryError as exc:
        print(f"registry-sdk: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
