"""The Python blocks of docs/writing.md run, in order, against the real registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_docs_examples import doc_blocks
from tests.support.registry import RunningRegistry
from tests.support.token_server import TokenServer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_writing_blocks_run(
    token_stack: tuple[RunningRegistry, TokenServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reg, _ = token_stack
    blocks = doc_blocks("writing.md", reg, tmp_path, monkeypatch)
    assert len(blocks) == 5
    namespace: dict[str, object] = {}
    for block in blocks:
        code = block.replace('address = "localhost:5000"', f'address = "{reg.address}"')
        exec(compile(code, "docs/writing.md", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "['application/spdx+json']" in out
    assert "skip" in out or "mount" in out
    assert f"{reg.address}/alice/app@sha256:" in out  # the digest to delete instead
