"""The Python blocks of docs/writing.md run, in order, against the real registry."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_writing_blocks_run(token_stack: tuple[RunningRegistry, TokenServer],
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    reg, _ = token_stack
    auth = base64.b64encode(f"alice:{USERS['alice']}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {reg.address: {"auth": auth}}}))
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_AUTH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    text = (DOCS / "writing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 5
    namespace: dict[str, object] = {}
    for block in blocks:
        code = block.replace('address = "localhost:5000"', f'address = "{reg.address}"')
        exec(compile(code, "docs/writing.md", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "['application/spdx+json']" in out
    assert "skip" in out or "mount" in out
    assert f"{reg.address}/alice/app@sha256:" in out  # the digest to delete instead
