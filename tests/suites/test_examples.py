"""The scripts in examples/ run and print what they promise."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import FIXTURES, ROOT


def test_summary_example() -> None:
    files = sorted(str(p) for p in FIXTURES.glob("*.bin"))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "summary.py"), *files],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    assert any("flash, esp32, flash 4MB, factory 7% full, valid" in line for line in lines)


def test_readme_python_blocks_run() -> None:
    """Every ```python block of README.md runs as written, from the repository root."""
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    for block in blocks:
        result = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr
