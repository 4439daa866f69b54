"""Issue 12, littlefs: no input aborts or hangs the process, damaged filesystems fail verify
and are never written into."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esp_image.errors import FormatError
from esp_image.filesystems import detect, open_volume
from esp_image.filesystems.lfs import mkfs_littlefs

from .lfs_meta import commits, reseal

pytest.importorskip("littlefs")
BLOCK = 4096


def sample() -> bytearray:
    volume = mkfs_littlefs(64 * BLOCK)
    volume.mkdir("/a")
    volume.write("/a/x.py", b"print('x')\n")
    volume.write("/boot.py", b"# boot\n")
    return bytearray(volume.image())


def edit_root(image: bytearray, type3: int, name: bytes | None, new: bytes) -> bytearray:
    """Replace the data of the first tag of ``type3`` (after the entry named ``name``) in the
    newest root block, CRC resealed."""
    out = bytearray(image)
    for n in (1, 0):
        block = out[n * BLOCK:(n + 1) * BLOCK]
        for commit in commits(block):
            hit = False
            for tag in commit:
                if name is not None and tag.type3 in (0x001, 0x002) and \
                        bytes(block[tag.data]) == name:
                    hit = True
                if tag.type3 == type3 and (hit or name is None):
                    block[tag.data] = new
                    reseal(block, commit)
                    out[n * BLOCK:(n + 1) * BLOCK] = block
                    return out
    raise AssertionError("tag not found")


def test_directory_cycle_is_detected_fast_and_quietly(capfd: pytest.CaptureFixture[str]
                                                       ) -> None:
    cyclic = edit_root(sample(), 0x200, b"a", struct.pack("<II", 0, 1))
    start = time.monotonic()
    info = detect(bytes(cyclic))
    assert time.monotonic() - start < 1.0
    assert not info.valid and "cycle" in info.detail
    with pytest.raises(FormatError, match="cycle"):
        open_volume(bytes(cyclic)).walk()
    assert capfd.readouterr().err == ""


def test_directory_named_nul_is_damage() -> None:
    named = edit_root(sample(), 0x002, b"a", b"\0")
    start = time.monotonic()
    info = detect(bytes(named))
    assert time.monotonic() - start < 1.0
    assert not info.valid, info


def test_writes_into_a_cyclic_filesystem_are_refused() -> None:
    cyclic = edit_root(sample(), 0x200, b"a", struct.pack("<II", 0, 1))
    volume = open_volume(bytes(cyclic))
    with pytest.raises(FormatError, match="refusing to change"):
        volume.write("/new.py", b"x")
    assert volume.image() == bytes(cyclic)


def superblock_with(image: bytearray, **fields: int) -> bytearray:
    names = ["version", "block_size", "block_count", "name_max", "file_max", "attr_max"]
    out = bytearray(image)
    for n in (0, 1):
        block = out[n * BLOCK:(n + 1) * BLOCK]
        commit = commits(block)[0]
        inline = next(t for t in commit if t.type3 == 0x201)
        values = list(struct.unpack_from("<6I", block, inline.data.start))
        for key, value in fields.items():
            values[names.index(key)] = value
        struct.pack_into("<6I", block, inline.data.start, *values)
        reseal(block, commit)
        out[n * BLOCK:(n + 1) * BLOCK] = block
    return out


@pytest.mark.parametrize("field", ["attr_max", "file_max", "name_max"])
def test_huge_superblock_limits_do_not_abort(tmp_path: Path, field: str) -> None:
    path = tmp_path / "lfs.bin"
    path.write_bytes(superblock_with(sample(), **{field: 0xFFFFFFF0}))
    # a child interpreter: an abort must fail this test, not kill pytest
    for args in (["info", str(path)], ["verify", str(path)],
                 ["fs", str(path), "ls", "/"],
                 ["fs", str(path), "-o", str(tmp_path / "o.bin"), "put", __file__, "/"]):
        result = subprocess.run([sys.executable, "-m", "esp_image", *args], check=False,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1, 2), (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 1
    assert subprocess.run([sys.executable, "-m", "esp_image", "verify", str(path)],
                          check=False, capture_output=True).returncode == 1


def test_a_crash_in_littlefs_is_an_error_not_an_abort() -> None:
    from esp_image.filesystems.lfs import _isolated

    def crash() -> None:
        import os

        os.abort()
    with pytest.raises(FormatError, match=r"crashed.*SIGABRT"):
        _isolated(crash)
