"""Coverage-guided fuzzing (atheris) of every parser that reads untrusted input.

    python fuzz/fuzz_parsers.py -max_total_time=300      # libFuzzer options

The first byte picks the parser; the rest is its input. Only the parser's typed error may
escape: anything else is a crash that libFuzzer reports with the input that caused it.
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports():
    from registry_sdk import _authfile as F
    from registry_sdk import _convert
    from registry_sdk._links import next_link
    from registry_sdk.challenge import parse_challenges
    from registry_sdk.errors import (
        CredentialsError,
        InvalidChallenge,
        InvalidPlatform,
        InvalidReference,
        InvalidResponse,
        InvalidScope,
        RegistryResponseError,
        check_error,
    )
    from registry_sdk.models import (
        ImageConfig,
        ImageIndex,
        ImageManifest,
        Manifest,
        Platform,
        TagList,
    )
    from registry_sdk.name import Repository, parse_reference, split_reference
    from registry_sdk.scope import Scope


class _Response:
    def __init__(self, body: bytes, header: str) -> None:
        self.status, self._body = 404, body
        self.headers = {"WWW-Authenticate": header}

    def read(self, amt: int | None = None) -> bytes:
        return self._body[:amt]


def one_input(data: bytes) -> None:
    """Dispatch *data* to one parser."""
    if not data:
        return
    choice, rest = data[0] % 11, data[1:]
    text = rest.decode("utf-8", "replace")
    try:
        if choice == 0:
            parse_reference(text)
        elif choice == 1:
            split_reference(text)
        elif choice == 2:
            Repository.parse(text, strict=True)
        elif choice == 3:
            Scope.parse(text)
        elif choice == 4:
            parse_challenges(text.split("\n"))
        elif choice == 5:
            next_link(text.split("\n"))
        elif choice == 6:
            check_error(_Response(rest, text[:80]))
        elif choice == 7:
            parsed = F.parse(text, "fuzz", docker_format=True)
            for entry in parsed.auths.values():
                try:
                    F.decode_entry(entry, "fuzz")
                except CredentialsError:
                    pass
        elif choice == 8:
            Platform.parse(text)
        elif choice == 9:
            Manifest.parse(rest, media_type=text[:60] or None)
        else:
            cls = (TagList, ImageManifest, ImageIndex, ImageConfig)[len(rest) % 4]
            _convert.loads(rest, cls, "fuzz")
    except (
        InvalidReference,
        InvalidScope,
        InvalidChallenge,
        InvalidPlatform,
        RegistryResponseError,
        CredentialsError,
        InvalidResponse,
        json.JSONDecodeError,
    ):
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
