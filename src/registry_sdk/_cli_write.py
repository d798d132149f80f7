"""The writing commands of the command line: `push` (an OCI artifact), `tag`, `delete`.

Standard library only at import time (the client is imported when a command runs). A
progress bar is drawn on stderr when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from registry_sdk.name import Digest, Registry, Repository, Tag, parse_reference

if TYPE_CHECKING:
    from registry_sdk.client import Client
    from registry_sdk.progress import Progress, ProgressEvent

__all__ = ["ARTIFACT_TYPE", "EMPTY_DIGEST", "EMPTY_MEDIA_TYPE", "LAYER_MEDIA_TYPE", "register"]

#: The OCI empty descriptor: config of an artifact that has none (content `{}`).
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#: oras's default artifact type, and the default layer media type.
ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
TITLE = "org.opencontainers.image.title"

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
MakeClient = Callable[[argparse.Namespace, Registry], "Client"]


def _annotation(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"an annotation is key=value, not {text!r}")
    return key, value


def _file_arg(text: str) -> tuple[str, str]:
    """`FILE[:MEDIATYPE]`; the part after the last colon is a media type if it has a /."""
    path, sep, media_type = text.rpartition(":")
    if sep and path and "/" in media_type and not os.path.exists(text):
        return path, media_type
    return text, LAYER_MEDIA_TYPE


class ProgressBar:
    """Draws one line per blob on a terminal stream: digest, bar, percent, bytes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._open = False

    def __call__(self, event: ProgressEvent) -> None:
        """Redraw the line for *event*; a finished blob keeps its line."""
        name = (event.digest or "").partition(":")[2][:12] or "…"
        if event.total:
            filled = min(30, 30 * event.done // event.total)
            shown = (
                f"[{'#' * filled}{'-' * (30 - filled)}] "
                f"{min(100, event.done * 100 // event.total):3d}% "
                f"{_size(event.done)}/{_size(event.total)}"
            )
        else:
            shown = _size(event.done)
        self._stream.write(f"\r{event.action:<8} {name:<12} {shown}\033[K")
        finished = event.action in ("skip", "mount", "manifest") or (
            event.total is not None and event.done >= event.total
        )
        if finished:
            self._stream.write("\n")
        self._open = not finished
        self._stream.flush()

    def close(self) -> None:
        """End an unfinished line."""
        if self._open:
            self._stream.write("\n")
            self._open = False


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _progress() -> ProgressBar | None:
    return ProgressBar(sys.stderr) if sys.stderr.isatty() else None


def _tag_or_digest(text: str) -> Tag | Digest:
    return parse_reference(text)


def _subject(repo: Repository, text: str) -> Tag | Digest:
    """`--subject`: a full reference, else a digest or a tag in *repo*."""
    if "/" in text:
        return parse_reference(text)
    if text.startswith(("sha256:", "sha512:")):
        return repo.with_digest(text)
    return repo.with_tag(text)


def _cmd_push(args: argparse.Namespace, make_client: MakeClient) -> int:
    from registry_sdk.models import OCI_MANIFEST, Descriptor, ImageManifest  # noqa: PLC0415

    ref = _tag_or_digest(args.reference)
    repo: Repository = ref.repository
    client = make_client(args, ref.registry)
    subject = client.head_manifest(_subject(repo, args.subject)) if args.subject else None
    bar = _progress()
    progress: Progress | None = bar
    try:
        config = client.push_blob(repo, b"{}", progress=progress)
        layers = []
        for path, media_type in args.files:
            pushed = client.push_blob(repo, path, progress=progress)
            layers.append(
                Descriptor(
                    media_type,
                    pushed.digest,
                    pushed.size,
                    annotations={TITLE: os.path.basename(path)},
                )
            )
        manifest = ImageManifest(
            2,
            Descriptor(EMPTY_MEDIA_TYPE, config.digest, config.size),
            tuple(layers),
            OCI_MANIFEST,
            artifact_type=args.artifact_type,
            subject=subject,
            annotations=dict(args.annotation),
        )
        desc = client.put_manifest(ref, manifest)
        if bar is not None:
            bar(_event(desc.digest, desc.size))
    finally:
        if bar is not None:
            bar.close()
    _print(
        args,
        {
            "reference": str(ref),
            "digest": desc.digest,
            "mediaType": desc.media_type,
            "size": desc.size,
        },
        f"{desc.digest} -> {ref}",
    )
    return 0


def _event(digest: str, size: int) -> ProgressEvent:
    from registry_sdk.progress import ProgressAction, ProgressEvent  # noqa: PLC0415

    return ProgressEvent(digest, size, size, ProgressAction.MANIFEST)


def _print(args: argparse.Namespace, value: object, text: str) -> None:
    print(json.dumps(value, indent=2) if args.json else text)


def _cmd_tag(args: argparse.Namespace, make_client: MakeClient) -> int:
    src = _tag_or_digest(args.source)
    new = src.repository.with_tag(args.tag)  # validates the tag (bad input: exit 2)
    desc = make_client(args, src.registry).tag(src, args.tag)
    _print(args, {"reference": str(new), "digest": desc.digest}, f"{desc.digest} -> {new}")
    return 0


def _cmd_delete(args: argparse.Namespace, make_client: MakeClient) -> int:
    ref = _tag_or_digest(args.reference)
    make_client(args, ref.registry).delete(ref)
    _print(args, {"deleted": str(ref)}, f"deleted {ref}")
    return 0


def _bind(
    func: Callable[[argparse.Namespace, MakeClient], int], make_client: MakeClient
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return func(args, make_client)

    return run


def register(add: Add, make_client: MakeClient) -> None:
    """Add `push`, `tag` and `delete` to the parser through the CLI's *add* helper."""
    p = add(
        "push",
        _bind(_cmd_push, make_client),
        "push files as an OCI artifact (config: the empty descriptor)",
    )
    p.add_argument("reference", help="REGISTRY/REPOSITORY:TAG (or @DIGEST)")
    p.add_argument(
        "files",
        nargs="+",
        type=_file_arg,
        metavar="FILE[:MEDIATYPE]",
        help=f"a layer per file (default media type {LAYER_MEDIA_TYPE})",
    )
    p.add_argument(
        "--artifact-type",
        default=ARTIFACT_TYPE,
        metavar="TYPE",
        help=f"the manifest's artifactType (default {ARTIFACT_TYPE})",
    )
    p.add_argument(
        "--annotation",
        type=_annotation,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a manifest annotation (repeatable)",
    )
    p.add_argument(
        "--subject",
        metavar="REF",
        help="the manifest this artifact is about (a tag or digest of the same "
        "repository, or a full reference): listed by its referrers",
    )
    p = add(
        "tag",
        _bind(_cmd_tag, make_client),
        "tag a manifest again in its repository (its bytes and digest kept)",
    )
    p.add_argument("source", help="REPOSITORY:TAG or REPOSITORY@DIGEST")
    p.add_argument("tag", help="the new tag (a bare tag, e.g. v2)")
    p = add(
        "delete",
        _bind(_cmd_delete, make_client),
        "delete a manifest (by digest; by tag where the registry supports it)",
    )
    p.add_argument("reference")
