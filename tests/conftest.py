"""Suite-wide fixtures: the secret scanner runs around the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.secrets import SecretScanner


@pytest.fixture(scope="session", autouse=True)
def secret_scanner() -> Iterator[SecretScanner]:
    """Fail the session if any log record or exception message carried a test secret."""
    scanner = SecretScanner()
    scanner.install()
    yield scanner
    scanner.uninstall()
    leaks = scanner.leaks()
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
