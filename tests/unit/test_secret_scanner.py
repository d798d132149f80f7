"""The leak detector itself catches a leak (so a clean session means something)."""

from __future__ import annotations

import logging

from registry_sdk.errors import CredentialsError
from tests.support.secrets import SecretScanner


def test_scanner_sees_leaking_exceptions_and_logs(secret_scanner: SecretScanner) -> None:
    """An exception or log record carrying the marker is reported; clean ones are not."""
    session = secret_scanner
    kept_records, kept_errors = len(session.records), len(session.errors)
    scanner = SecretScanner()
    scanner.install()
    try:
        CredentialsError("clean message")
        leaky = CredentialsError("oops pw-SECRET-1")
        logging.getLogger("registry_sdk.test").debug("token %s", "tok-SECRET-2")
    finally:
        scanner.uninstall()
    leaks = scanner.leaks()
    assert leaks == ["log: token tok-SECRET-2", f"CredentialsError: {leaky}",
                     f"CredentialsError: {leaky!r}"]
    assert len(scanner.errors) == 2
    # The session-wide scanner saw the planted leaks too; take them back out.
    assert len(session.leaks()) >= 3
    del session.records[kept_records:]
    del session.errors[kept_errors:]
