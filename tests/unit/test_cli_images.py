"""The images commands' argument handling, run in-process with no registry."""

from __future__ import annotations

import pytest

from registry_sdk.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "127.0.0.1:9/a:v1", "--platform", "linux/*"],
        ["config", "127.0.0.1:9/a:v1", "--platform", ""],
        ["manifest", "127.0.0.1:9/a:v1", "--platform", "linux/arm64/v8/x"],
    ],
)
def test_bad_platform_exits_2_before_any_request(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """InvalidPlatform is bad input: exit 2, one line, and no connection attempted
    (nothing listens on port 9, which would be exit 1)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("registry-sdk: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_config_and_platform_are_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`config` is a command and `manifest` takes --platform."""
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "config" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["manifest", "--help"])
    assert "--platform" in capsys.readouterr().out
