"""The Python blocks of docs/quickstart.md run, in order, against the real registry."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from registry_sdk.authn import Basic
from registry_sdk.cli import main as cli_main
from registry_sdk.client import set_default_client
from registry_sdk.name import Repository
from registry_sdk.transport import Transport
from tests.support.registry import RunningRegistry
from tests.support.seed import image
from tests.support.token_server import USERS, TokenServer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_blocks(
    page: str, reg: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The ```python blocks of docs/*page*, with alice's credentials stored for *reg* as
    `docker login` would, in a HOME and DOCKER_CONFIG of the test's own."""
    auth = base64.b64encode(f"alice:{USERS['alice']}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {reg.address: {"auth": auth}}}))
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_AUTH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def test_quickstart_blocks_run(
    token_stack: tuple[RunningRegistry, TokenServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each ```python block of the quickstart executes without error."""
    reg, _ = token_stack
    image(
        Transport(reg.address, Basic("alice", USERS["alice"]), insecure=True),
        Repository.parse(f"{reg.address}/alice/app"),
        "v1",
    )
    blocks = doc_blocks("quickstart.md", reg, tmp_path, monkeypatch)
    assert len(blocks) == 5
    assert 'address = "localhost:5000"' in blocks[0]
    namespace: dict[str, object] = {}
    try:
        for block in blocks:
            code = block.replace('address = "localhost:5000"', f'address = "{reg.address}"')
            exec(compile(code, "docs/quickstart.md", "exec"), namespace)  # noqa: S102
    finally:
        set_default_client(None)  # the quickstart configures the process-wide client


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        cli_main([*argv, "--help"])
    return capsys.readouterr().out


def test_cli_doc_names_every_command_and_option(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md shows every command and every option `registry-sdk --help` lists."""
    doc = (DOCS / "cli.md").read_text()
    usage = _help(capsys)
    found = re.search(r"\{([a-z,-]+)\}", usage)
    assert found is not None, usage
    commands = found.group(1).split(",")
    assert len(commands) >= 7
    missing = [f"registry-sdk {c}" for c in commands if f"registry-sdk {c} " not in doc]
    for command in commands:
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", _help(capsys, command)))
        missing += [
            f"{command} {o}"
            for o in sorted(options - {"-h", "--help"})
            if not re.search(rf"(?<![\w-]){re.escape(o)}\b", doc)
        ]
    assert not missing, f"docs/cli.md does not mention: {missing}"
