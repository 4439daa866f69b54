"""read_input: whole files in, limits enforced even when a file grows while it is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from esp_image import io
from esp_image.errors import InputError


def _shrunk_stat(monkeypatch: pytest.MonkeyPatch, path: Path, claimed: int) -> None:
    """Make stat report ``claimed`` bytes for ``path``, as if the file grew after stat."""
    real_stat = os.stat

    def fake(p: str | os.PathLike[str]) -> os.stat_result:
        st = real_stat(p)
        if os.fspath(p) != os.fspath(path):
            return st
        fields = list(st)
        fields[6] = claimed  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", fake)


def test_reads_whole_file(tmp_path: Path) -> None:
    data = os.urandom(70_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert io.read_input(path) == data
    assert io.read_input(path, max_size=len(data)) == data
    assert io.read_input(path, max_size=None) == data


def test_over_limit_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"\xff" * 4097)
    with pytest.raises(InputError, match="larger than the largest flash"):
        io.read_input(path, max_size=4096)


def test_growth_after_stat_is_read_to_the_limit(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * 40
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    _shrunk_stat(monkeypatch, path, 1000)
    assert io.read_input(path, max_size=len(data)) == data
    with pytest.raises(InputError, match="larger than the largest flash"):
        io.read_input(path, max_size=len(data) - 1)
