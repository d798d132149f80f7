"""Suite-wide leak detection: every secret the tests use contains the marker `SECRET`.

`SecretScanner` records every log record of the `registry_sdk` loggers and every
`RegistryError` constructed while it is installed; `leaks()` lists any whose rendered
message, `str()`, `repr()`, attributes, chained `__cause__`/`__context__` (and theirs)
or formatted traceback contains the marker (security rules 4 and 7).
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any

from registry_sdk.errors import RegistryError

MARKER = "SECRET"


class SecretScanner(logging.Handler):
    """Collects log records and exceptions, and reports the ones that leak a secret."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[str] = []
        self.errors: list[RegistryError] = []
        self._original: Callable[..., None] | None = None
        self._logger = logging.getLogger("registry_sdk")
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    def install(self) -> None:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)
        original = RegistryError.__init__
        errors = self.errors

        @functools.wraps(original)  # keeps the signature pickling relies on
        def recording_init(exc: RegistryError, *args: Any, **kwargs: Any) -> None:
            original(exc, *args, **kwargs)
            errors.append(exc)

        self._original = original
        RegistryError.__init__ = recording_init  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)
        if self._original is not None:
            RegistryError.__init__ = self._original  # type: ignore[method-assign]

    def leaks(self) -> list[str]:
        found = [f"log: {m}" for m in self.records if MARKER in m]
        for exc in self.errors:
            found += [f"{type(exc).__name__}: {where}" for where in exception_leaks(exc)]
        return found


def exception_leaks(exc: BaseException, marker: str = MARKER) -> list[str]:
    """Where *marker* shows in *exc*: its text, attributes, chain or formatted traceback."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    depth = 0
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        label = f"chain[{depth}] {type(current).__name__}"
        for text in (str(current), repr(current)):
            if marker in text:
                out.append(f"{label} text: {text[:200]}")
        for name, value in vars(current).items():
            if marker in repr(value):
                out.append(f"{label} attribute {name}")
        for arg in current.args:
            if marker in repr(arg):
                out.append(f"{label} args")
        current = current.__cause__ or current.__context__
        depth += 1
    if marker in formatted_traceback(exc):
        out.append("formatted traceback")
    return out


def formatted_traceback(exc: BaseException) -> str:
    """The traceback a user's log would show, less the lines of the tests' own frames
    (test code spells its secrets out; what matters is what the library puts there)."""
    parts: list[str] = []
    for item in traceback.TracebackException.from_exception(exc).format():
        if 'File "' in item and "/tests/" in item.split('File "', 1)[1].split('"', 1)[0]:
            continue
        parts.append(item)
    return "".join(parts)
