"""The leak detector itself catches a leak (so a clean session means something)."""

from __future__ import annotations

import logging

from registry_sdk.errors import CredentialsError, TransportError
from tests.support.secrets import SecretScanner, exception_leaks


def test_scanner_sees_leaking_exceptions_and_logs(secret_scanner: SecretScanner) -> None:
    """An exception or log record carrying the marker is reported; clean ones are not."""
    session = secret_scanner
    kept_records, kept_errors = len(session.records), len(session.errors)
    scanner = SecretScanner()
    scanner.install()
    try:
        CredentialsError("clean message")
        CredentialsError("oops pw-SECRET-1")
        logging.getLogger("registry_sdk.test").debug("token %s", "tok-SECRET-2")
    finally:
        scanner.uninstall()
    leaks = scanner.leaks()
    assert leaks[0] == "log: token tok-SECRET-2"
    assert all(
        leak.startswith("CredentialsError: chain[0]") or "traceback" in leak for leak in leaks[1:]
    )
    assert len(leaks) > 2
    assert len(scanner.errors) == 2
    # The session-wide scanner saw the planted leaks too; take them back out.
    assert len(session.leaks()) >= 3
    del session.records[kept_records:]
    del session.errors[kept_errors:]


def test_chain_scan_sees_a_secret_only_in_the_context(secret_scanner: SecretScanner) -> None:
    """A clean exception raised while handling one that names a secret still leaks it
    (rule 7): the scan walks __context__, attributes and the formatted traceback."""
    kept = len(secret_scanner.errors)
    try:
        try:
            raise ValueError("https://s3/x?X-Amz-Signature=sig-SECRET-3")
        except ValueError:
            raise TransportError("GET https://s3/x: failed") from None
    except TransportError as exc:
        caught = exc
    leaks = exception_leaks(caught)
    assert any("chain[1] ValueError" in leak for leak in leaks)
    assert "formatted traceback" not in leaks  # suppressed context is not printed...
    clean = TransportError("clean")
    assert exception_leaks(clean) == []  # ...but the attribute chain still shows it
    del secret_scanner.errors[kept:]  # the planted leak was seen; take it back out
