"""Suite-wide leak detection: every secret the tests use contains the marker `SECRET`.

`SecretScanner` records every log record of the `registry_sdk` loggers and every
`RegistryError` constructed while it is installed; `leaks()` lists any whose rendered
message, `str()` or `repr()` contains the marker.
"""

from __future__ import annotations

import functools
import logging
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
            for text in (str(exc), repr(exc)):
                if MARKER in text:
                    found.append(f"{type(exc).__name__}: {text}")
        return found
