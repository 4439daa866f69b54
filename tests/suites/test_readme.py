"""README.md's examples are true and self-contained (issue 12, item 24): every console block's
output is what the command prints today on the project's fixtures, and no document points
outside the repository."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ..conftest import FIXTURES, ROOT

TOOL = FIXTURES / "_tools" / "readme_blocks.py"
DOCS = [ROOT / "README.md", ROOT / "JSON.md", ROOT / "GUARANTEES.md", FIXTURES / "README.md",
        *sorted((ROOT / "examples").glob("*/README.md"))]


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_blocks", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_console_blocks_match_a_fresh_run() -> None:
    pytest.importorskip("littlefs")
    result = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True,
                            check=False, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_a_stale_block_is_found_and_rewritten(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    stale = ("text\n\n```console\n$ esp-image --version\nesp-image 0.0.0\n\n"
             "$ echo made > made.txt && cat made.txt\nold\n```\n\n```sh\n$ not run\n```\n")
    readme.write_text(stale)
    check = subprocess.run([sys.executable, str(TOOL), str(readme)], capture_output=True,
                           text=True, check=False)
    assert check.returncode == 1
    assert "-esp-image 0.0.0" in check.stdout and "+made" in check.stdout
    subprocess.run([sys.executable, str(TOOL), "--write", str(readme)], check=True,
                   capture_output=True)
    version = tool().run_command("esp-image --version", tmp_path)
    assert readme.read_text() == stale.replace("esp-image 0.0.0", version).replace(
        "old\n", "made\n")
    assert not (tmp_path / "made.txt").exists(), "commands run in a scratch folder"


def test_block_parser_keeps_the_author_spacing() -> None:
    body = "$ a\nout\n\n$ b\n$ c\nmore\n"
    assert tool().parse_block(body) == [("a", True), ("b", False), ("c", False)]


def test_set_up_section_keeps_the_two_ci_lines() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert len([line for line in section.splitlines()
                if line.startswith("python3 -m venv")]) == 2


def test_install_section_names_every_way_to_install() -> None:
    text = (ROOT / "README.md").read_text()
    for line in ("pipx install esp-image", "pip install esp-image", "pip install ."):
        assert line in text, line


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_link_leaves_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#]+)[^)]*\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name}: {target} is outside the repository"
        assert path.exists(), f"{doc.name}: {target} does not exist"
