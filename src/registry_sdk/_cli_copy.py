"""The `copy` command of the command line: `registry-sdk copy SRC DST [--platform P]...`.

Standard library only at import time (the client is imported when the command runs). A
progress bar is drawn on stderr when stderr is a terminal; `--insecure` covers both
registries.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from registry_sdk._cli_write import _print, _progress

__all__ = ["register"]

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _platform(text: str) -> str:
    """A platform argument, checked while parsing: a bad one is bad input (exit 2)."""
    from registry_sdk._errors import InvalidPlatform  # noqa: PLC0415
    from registry_sdk.models import Platform  # noqa: PLC0415

    try:
        return str(Platform.parse(text))
    except InvalidPlatform as exc:
        raise argparse.ArgumentTypeError(f"bad platform {text!r}: {exc}") from None


def _cmd_copy(args: argparse.Namespace) -> int:
    from registry_sdk import _copy  # noqa: PLC0415
    from registry_sdk.client import Client  # noqa: PLC0415
    from registry_sdk.name import parse_reference  # noqa: PLC0415

    src = parse_reference(args.source)
    dst = _copy.as_destination(args.destination)
    names = [src.registry.name, dst.registry.name] if args.insecure else []
    bar = _progress()
    with Client(insecure=names, ca_certs=args.ca_cert) as client:
        try:
            desc = client.copy(
                src, dst, platforms=args.platform or None, referrers=args.referrers, progress=bar
            )
            source_digest = client.digest(src) if args.platform else desc.digest
        finally:
            if bar is not None:
                bar.close()
    filtered = source_digest != desc.digest
    text = f"{desc.digest} -> {dst}"
    if filtered:
        text += (
            f" (filtered to {', '.join(args.platform)}: a new index; the source is {source_digest})"
        )
    _print(
        args,
        {
            "source": str(src),
            "destination": str(dst),
            "digest": desc.digest,
            "mediaType": desc.media_type,
            "size": desc.size,
            "filtered": filtered,
            "sourceDigest": source_digest,
        },
        text,
    )
    return 0


def register(add: Add) -> None:
    """Add `copy` to the parser through the CLI's *add* helper."""
    p = add(
        "copy",
        _cmd_copy,
        "copy an image, index or artifact to another repository or registry (digests kept)",
    )
    p.add_argument("source", help="REGISTRY/REPOSITORY:TAG (or @DIGEST)")
    p.add_argument(
        "destination", help="REGISTRY/REPOSITORY[:TAG|@DIGEST] (a repository keeps the tag)"
    )
    p.add_argument(
        "--platform",
        action="append",
        type=_platform,
        default=[],
        metavar="OS/ARCH[/VARIANT]",
        help="keep only this platform of an index (repeatable; a new digest)",
    )
    p.add_argument(
        "--referrers",
        action="store_true",
        help="copy the artifacts that refer to the image (signatures, SBOMs)",
    )
