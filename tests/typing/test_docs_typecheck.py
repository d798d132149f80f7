"""Every ```python block of README.md and docs/ type-checks under `mypy --strict`.

The blocks of one file are concatenated in order (later blocks see earlier names, as
tests/integration/test_docs_examples.py runs the quickstart) and checked as one module; a
block written as a doctest session (`>>>`) is checked as its source lines. A block that
is a deliberate fragment is skipped only when the line right before its fence is
`<!-- not-checked: REASON -->`; such exceptions are few and each says why.

mypy's messages are reported against the Markdown file and line. A planted block with a
wrong type goes through the same run, so this check is seen to fail.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python\s*$")
NOT_CHECKED = re.compile(r"^<!--\s*not-checked:\s*(?P<reason>.*?)\s*-->\s*$")
#: At most this many blocks may opt out; raising it needs a reason in review.
MAX_NOT_CHECKED = 3
PLANTED = "from registry_sdk import Repository\n\nrepo = Repository.parse(1234)\n"


@attrs.frozen
class Block:
    """One fenced block: its file, the line of its first source line, its source."""

    path: Path
    line: int
    source: str
    checked: bool


def doc_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The ```python blocks of *path*, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if not FENCE.match(lines[i]):
            i += 1
            continue
        marker = NOT_CHECKED.match(lines[i - 1]) if i else None
        if marker is not None and not marker["reason"]:
            pytest.fail(f"{path}:{i}: a not-checked marker needs a reason")
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            pytest.fail(f"{path}:{i + 1}: unterminated ```python block")
        out.append(Block(path, i + 2, "\n".join(lines[i + 1 : end]) + "\n", marker is None))
        i = end + 1
    return out


def as_python(block: Block) -> list[tuple[int, str]]:
    """(Markdown line, Python line) pairs for *block*; a doctest becomes its source."""
    if not block.source.lstrip().startswith(">>>"):
        return [(block.line + n, text) for n, text in enumerate(block.source.splitlines())]
    out: list[tuple[int, str]] = []
    for example in doctest.DocTestParser().get_examples(block.source):
        for n, text in enumerate(example.source.splitlines()):
            out.append((block.line + example.lineno + n, text))
    return out


def module_for(path: Path, blocks: list[Block]) -> tuple[str, list[int]]:
    """The module checked for *path*, and the Markdown line of each of its lines."""
    lines, origin = [], []
    for block in blocks:
        if not block.checked:
            continue
        for md_line, text in as_python(block):
            lines.append(text)
            origin.append(md_line)
    return "\n".join(lines) + "\n", origin


@attrs.frozen
class Run:
    """mypy's messages per Markdown file (relative path), and the blocks found."""

    messages: dict[str, list[str]]
    blocks: dict[str, list[Block]]


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One mypy --strict run over every file's blocks, plus the planted wrong block."""
    tmp = tmp_path_factory.mktemp("docs_typecheck")
    modules: dict[Path, tuple[str, list[int]]] = {}
    all_blocks: dict[str, list[Block]] = {}
    sources = [(p, blocks_of(p)) for p in doc_files()]
    sources.append((ROOT / "planted.md", [Block(ROOT / "planted.md", 1, PLANTED, True)]))
    for n, (path, blocks) in enumerate(sources):
        rel = str(path.relative_to(ROOT))
        all_blocks[rel] = blocks
        if any(b.checked for b in blocks):
            target = tmp / f"doc_{n}_{re.sub(r'[^0-9A-Za-z]', '_', path.stem)}.py"
            text, origin = module_for(path, blocks)
            target.write_text(text, encoding="utf-8")
            modules[target] = (rel, origin)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp / ".mypy_cache"),
            *map(str, modules),
        ],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1) or proc.stderr.strip():
        pytest.fail(f"mypy did not run: {proc.returncode}\n{proc.stderr}{proc.stdout}")
    by_name = {p.name: v for p, v in modules.items()}
    messages: dict[str, list[str]] = {rel: [] for rel, _ in modules.values()}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(?:.*[/\\])?(?P<file>[^/\\:]+\.py):(?P<line>\d+): (?P<rest>.*)$", line)
        if match is None or match["file"] not in by_name:
            pytest.fail(f"unexpected mypy output: {line}\n{proc.stdout}")
        rel, origin = by_name[match["file"]]
        messages[rel].append(f"{rel}:{origin[int(match['line']) - 1]}: {match['rest']}")
    return Run(messages, all_blocks)


def test_docs_python_blocks_typecheck(mypy_run: Run) -> None:
    """No mypy --strict message for any checked block of README.md or docs/."""
    found = {rel: msgs for rel, msgs in mypy_run.messages.items() if rel != "planted.md" and msgs}
    assert not found, "mypy --strict on the docs' python blocks:\n" + "\n".join(
        m for msgs in found.values() for m in msgs
    )


def test_the_check_sees_the_blocks(mypy_run: Run) -> None:
    """The extraction finds the blocks it should; opting out stays rare."""
    blocks = mypy_run.blocks
    assert len([b for b in blocks["README.md"] if b.checked]) >= 2
    assert len([b for b in blocks["docs/quickstart.md"] if b.checked]) >= 5
    assert any(b.source.lstrip().startswith(">>>") for b in blocks["docs/references.md"])
    skipped = [
        f"{b.path.relative_to(ROOT)}:{b.line}"
        for bs in blocks.values()
        for b in bs
        if not b.checked
    ]
    assert len(skipped) <= MAX_NOT_CHECKED, skipped


def test_the_check_can_fail(mypy_run: Run) -> None:
    """The planted block (a reference parsed from an int) is reported, at its line."""
    messages = mypy_run.messages["planted.md"]
    assert any(m.startswith("planted.md:3: error:") and "arg-type" in m for m in messages), messages


def test_doctest_blocks_map_to_their_lines() -> None:
    """A doctest block becomes its source lines, each mapped to its Markdown line."""
    block = Block(ROOT / "x.md", 10, ">>> a = 1\n>>> b = (a +\n...      2)\n3\n", True)
    assert as_python(block) == [(10, "a = 1"), (11, "b = (a +"), (12, "     2)")]


def test_a_marked_block_is_skipped_and_a_bare_marker_refused(tmp_path: Path) -> None:
    """`<!-- not-checked: why -->` right before a fence skips it; no reason, no skip."""
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- not-checked: a fragment -->\n```python\nx: int = 'a'\n```\n\n```python\ny = 1\n```\n"
    )
    assert [(b.line, b.checked) for b in blocks_of(doc)] == [(3, False), (7, True)]
    doc.write_text("<!-- not-checked: -->\n```python\nx = 1\n```\n")
    with pytest.raises(pytest.fail.Exception, match="needs a reason"):
        blocks_of(doc)
