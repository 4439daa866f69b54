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


# ---------------------------------------------------------------------- firmware with a vfs
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VFS_FILE_OFFSET = 0x200000 - 0x1000
VFS_SIZE = 0x200000


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], check=False,
                          capture_output=True, text=True, timeout=120)


def firmware_with(vfs: bytes) -> bytes:
    base = (FIXTURES / "firmware-esp32-4MB.bin").read_bytes()
    return base + b"\xff" * (VFS_FILE_OFFSET - len(base)) + vfs


def vfs_sample() -> bytearray:
    volume = mkfs_littlefs(VFS_SIZE)
    volume.mkdir("/a")
    volume.write("/a/x.py", b"print('x')\n")
    volume.write("/boot.py", b"# boot\n")
    return bytearray(volume.image())


def cyclic_vfs() -> bytes:
    return bytes(edit_root(vfs_sample(), 0x200, b"a", struct.pack("<II", 0, 1)))


def test_verify_fails_a_firmware_whose_littlefs_has_a_cycle(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(firmware_with(cyclic_vfs()))
    start = time.monotonic()
    result = cli("verify", str(path))
    assert time.monotonic() - start < 10
    assert result.returncode == 1 and "filesystem" in result.stdout and "cycle" in result.stdout
    assert result.stderr == ""
    doc = __import__("json").loads(cli("verify", "--json", str(path)).stdout)
    assert any(c["name"] == "filesystem" and not c["valid"] for c in doc["checks"])
    good = tmp_path / "good.bin"
    good.write_bytes(firmware_with(bytes(vfs_sample())))
    assert cli("verify", str(good)).returncode == 0


@pytest.mark.parametrize("command", [["put", __file__, "/"], ["rm", "/boot.py"],
                                     ["mkdir", "/lib"]])
def test_fs_writes_into_a_damaged_filesystem_are_refused(tmp_path: Path, command: list[str]
                                                          ) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(firmware_with(cyclic_vfs()))
    out = tmp_path / "out.bin"
    result = cli("fs", str(path), "-o", str(out), *command)
    assert result.returncode == 1, result.stderr
    assert "damaged" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not out.exists()


def test_fs_put_into_a_damaged_bare_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vfs.bin"
    path.write_bytes(cyclic_vfs())
    result = cli("fs", str(path), "-o", str(tmp_path / "o.bin"), "put", __file__, "/")
    assert result.returncode == 1 and "damaged" in result.stderr


def test_retable_refuses_to_drop_a_damaged_filesystem(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(firmware_with(cyclic_vfs()))
    out = tmp_path / "out.bin"
    refused = cli("retable", "-f", "8MB", "--table", "ota", str(path), "-o", str(out))
    assert refused.returncode == 1 and "vfs" in refused.stderr and "cycle" in refused.stderr
    assert not out.exists()
    erased = cli("retable", "-f", "8MB", "--table", "ota", "--erase-fs", str(path),
                 "-o", str(out))
    assert erased.returncode == 0, erased.stderr
    assert "vfs: its littlefs filesystem was erased (--erase-fs)" in erased.stdout
    assert cli("verify", str(out)).returncode == 0


def test_retable_refuses_to_drop_unreadable_data_in_vfs(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(firmware_with(bytes(range(256)) * 16))
    out = tmp_path / "out.bin"
    # --table ota moves vfs (to 0x410000): its bytes would be lost
    refused = cli("retable", "-f", "8MB", "--table", "ota", str(path), "-o", str(out))
    assert refused.returncode == 1 and "--erase-fs" in refused.stderr, refused.stderr
    assert not out.exists()
    erased = cli("retable", "-f", "8MB", "--table", "ota", "--erase-fs", str(path),
                 "-o", str(out))
    assert erased.returncode == 0 and "vfs: its data was erased (--erase-fs)" in erased.stdout
    # grown in place, the same bytes are kept (nothing dropped): no refusal
    kept = cli("retable", "-f", "8MB", "--resize", "vfs=3MB", str(path), "-o",
               str(tmp_path / "kept.bin"))
    assert kept.returncode == 0, kept.stderr


def test_fs_put_skips_symlinks_in_a_directory(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the tree\n")
    tree = tmp_path / "lib"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.py").write_text("a = 1\n")
    (tree / "leak.txt").symlink_to(secret)
    (tree / "up").symlink_to(tmp_path, target_is_directory=True)
    image = tmp_path / "vfs.bin"
    image.write_bytes(bytes(vfs_sample()))
    out = tmp_path / "out.bin"
    result = cli("fs", str(image), "-o", str(out), "put", str(tree), "/")
    assert result.returncode == 0, result.stderr
    assert "skipped /lib/leak.txt: a symbolic link" in result.stdout
    assert "skipped /lib/up: a symbolic link" in result.stdout
    listing = cli("fs", str(out), "ls", "/lib").stdout
    assert "a.py" in listing and "leak.txt" not in listing and "up" not in listing


def renamed_sample() -> bytearray:
    """A sample whose commits hold move state (gstate) from a rename across directories."""
    from esp_image.filesystems.lfs import _mount

    volume = mkfs_littlefs(64 * BLOCK)
    volume.mkdir("/lib")
    volume.write("/main.py", b"print('main')\n")
    volume.write("/boot.py", b"# boot\n")
    fs, ctx = _mount(bytearray(volume.image()), BLOCK, 64, volume.disk_version, volume.limits)
    fs.rename("/main.py", "/lib/main.py")
    fs.unmount()
    return bytearray(ctx.buffer)


def every_tag(image: bytearray, type3: int, value: bytes) -> bytearray:
    """Every tag of ``type3`` in every metadata block given ``value`` (CRC resealed)."""
    out = bytearray(image)
    for n in range(len(out) // BLOCK):
        block = out[n * BLOCK:(n + 1) * BLOCK]
        for commit in commits(block):
            for tag in commit:
                if tag.type3 == type3 and tag.data.stop - tag.data.start >= len(value):
                    block[tag.data.start:tag.data.start + len(value)] = value
            reseal(block, commit)
        out[n * BLOCK:(n + 1) * BLOCK] = block
    return out


DAMAGED = {
    "move state": lambda: every_tag(renamed_sample(), 0x7FF, struct.pack("<III", 1, 2, 3)),
    "move state to nowhere": lambda: every_tag(renamed_sample(), 0x7FF,
                                               struct.pack("<III", 0x4FF003FF, 60, 61)),
    "tail to the root": lambda: every_tag(renamed_sample(), 0x600, struct.pack("<II", 0, 1)),
    "tail past the end": lambda: every_tag(renamed_sample(), 0x600,
                                           struct.pack("<II", 0xFFFF, 0x10000)),
    "struct past the end": lambda: every_tag(renamed_sample(), 0x200,
                                             struct.pack("<II", 5000, 5001)),
    "block count": lambda: superblock_with(renamed_sample(), block_count=70),
    "cycle": lambda: edit_root(sample(), 0x200, b"a", struct.pack("<II", 0, 1)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_fs_writers_on_damaged_filesystems_refuse_or_write_what_verifies(
        tmp_path: Path, damage: str) -> None:
    path = tmp_path / "vfs.bin"
    path.write_bytes(bytes(DAMAGED[damage]()))
    for n, command in enumerate((["put", __file__, "/lib/"], ["rm", "/boot.py"],
                                 ["mkdir", "/new"])):
        out = tmp_path / f"out{n}.bin"
        result = cli("fs", str(path), "-o", str(out), *command)
        assert result.returncode in (0, 1), (command, result.stderr)
        assert len(result.stderr.splitlines()) <= 1 and "Traceback" not in result.stderr
        if result.returncode == 0:
            assert cli("verify", str(out)).returncode == 0, (damage, command)
        else:
            assert not out.exists() and "damaged" in result.stderr
