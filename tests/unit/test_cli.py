"""The command line, run in-process."""

from __future__ import annotations

import json

import pytest

from registry_sdk.cli import main


def test_parse_prints_parts(capsys: pytest.CaptureFixture[str]) -> None:
    """`parse` prints the canonical, familiar and component forms as JSON."""
    assert main(["parse", "ubuntu:22.04"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "canonical": "docker.io/library/ubuntu:22.04",
        "familiar": "ubuntu:22.04",
        "registry": "docker.io",
        "repository": "library/ubuntu",
        "tag": "22.04",
        "digest": None,
    }


def test_parse_error_is_one_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad reference exits 2 with the underlined message, no traceback."""
    assert main(["parse", "Foo/Bar"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("registry-sdk: repository name must be lowercase")
    assert "Traceback" not in err
