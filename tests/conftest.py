"""Suite-wide fixtures: the secret scanner runs around the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.secrets import SecretScanner

_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration is marked `integration` (it starts real
    registries, token servers or fakes on 127.0.0.1), so `-m "not integration"` runs the
    rest with no registry binary and no root."""
    for item in items:
        if _INTEGRATION in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def secret_scanner() -> Iterator[SecretScanner]:
    """Fail the session if any log record or exception message carried a test secret."""
    scanner = SecretScanner()
    scanner.install()
    yield scanner
    scanner.uninstall()
    leaks = scanner.leaks()
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
