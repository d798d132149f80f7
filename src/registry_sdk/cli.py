"""The `registry-sdk` command line (argparse, standard library only).

Exit codes: 0 success; 1 a registry, network or content error; 2 bad usage or input;
3 authentication refused; 4 not found.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from typing_extensions import override

from registry_sdk.errors import (
    AuthenticationError,
    CredentialsError,
    InvalidPlatform,
    InvalidReference,
    NoMatchingPlatform,
    ReferenceErrorKind,
    RegistryError,
    RegistryResponseError,
)
from registry_sdk.name import Digest, Registry, parse_reference

if TYPE_CHECKING:
    from registry_sdk.client import Client
    from registry_sdk.progress import Progress, ProgressEvent

__all__ = [
    "EXIT_AUTH",
    "EXIT_ERROR",
    "EXIT_NOT_FOUND",
    "EXIT_USAGE",
    "main",
]

EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND = 1, 2, 3, 4


def _client(args: argparse.Namespace, registry: Registry) -> Client:
    from registry_sdk.client import Client  # noqa: PLC0415 (parse needs no urllib3)

    return Client(insecure=[registry.name] if args.insecure else (), ca_certs=args.ca_cert)


def _out(args: argparse.Namespace, value: object, text: str) -> None:
    print(json.dumps(value, indent=2) if args.json else text)


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


def _cmd_tags(args: argparse.Namespace) -> int:
    from registry_sdk.name import Repository  # noqa: PLC0415

    repo = Repository.parse(args.repository)
    tags = _client(args, repo.registry).list_tags(repo, page_size=args.page_size)
    _out(args, tags, "\n".join(tags))
    return 0


def _cmd_catalog(args: argparse.Namespace) -> int:
    registry = Registry.parse(args.registry)
    names = _client(args, registry).catalog(registry, page_size=args.page_size)
    _out(args, names, "\n".join(names))
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    ref = parse_reference(args.reference)
    client = _client(args, ref.registry)
    manifest = (
        client.get_manifest(ref)
        if args.platform is None
        else client.get_image(ref, platform=args.platform)
    )
    if args.raw:
        sys.stdout.buffer.write(manifest.raw)
        return 0
    body = json.loads(manifest.raw)
    if args.json:
        print(
            json.dumps(
                {"digest": manifest.digest, "mediaType": manifest.media_type, "manifest": body},
                indent=2,
            )
        )
    else:
        print(f"# {manifest.digest} ({manifest.media_type})")
        print(json.dumps(body, indent=2))
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from registry_sdk.models import dumps  # noqa: PLC0415

    ref = parse_reference(args.reference)
    config = _client(args, ref.registry).get_config(ref, platform=args.platform)
    body = json.loads(dumps(config))
    _out(args, {"platform": str(config.platform), "config": body}, json.dumps(body, indent=2))
    return 0


def _cmd_digest(args: argparse.Namespace) -> int:
    ref = parse_reference(args.reference)
    digest = _client(args, ref.registry).digest(ref)
    _out(args, {"digest": digest}, digest)
    return 0


def _progress_bar() -> Progress | None:
    """A progress bar on stderr when it is a terminal (redrawn at most 10 times a second)."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(event: ProgressEvent) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and event.done != event.total:
            return
        last[0] = now
        if event.total:
            filled = 30 * event.done // event.total
            bar = "#" * filled + "-" * (30 - filled)
            sys.stderr.write(
                f"\r[{bar}] {event.done * 100 // event.total:3d}% "
                f"{event.done:,}/{event.total:,} bytes"
            )
        else:
            sys.stderr.write(f"\r{event.done:,} bytes")
        sys.stderr.flush()

    return show


def _cmd_blob(args: argparse.Namespace) -> int:
    ref = parse_reference(args.reference)
    if not isinstance(ref, Digest):
        end = len(args.reference)
        raise InvalidReference(
            "a blob is named by digest: REPOSITORY@sha256:...",
            kind=ReferenceErrorKind.INVALID_REFERENCE_FORMAT,
            source=args.reference,
            span=(end, end),
        )
    target = Path(args.output)
    show = _progress_bar()
    try:  # verified; the file appears only if it matches
        found = _client(args, ref.registry).download_blob(ref, target, progress=show)
    finally:
        if show is not None:
            sys.stderr.write("\n")
    _out(
        args,
        {"digest": found.digest, "size": found.size, "path": str(target)},
        f"{found.digest} -> {target}",
    )
    return 0


def _auth_file(kind: str) -> Path:
    """The file docker (default) or podman would write, as the keychain reads them."""
    from registry_sdk import _authfile as F  # noqa: PLC0415

    if kind == "podman":
        explicit = os.environ.get("REGISTRY_AUTH_FILE")
        return Path(explicit) if explicit else F.containers_auth_path(os.environ)
    return F.docker_config_path(os.environ)


def _cmd_login(args: argparse.Namespace) -> int:
    from registry_sdk import _authfile as F  # noqa: PLC0415
    from registry_sdk.authn import Basic  # noqa: PLC0415
    from registry_sdk.transport import Transport  # noqa: PLC0415

    registry = Registry.parse(args.registry)
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    if not password:
        raise CredentialsError("login needs the password on standard input (--password-stdin)")
    t = Transport(
        registry, Basic(args.username, password), insecure=args.insecure, ca_certs=args.ca_cert
    )
    resp = t.request("GET", t.url("/v2/"))  # token exchange or basic check happens here
    if resp.status != 200:
        raise AuthenticationError(
            f"login to {registry} failed: the registry answered {resp.status}",
            registry=registry.name,
        )
    path = _auth_file(args.config)
    docker_hub = registry.name == "docker.io" and args.config == "docker"
    F.store(path, F.HUB_KEY if docker_hub else registry.name, args.username, password)
    print(f"Login succeeded: credentials for {registry} stored in {path}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (as every error of this CLI)."""

    @override
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The options every command takes, before or after the command name."""
    parser.add_argument(
        "--insecure", action="store_true", default=default, help="allow plain http to this registry"
    )
    parser.add_argument(
        "--ca-cert", metavar="FILE", default=default, help="CA bundle to verify TLS with"
    )
    parser.add_argument("--json", action="store_true", default=default, help="print JSON")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="show the auth flow on stderr (secrets redacted)",
    )


def _build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    # After the command, an option left out must not undo the same option given before
    # it (`registry-sdk -v tags REF`): the subcommands' copies default to SUPPRESS.
    common = _Parser(add_help=False)
    _common_options(common, argparse.SUPPRESS)
    parser = _Parser(
        prog="registry-sdk",
        description="Talk to OCI / Docker container registries.",
        epilog="exit codes: 0 ok, 1 error, 2 bad input, 3 authentication refused, 4 not found",
    )
    _common_options(parser, None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(
        name: str,
        func: Callable[[argparse.Namespace], int],
        text: str,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=text, description=text, parents=[common], prog=f"registry-sdk {name}"
        )
        p.set_defaults(func=func)
        return p

    p = add("parse", _cmd_parse, "parse a reference and print its parts as JSON")
    p.add_argument("reference")
    p.add_argument("--strict", action="store_true", help="apply no Docker normalisation")
    p = add("tags", _cmd_tags, "list the tags of a repository")
    p.add_argument("repository")
    p.add_argument("--page-size", type=int, default=None)
    p = add("catalog", _cmd_catalog, "list the repositories of a registry")
    p.add_argument("registry")
    p.add_argument("--page-size", type=int, default=None)
    p = add("manifest", _cmd_manifest, "show a manifest (verified against its digest)")
    p.add_argument("reference")
    p.add_argument("--raw", action="store_true", help="print the exact bytes")
    p.add_argument(
        "--platform",
        metavar="P",
        default=None,
        help="resolve an index to this platform's image (os/arch[/variant])",
    )
    p = add(
        "config", _cmd_config, "show an image's config (an index resolved by --platform), verified"
    )
    p.add_argument("reference")
    p.add_argument(
        "--platform",
        metavar="P",
        default=None,
        help="the platform to pick from an index (os/arch[/variant])",
    )
    p = add("digest", _cmd_digest, "print the digest a reference resolves to")
    p.add_argument("reference")
    p = add("blob", _cmd_blob, "download a blob, verified, to a file")
    p.add_argument("reference")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p = add(
        "login",
        _cmd_login,
        "check credentials against a registry, then store them as docker/podman do",
    )
    p.add_argument("registry")
    p.add_argument("-u", "--username", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument(
        "--config",
        choices=["docker", "podman"],
        default="docker",
        help="which file to write (default: docker's config.json)",
    )
    from registry_sdk import _cli_copy, _cli_write  # noqa: PLC0415 (copy; push, tag, delete)

    _cli_write.register(add, _client)
    _cli_copy.register(add)
    return parser


def _exit_code(exc: RegistryError) -> int:
    if isinstance(exc, InvalidReference | InvalidPlatform):
        return EXIT_USAGE
    if isinstance(exc, NoMatchingPlatform):  # none chosen among several: say which
        return EXIT_USAGE if exc.wanted is None else EXIT_NOT_FOUND
    if isinstance(exc, AuthenticationError):
        return EXIT_AUTH
    if isinstance(exc, RegistryResponseError):
        return {401: EXIT_AUTH, 403: EXIT_AUTH, 404: EXIT_NOT_FOUND}.get(exc.status, EXIT_ERROR)
    return EXIT_ERROR


def _one_line(exc: RegistryError) -> str:
    """An error as one line: a bad reference quotes the input and the column."""
    if isinstance(exc, InvalidReference):
        return f"{exc.message}: {exc.source!r} (column {exc.span[0] + 1})"
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _build_parser().parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("registry-sdk: %(name)s: %(message)s"))
        logging.getLogger("registry_sdk").addHandler(handler)
        logging.getLogger("registry_sdk").setLevel(logging.DEBUG)
    try:
        code: int = args.func(args)
    except RegistryError as exc:
        print(f"registry-sdk: {_one_line(exc)}", file=sys.stderr)
        return _exit_code(exc)
    except BrokenPipeError:  # `registry-sdk manifest ... | head`: not an error to report
        sys.stderr.close()
        return EXIT_ERROR
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"registry-sdk: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, FileNotFoundError) else EXIT_ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
