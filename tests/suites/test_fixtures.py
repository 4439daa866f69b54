"""The committed fixtures are exactly what their generator script writes."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import FIXTURES


def test_fixtures_are_reproducible() -> None:
    script = FIXTURES / "_tools" / "make_fixtures.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_fixture_is_documented() -> None:
    readme = (FIXTURES / "README.md").read_text()
    for path in FIXTURES.glob("*.bin"):
        assert f"`{path.name}`" in readme, path.name
