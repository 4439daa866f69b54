"""Issue 12 item 14: a fuzz over littlefs metadata. Tags of every CRC-valid commit (superblock
fields, directory structs, names, tails, move state, CTZ structs) are mutated and the commit
CRC recomputed, so every mutant reaches littlefs. Each must give a result or one
EspImageError within a bounded time, print nothing, and every write the CLI would allow
must leave a filesystem that verifies. The fuzz runs in a child interpreter: an abort in
littlefs fails the test instead of killing pytest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("littlefs")

MUTANTS = 150
SCRIPT = r'''
import json, random, struct, sys, time
sys.path.insert(0, sys.argv[1])
from lfs_meta import commits, metadata_blocks, reseal
from esp_image.errors import EspImageError
from esp_image.filesystems import detect, open_volume
from esp_image.filesystems.lfs import DISK_VERSION_2_1, mkfs_littlefs

BLOCK = 4096
TYPES = [0x001, 0x002, 0x0FF, 0x200, 0x201, 0x202, 0x401, 0x4FF, 0x600, 0x601, 0x7FF]


def base(version):
    volume = mkfs_littlefs(48 * BLOCK, disk_version=version)
    volume.mkdir("/lib/pkg")
    volume.write("/lib/pkg/big.bin", bytes(range(256)) * 40)   # a CTZ list, not inline
    volume.write("/boot.py", b"# boot\n")
    volume.write("/lib/a.py", b"a = 1\n")
    volume.remove("/lib/a.py")
    volume.write("/main.py", b"print('main')\n" * 3)
    # a rename across directories commits move state (gstate) deltas
    import littlefs
    from esp_image.filesystems.lfs import _mount
    fs, ctx = _mount(bytearray(volume.image()), BLOCK, 48, version, volume.limits)
    fs.rename("/main.py", "/lib/main.py")
    fs.unmount()
    return bytearray(ctx.buffer)


def mutate(image, rng):
    blocks = metadata_blocks(image, BLOCK)
    n = rng.choice(blocks)
    block = image[n * BLOCK:(n + 1) * BLOCK]
    found = commits(block)
    commit = rng.choice(found)
    index = rng.randrange(len(commit) - 1) if len(commit) > 1 else 0
    tag = commit[index]
    values = [t.tag for t in commit]
    how = rng.random()
    if how < 0.55 and tag.size not in (0, 0x3FF):
        data = bytearray(block[tag.data])
        at = rng.randrange(0, max(1, len(data) - 3), 1)
        word = rng.choice([0, 1, 2, 3, 0x3FF, 47, 48, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000,
                           0xFFFFFFF0, rng.getrandbits(32), n, 0x100000])
        chunk = struct.pack("<I", word)[:len(data) - at]
        data[at:at + len(chunk)] = chunk
        block[tag.data] = bytes(data)
        what = f"block {n} tag {tag.type3:#x} data +{at} = {word:#x}"
    elif how < 0.8:
        new_id = rng.choice([0, 1, 2, 3, 0x3FE, 0x3FF, rng.randrange(0x400)])
        values[index] = (tag.tag & ~(0x3FF << 10)) | (new_id << 10)
        what = f"block {n} tag {tag.type3:#x} id -> {new_id}"
    elif how < 0.95:
        new_type = rng.choice(TYPES)
        values[index] = (tag.tag & ~(0x7FF << 20)) | (new_type << 20)
        what = f"block {n} tag {tag.type3:#x} type -> {new_type:#x}"
    else:
        at = rng.randrange(BLOCK)
        block[at] ^= 1 << rng.randrange(8)
        image[n * BLOCK:(n + 1) * BLOCK] = block
        return f"block {n} bit flip at {at} (CRC not repaired)"
    reseal(block, commit, values)
    image[n * BLOCK:(n + 1) * BLOCK] = block
    return what


def exercise(data, which):
    """What info/verify and one of the fs writers do; returns the kinds of outcome."""
    info = detect(data)
    outcomes = ["valid" if info.valid else "invalid"]
    try:
        volume = open_volume(data)
        for entry in volume.walk():
            if not entry.is_dir:
                volume.read(entry.path)
    except EspImageError:
        outcomes.append("read-error")
    if not info.valid:
        return outcomes  # the CLI refuses to write into it
    changes = (lambda v: v.write("/new/file.py", b"x" * 700),
               lambda v: v.mkdir("/made"), lambda v: v.remove("/boot.py"))
    for change in changes[which:which + 1]:
        try:
            volume = open_volume(data)
            change(volume)
        except EspImageError:
            outcomes.append("write-refused")
            continue
        after = detect(volume.image())
        assert after.valid, ("a write gave a filesystem that does not verify", after.detail)
        outcomes.append("written")
    return outcomes


rng = random.Random(12)
bases = [base(0x00020000), base(DISK_VERSION_2_1)]
counts, slowest = {}, 0.0
for i in range(int(sys.argv[2])):
    image = bytearray(bases[i % 2])
    what = mutate(image, rng)
    start = time.monotonic()
    try:
        outcomes = exercise(bytes(image), i % 3)
    except EspImageError as exc:
        outcomes = ["error"]
    except AssertionError as exc:
        print(json.dumps({"failed": what, "why": str(exc)}))
        sys.exit(1)
    except Exception as exc:
        print(json.dumps({"failed": what, "why": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
    slowest = max(slowest, time.monotonic() - start)
    for o in outcomes:
        counts[o] = counts.get(o, 0) + 1
print(json.dumps({"counts": counts, "slowest": slowest}))
'''


def test_littlefs_metadata_fuzz_never_aborts_hangs_or_writes_damage(tmp_path: Path) -> None:
    script = tmp_path / "fuzz.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(Path(__file__).parent),
                             str(MUTANTS)], capture_output=True, text=True, check=False,
                            timeout=600)
    assert result.returncode == 0, (result.returncode, result.stdout[-2000:],
                                    result.stderr[-2000:])
    assert result.stderr == ""  # no "Exception ignored" from littlefs-python's callbacks
    report = json.loads(result.stdout.splitlines()[-1])
    counts = report["counts"]
    # the mutants reach littlefs: some still work, some are refused as damaged
    assert counts.get("invalid", 0) > 10 and counts.get("written", 0) > 30, counts
    assert report["slowest"] < 12, report
